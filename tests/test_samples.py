"""The samples store (digits/samples): SQLite rows of labelled drawings, safe with two writers,
a damaged file refused and kept, and the exports read back by the project's own readers."""
import multiprocessing
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digits.constants import SIDE
from digits.data.idx import read_idx
from digits.data.kaggle_csv import read_train_csv
from digits.samples import SampleStore, SamplesError, default_path
from digits.samples.exports import GAP, LABEL_WIDTH, THUMB_ZOOM

SEVEN = [[(60, 40), (260, 40), (150, 250)]]


def add_some(store, labels, seed=0):
    """Add one random sample per label; returns the uint8 inputs in the order added."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(len(labels), SIDE * SIDE), dtype=np.uint8)
    for label, image in zip(labels, images):
        store.add(label, SEVEN, 350, 290, image, network="CNN test", answer=(label + 1) % 10)
    return images


def test_samples_round_trip(tmp_path):
    store = SampleStore(tmp_path / "s.sqlite")
    assert store.count() == 0
    images = add_some(store, [3, 1, 3])
    floats = np.linspace(0, 1, SIDE * SIDE).reshape(SIDE, SIDE)
    store.add(9, [[(1.5, 2), (3, 4)]], 400, 300, floats, network="MLP", answer=4, source="confirmed")
    assert store.count() == 4
    assert store.counts_by_label() == {0: 0, 1: 1, 2: 0, 3: 2, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 1}
    got, labels = store.images_and_labels()
    assert got.dtype == np.uint8 and got.shape == (4, 784)
    np.testing.assert_array_equal(got[:3], images)
    np.testing.assert_array_equal(got[3], np.round(floats.ravel() * 255))
    assert labels.tolist() == [3, 1, 3, 9]
    last = store.rows()[-1]
    assert last["strokes"] == [[[1.5, 2], [3, 4]]] and (last["width"], last["height"]) == (400, 300)
    assert (last["network"], last["answer"], last["source"]) == ("MLP", 4, "confirmed")
    assert last["created"].endswith("+00:00")       # UTC
    # A second store on the same file sees the same rows.
    assert SampleStore(tmp_path / "s.sqlite").count() == 4


@pytest.mark.parametrize("change, words", [
    (dict(label=10), "label must be a digit"),
    (dict(label=True), "label must be a digit"),
    (dict(strokes=[]), "at least one point"),
    (dict(strokes=[[(1, float("nan"))]]), "finite"),
    (dict(strokes="12"), "list of strokes"),
    (dict(width=0), "width"),
    (dict(image=np.zeros((27, 28))), "784 pixels"),
    (dict(image=np.full((28, 28), 2.0)), "[0, 1]"),
    (dict(source="guess"), "source"),
])
def test_bad_samples_are_refused_and_not_stored(tmp_path, change, words):
    store = SampleStore(tmp_path / "s.sqlite")
    sample = dict(label=3, strokes=SEVEN, width=350, height=290, image=np.zeros((28, 28)))
    sample.update(change)
    with pytest.raises(SamplesError, match=None) as e:
        store.add(**sample)
    assert words in str(e.value) and "\n" not in str(e.value)
    assert store.count() == 0


def test_a_damaged_file_is_refused_in_one_line_and_kept(tmp_path):
    path = tmp_path / "s.sqlite"
    SampleStore(path).add(3, SEVEN, 350, 290, np.zeros(784))
    damaged = b"this is not an SQLite database, just some text a user saved here\n" * 100
    path.write_bytes(damaged)
    for extra in tmp_path.glob("s.sqlite-*"):
        extra.unlink()
    with pytest.raises(SamplesError) as e:
        SampleStore(path)
    message = str(e.value)
    assert "damaged or not a samples database" in message and str(path) in message and "\n" not in message
    assert path.read_bytes() == damaged             # never repaired, emptied or deleted


def test_a_database_of_something_else_is_not_touched(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    with pytest.raises(SamplesError, match="database of something else"):
        SampleStore(path)
    assert path.read_bytes() == before


def _writer(path, first_label, n, queue, start):
    try:
        store = SampleStore(path)
        start.wait(timeout=60)                  # both write at the same moment
        add_some(store, [(first_label + i) % 10 for i in range(n)], seed=first_label)
        queue.put("ok")
    except Exception as e:     # reported to the test, which fails with it
        queue.put(repr(e))


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "s.sqlite")
    SampleStore(path)
    context = multiprocessing.get_context("spawn")
    queue, start = context.Queue(), context.Barrier(2)
    writers = [context.Process(target=_writer, args=(path, first, 60, queue, start)) for first in (0, 5)]
    for w in writers:
        w.start()
    results = [queue.get(timeout=120) for _ in writers]
    for w in writers:
        w.join(timeout=30)
    assert results == ["ok", "ok"]
    store = SampleStore(path)
    assert store.count() == 120
    assert sum(store.counts_by_label().values()) == 120
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_default_path_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_path() == str(tmp_path / "digits" / "samples.sqlite")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == str(tmp_path / "home" / ".local" / "share" / "digits" / "samples.sqlite")
    store = SampleStore()                           # the folder is made
    assert store.path == default_path() and store.count() == 0


@pytest.mark.parametrize("compress", [True, False])
def test_idx_export_reads_back(tmp_path, compress):
    store = SampleStore(tmp_path / "s.sqlite")
    images = add_some(store, [4, 0, 9])
    paths = store.export_idx(tmp_path / "out", compress=compress)
    assert all(str(p).endswith(".gz") == compress for p in paths)
    np.testing.assert_array_equal(read_idx(paths[0]), images.reshape(3, SIDE, SIDE))
    assert read_idx(paths[1]).tolist() == [4, 0, 9]


def test_csv_export_reads_back(tmp_path):
    store = SampleStore(tmp_path / "s.sqlite")
    images = add_some(store, [2, 7])
    X, y = read_train_csv(store.export_csv(tmp_path / "train.csv"))
    np.testing.assert_array_equal(X, images)
    assert y.tolist() == [2, 7]


def test_thumbnails_put_each_sample_in_its_digits_row(tmp_path):
    store = SampleStore(tmp_path / "s.sqlite")
    full = np.full(784, 255, dtype=np.uint8)        # all ink: a black square on the page
    store.add(3, SEVEN, 350, 290, full)
    store.add(3, SEVEN, 350, 290, full)
    page = np.asarray(Image.open(store.thumbnails(tmp_path / "page.png")))
    side = SIDE * THUMB_ZOOM
    def cell(digit, i):
        top, left = GAP + digit * (side + GAP), LABEL_WIDTH + i * (side + GAP)
        return page[top + 2:top + side - 2, left + 2:left + side - 2]
    assert (cell(3, 0) == 0).all() and (cell(3, 1) == 0).all()
    assert (cell(3, 2) == 255).all()                # only two of them
    assert all((cell(d, 0) == 255).all() for d in range(10) if d != 3)


def test_exports_of_an_empty_store_say_what_to_do(tmp_path):
    store = SampleStore(tmp_path / "s.sqlite")
    with pytest.raises(SamplesError, match="no samples .* yet: correct or confirm"):
        store.export_csv(tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def _command(*args):
    return subprocess.run([sys.executable, "-m", "digits.samples", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_command_exports_everything(tmp_path):
    path = tmp_path / "s.sqlite"
    add_some(SampleStore(path), [1, 1, 8])
    done = _command("--samples", path, "count")
    assert done.returncode == 0 and "3 samples" in done.stdout and "1: 2" in done.stdout and "8: 1" in done.stdout
    assert f"--fine-tune weights/pretrained/committee --samples {path} " in done.stdout     # what to do next
    done = _command("--samples", path, "export", "--idx", tmp_path / "idx", "--csv", tmp_path / "t.csv",
                    "--picture", tmp_path / "p.png")
    assert done.returncode == 0, done.stderr
    assert read_idx(tmp_path / "idx" / "samples-labels-idx1-ubyte.gz").tolist() == [1, 1, 8]
    assert read_train_csv(tmp_path / "t.csv")[1].tolist() == [1, 1, 8]
    assert Image.open(tmp_path / "p.png").format == "PNG"


@pytest.mark.parametrize("content, words", [
    (None, "no samples file at"),
    (b"garbage" * 200, "damaged or not a samples database"),
])
def test_command_errors_are_one_line(tmp_path, content, words):
    path = tmp_path / "s.sqlite"
    if content is not None:
        path.write_bytes(content)
    done = _command("--samples", path, "export", "--csv", tmp_path / "t.csv")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and words in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "t.csv").exists()
    if content is not None:
        assert path.read_bytes() == content
    else:
        assert not path.exists()
