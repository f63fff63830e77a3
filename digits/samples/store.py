"""The samples store: labelled drawings of this user's handwriting, in one SQLite file.

When a reading is wrong the user says what the digit was ("correction"), or says that it
was right ("confirmed"); either way the drawing is kept as one row:

| column | what |
|---|---|
| `label` | the digit it really is, 0..9 |
| `strokes` | JSON: a list of strokes, each a list of [x, y] canvas pixels |
| `width`, `height` | the canvas size the strokes were drawn on |
| `image` | the 28x28 input the network read: 784 bytes, row-major, light ink on dark (0..255) |
| `created` | when, UTC ISO 8601 |
| `network`, `answer` | which network read it (its description) and what it answered |
| `source` | "correction" or "confirmed" |

Writing is safe with two apps open at once: the file is in WAL mode with a busy timeout, and
every sample is its own transaction. A file that is not a samples database (or a damaged one)
raises `SamplesError` with one line, and is never deleted, repaired or overwritten.
"""
import contextlib
import json
import math
import os
import sqlite3
from datetime import datetime, timezone

import numpy as np

from digits.constants import NUM_LABELS, PIXEL_MAX, PIXELS
from digits.errors import SamplesError
from digits.samples import exports

SOURCES = ("correction", "confirmed")
BUSY_TIMEOUT_S = 10         # how long a write waits for another app's write to finish
SCHEMA_VERSION = 1
COLUMNS = ("id", "label", "strokes", "width", "height", "image", "created", "network", "answer", "source")
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND {NUM_LABELS - 1}),
    strokes TEXT NOT NULL,
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    image BLOB NOT NULL CHECK (length(image) = {PIXELS}),
    created TEXT NOT NULL,
    network TEXT,
    answer INTEGER,
    source TEXT NOT NULL CHECK (source IN {SOURCES!r})
)"""


def default_path():
    """Where the apps keep samples unless told otherwise:
    $XDG_DATA_HOME/digits/samples.sqlite, else ~/.local/share/digits/samples.sqlite."""
    base = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(base):         # the XDG spec: a relative value is to be ignored
        base = os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "digits", "samples.sqlite")


class SampleStore:
    """The samples in one SQLite file (`path`, default `default_path()`), made when first used.

    Each call opens its own connection, so one store may be used from several threads (the web
    server's) and several processes (two apps) at once.
    """

    def __init__(self, path=None):
        self.path = os.path.abspath(os.fspath(path or default_path()))
        if os.path.isdir(self.path):
            raise SamplesError(f"the samples file {self.path} is a folder; give a file name")
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise SamplesError(f"cannot make the folder {folder} for the samples file: "
                               f"{e.strerror or e}; give --samples a file in a folder you can write to") from None
        with self._connect() as db:
            self._check_or_create(db)

    # Writing ---------------------------------------------------------------------------------

    def add(self, label, strokes, width, height, image, network=None, answer=None, source="correction"):
        """Keep one labelled drawing (one transaction); returns its row id.

        label: the digit 0..9 it is. strokes: sequences of (x, y) canvas pixels, drawn on a
        width x height canvas. image: the 28x28 input the network read, floats in [0, 1] or
        uint8 0..255, shape (28, 28) or (784,). network, answer: which network read it and what
        it said. source: "correction" or "confirmed". SamplesError when any of it is unusable.
        """
        row = (_check_label(label), json.dumps(_check_strokes(strokes)), _check_size(width, "width"),
               _check_size(height, "height"), _image_bytes(image),
               datetime.now(timezone.utc).isoformat(timespec="seconds"),
               None if network is None else str(network),
               None if answer is None else _check_label(answer, "the answer"), _check_source(source))
        with self._connect() as db, db:     # the second `db`: one transaction, committed or rolled back
            return db.execute("INSERT INTO samples (label, strokes, width, height, image, created, "
                              "network, answer, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row).lastrowid

    # Reading ---------------------------------------------------------------------------------

    def count(self):
        """How many samples there are."""
        with self._connect() as db:
            return db.execute("SELECT count(*) FROM samples").fetchone()[0]

    def counts_by_label(self):
        """{digit: number of samples} for all ten digits (0 where there are none)."""
        counts = dict.fromkeys(range(NUM_LABELS), 0)
        with self._connect() as db:
            counts.update(db.execute("SELECT label, count(*) FROM samples GROUP BY label").fetchall())
        return counts

    def images_and_labels(self):
        """All samples, oldest first: (uint8 (n, 784) inputs, int64 (n,) labels)."""
        with self._connect() as db:
            rows = db.execute("SELECT image, label FROM samples ORDER BY id").fetchall()
        images = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.uint8).reshape(len(rows), PIXELS)
        return images.copy(), np.array([r[1] for r in rows], dtype=np.int64)

    def rows(self):
        """Every sample as a dict of the columns (strokes decoded), oldest first."""
        with self._connect() as db:
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM samples ORDER BY id").fetchall()
        return [dict(zip(COLUMNS, r), strokes=json.loads(r[2])) for r in rows]

    # Writing them out (digits/samples/exports.py) ------------------------------------------

    def export_idx(self, folder, compress=True):
        """MNIST IDX files of the samples in `folder`; returns their two paths."""
        return exports.export_idx(*self._collected(), folder, compress)

    def export_csv(self, path):
        """A Kaggle-style train.csv of the samples at `path`."""
        return exports.export_csv(*self._collected(), path)

    def thumbnails(self, path):
        """A PNG page of the samples at `path`, one row per digit."""
        return exports.thumbnails(*self._collected(), path)

    def _collected(self):
        images, labels = self.images_and_labels()
        if len(labels) == 0:
            raise SamplesError(f"no samples in {self.path} yet: correct or confirm a reading in "
                               "gui.py or on the page (web.py --samples) first")
        return images, labels

    # The file --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self):
        """A connection to the file; every SQLite error inside becomes one SamplesError line."""
        db = None
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
            yield db
        except sqlite3.Error as e:
            raise SamplesError(self._explain(e)) from None
        finally:
            if db is not None:
                db.close()

    def _explain(self, error):
        text = str(error)
        if "locked" in text or "busy" in text:
            return (f"the samples file {self.path} stayed busy for {BUSY_TIMEOUT_S} s (another app is "
                    "writing to it); try again")
        if "unable to open" in text or "readonly" in text or "read-only" in text:
            return (f"cannot write the samples file {self.path} ({text}); "
                    "give --samples a file in a folder you can write to")
        return (f"the samples file {self.path} is damaged or not a samples database ({text}); it was left "
                "as it is: move it away, or give --samples another file, to start a new one")

    def _check_or_create(self, db):
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "samples" not in tables:
            raise SamplesError(f"{self.path} is an SQLite database of something else (tables: "
                               f"{', '.join(sorted(tables))}), not a samples file; give --samples another file")
        if "samples" in tables:
            found = tuple(r[1] for r in db.execute("PRAGMA table_info(samples)"))
            if found != COLUMNS:
                raise SamplesError(f"{self.path} has a samples table with other columns than a samples "
                                   "file's; give --samples another file")
            return
        db.execute("PRAGMA journal_mode = WAL")     # readers never block the writer; two apps can write
        with db:
            db.execute(SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


# Checking what is stored ---------------------------------------------------------------------

def _check_label(label, what="the label"):
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < NUM_LABELS:
        raise SamplesError(f"{what} must be a digit 0..{NUM_LABELS - 1}, got {label!r}")
    return int(label)


def _check_size(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise SamplesError(f"the canvas {what} must be a whole number of pixels > 0, got {value!r}")
    return int(value)


def _check_source(source):
    if source not in SOURCES:
        raise SamplesError(f"the source must be one of {', '.join(SOURCES)}, got {source!r}")
    return source


def _check_strokes(strokes):
    """Strokes as plain lists of [x, y] numbers (JSON-ready); SamplesError if they are not."""
    try:
        points = [[[float(x), float(y)] for x, y in stroke] for stroke in strokes]
    except (TypeError, ValueError):
        raise SamplesError("the strokes must be a list of strokes, each a list of [x, y] points") from None
    if not any(points) or not all(math.isfinite(v) for s in points for p in s for v in p):
        raise SamplesError("the strokes must hold at least one point, and only finite numbers")
    return [[[int(x) if x.is_integer() else x, int(y) if y.is_integer() else y] for x, y in s] for s in points]


def _image_bytes(image):
    """The 28x28 input as 784 bytes 0..255: from floats in [0, 1] or from uint8."""
    image = np.asarray(image)
    if image.size != PIXELS:
        raise SamplesError(f"the input picture must have {PIXELS} pixels (28x28), got shape {image.shape}")
    if image.dtype != np.uint8:
        image = image.astype(np.float64)
        if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 1:
            raise SamplesError("the input picture must hold values in [0, 1] (or bytes 0..255)")
        image = np.round(image * PIXEL_MAX).astype(np.uint8)
    return image.reshape(PIXELS).tobytes()
