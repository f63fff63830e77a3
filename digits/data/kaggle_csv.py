"""Reading and writing the CSV files of Kaggle's "Digit Recognizer" competition.

train.csv: header `label,pixel0,...,pixel783`, then one image a line: its digit, then 784
grey levels 0..255 (row-major 28x28, light ink on dark, as MNIST). test.csv: the same
without the label column. A submission: header `ImageId,Label`, one line per test image,
ImageId counting from 1.

Reading parses the whole file with numpy (under a second for the 73 MB train.csv); only
when that fails does it go through the file line by line to name the first bad line.
"""
import re
import warnings

import numpy as np

from digits.constants import NUM_LABELS, PIXELS
from digits.errors import DataError
from digits.files import NotRegularFileError, atomic_write, open_regular

PIXEL_COLUMNS = tuple(f"pixel{i}" for i in range(PIXELS))
TRAIN_HEADER = ("label",) + PIXEL_COLUMNS
TEST_HEADER = PIXEL_COLUMNS
SUBMISSION_HEADER = "ImageId,Label"


def read_train_csv(path):
    """Images and labels of a Kaggle train.csv: (X uint8 (m, 784), y int64 (m,)).

    Raises DataError naming the file and line when it is missing, empty or malformed.
    """
    table = _read_table(path, TRAIN_HEADER, "train.csv")
    return np.ascontiguousarray(table[:, 1:], dtype=np.uint8), table[:, 0].astype(np.int64)


def read_test_csv(path):
    """Images of a Kaggle test.csv (no labels): X uint8 (m, 784). DataError when malformed."""
    return _read_table(path, TEST_HEADER, "test.csv").astype(np.uint8)


def write_submission(path, labels):
    """Write predicted digits as a Kaggle submission (`ImageId,Label`, ImageId from 1), atomically.

    Raises ValueError for labels that are not digits 0..9 and DataError when the file cannot
    be written; either way no file (nor a partial one) is left at `path`.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= NUM_LABELS:
        raise ValueError(f"labels must be whole numbers in 0..{NUM_LABELS - 1}")
    lines = [SUBMISSION_HEADER]
    lines += [f"{image_id},{label}" for image_id, label in enumerate(labels.tolist(), start=1)]
    try:
        with atomic_write(path, "w") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as e:
        raise DataError(f"cannot write the submission {path}: {e.strerror or e}; "
                        "check that its folder exists and is writable") from None


def _read_table(path, header, kind):
    """All rows of a CSV with the given header, as an int array, checked; DataError otherwise."""
    try:
        with open_regular(path) as f:       # a FIFO or a device is refused, not waited on
            first = f.readline()
    except NotRegularFileError as e:
        raise DataError(f"{e}; give the path of the Kaggle {kind}") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}; give the path of the Kaggle {kind}") from None
    if not first.strip():
        raise DataError(f"{path} is empty; expected the Kaggle {kind} with its header line")
    _check_header(path, first, header, kind)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # "input contained no data": reported below
            table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int32, comments=None,
                               encoding="utf-8", ndmin=2)
    except (ValueError, OverflowError, UnicodeDecodeError):
        table = None
    if table is not None and table.shape[0] == 0:
        raise DataError(f"{path} has a header but no images")
    if table is None or table.shape[1] != len(header) or not _in_range(table, header):
        # Something is wrong: go through the file again, slowly, to say which line it is.
        _raise_first_bad_line(path, header)
        raise DataError(f"{path} is not a valid Kaggle {kind}; check that it is the competition's file")
    return table


def _in_range(table, header):
    pixels = table[:, 1:] if header[0] == "label" else table
    ok = pixels.min(initial=0) >= 0 and pixels.max(initial=0) <= 255
    if header[0] == "label":
        ok = ok and table[:, 0].min(initial=0) >= 0 and table[:, 0].max(initial=0) < NUM_LABELS
    return ok


def _check_header(path, first, header, kind):
    try:
        text = first.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise DataError(f"{path} line 1: not a text file; expected the Kaggle {kind}") from None
    names = tuple(name.strip().strip('"') for name in text.split(","))
    if names == header:
        return
    expected = f"{header[0]},{header[1]},...,{header[-1]}"
    if names == TRAIN_HEADER and header == TEST_HEADER:
        hint = "this looks like train.csv (it has a label column); give the competition's test.csv"
    elif names == TEST_HEADER and header == TRAIN_HEADER:
        hint = "this looks like test.csv (it has no label column); give the competition's train.csv"
    elif names and names[0].lstrip("+-").isdigit():
        hint = "the header line is missing"
    else:
        hint = f"expected the header {expected} ({len(header)} columns)"
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise DataError(f"{path} line 1: bad header '{shown}': {hint}")


def _line_pattern(header):
    # A plainly good line, matched in C; only lines it rejects are looked at value by value.
    pixel = rb"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    pixels = pixel + rb"(?:," + pixel + rb"){" + str(PIXELS - 1).encode() + rb"}"
    label = rb"[0-9]," if header[0] == "label" else b""
    return re.compile(label + pixels + rb"\r?\n?")


def _raise_first_bad_line(path, header):
    """Raise DataError for the first line of `path` (after the header) that does not fit."""
    good = _line_pattern(header).fullmatch
    with open(path, "rb") as f:
        f.readline()
        for number, raw in enumerate(f, start=2):
            if good(raw):
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(f"{path} line {number}: not UTF-8 text; the file is corrupt") from None
            if not line.strip("\r\n"):
                continue    # numpy skips empty lines too
            fields = line.split(",")
            if len(fields) != len(header):
                raise DataError(f"{path} line {number}: {len(fields)} values, expected {len(header)} "
                                f"({header[0]},...,{header[-1]})")
            for column, value in zip(header, fields):
                _check_value(path, number, column, value.strip())


def _check_value(path, number, column, value):
    top = NUM_LABELS - 1 if column == "label" else 255
    what = "a digit 0..9" if column == "label" else "a grey level 0..255"
    try:
        v = int(value)
    except ValueError:
        shown = value if len(value) <= 20 else value[:17] + "..."
        raise DataError(f"{path} line {number}: {column} is '{shown}', expected {what}") from None
    if not 0 <= v <= top:
        raise DataError(f"{path} line {number}: {column} is {v}, expected {what}")
