"""Reading Kaggle Digit Recognizer CSV files, good and malformed, and writing submissions."""
import os
import sys

import numpy as np
import pytest


from digits.data import kaggle_csv
from digits.errors import DataError

TRAIN_HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))
TEST_HEADER = ",".join(f"pixel{i}" for i in range(784))


def make_rows(m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(m, 784), dtype=np.int64)
    X[rng.random((m, 784)) < 0.7] = 0          # mostly background, as real digits
    y = rng.integers(0, 10, size=m)
    return X, y


def write_csv(path, header, rows, newline="\n"):
    lines = [header] + [",".join(str(v) for v in row) for row in rows]
    path.write_text(newline.join(lines) + newline, newline="")
    return path


def train_rows(X, y):
    return [[label] + list(pixels) for label, pixels in zip(y, X)]


def test_read_train_csv_returns_pixels_and_labels(tmp_path):
    X, y = make_rows(7)
    path = write_csv(tmp_path / "train.csv", TRAIN_HEADER, train_rows(X, y))
    X_read, y_read = kaggle_csv.read_train_csv(path)
    assert X_read.dtype == np.uint8 and X_read.shape == (7, 784)
    assert y_read.dtype == np.int64 and y_read.shape == (7,)
    np.testing.assert_array_equal(X_read, X)
    np.testing.assert_array_equal(y_read, y)


def test_read_train_csv_accepts_windows_line_ends_and_a_single_row(tmp_path):
    X, y = make_rows(1, seed=3)
    path = write_csv(tmp_path / "train.csv", TRAIN_HEADER, train_rows(X, y), newline="\r\n")
    X_read, y_read = kaggle_csv.read_train_csv(path)
    np.testing.assert_array_equal(X_read, X)
    np.testing.assert_array_equal(y_read, y)


def test_read_test_csv_returns_pixels(tmp_path):
    X, _ = make_rows(5, seed=1)
    path = write_csv(tmp_path / "test.csv", TEST_HEADER, X.tolist())
    X_read = kaggle_csv.read_test_csv(path)
    assert X_read.dtype == np.uint8
    np.testing.assert_array_equal(X_read, X)


def corrupt(rows, row, column, value):
    rows = [list(r) for r in rows]
    rows[row][column] = value
    return rows


# (description, function making the rows from good ones, line number expected in the message,
#  words expected in the message)
MALFORMED_TRAIN = [
    ("too few values", lambda r: [r[0], r[1], r[2][:-1], r[3]], 4, "784 values, expected 785"),
    ("too many values", lambda r: [r[0], r[1] + [0], r[2], r[3]], 3, "786 values, expected 785"),
    ("non-numeric pixel", lambda r: corrupt(r, 3, 100, "abc"), 5, "pixel99 is 'abc'"),
    ("fractional pixel", lambda r: corrupt(r, 0, 5, "2.5"), 2, "pixel4 is '2.5'"),
    ("pixel above 255", lambda r: corrupt(r, 2, 784, 256), 4, "pixel783 is 256"),
    ("negative pixel", lambda r: corrupt(r, 1, 1, -1), 3, "pixel0 is -1"),
    ("huge pixel", lambda r: corrupt(r, 1, 7, 10 ** 12), 3, "pixel6 is 1000000000000"),
    ("label 10", lambda r: corrupt(r, 3, 0, 10), 5, "label is 10"),
    ("empty value", lambda r: corrupt(r, 2, 9, ""), 4, "pixel8 is ''"),
]


@pytest.mark.parametrize("description,damage,line,words", MALFORMED_TRAIN,
                         ids=[case[0] for case in MALFORMED_TRAIN])
def test_malformed_train_csv_names_file_and_line(tmp_path, description, damage, line, words):
    X, y = make_rows(4, seed=2)
    path = write_csv(tmp_path / "bad.csv", TRAIN_HEADER, damage(train_rows(X, y)))
    with pytest.raises(DataError) as info:
        kaggle_csv.read_train_csv(path)
    message = str(info.value)
    assert "\n" not in message
    assert f"{path} line {line}:" in message
    assert words in message


def test_malformed_test_csv_names_the_line(tmp_path):
    X, _ = make_rows(3, seed=4)
    rows = corrupt(X.tolist(), 2, 783, 300)
    path = write_csv(tmp_path / "test.csv", TEST_HEADER, rows)
    with pytest.raises(DataError, match=r"line 4: pixel783 is 300"):
        kaggle_csv.read_test_csv(path)


@pytest.mark.parametrize("content,words", [
    ("", "is empty"),
    ("\n", "is empty"),
    (TRAIN_HEADER + "\n", "has a header but no images"),
    ("label,pixel0,pixel1\n1,2,3\n", "bad header"),
    ("5," + ",".join(["0"] * 784) + "\n", "header line is missing"),
    (TEST_HEADER + "\n" + ",".join(["0"] * 784) + "\n", "looks like test.csv"),
])
def test_train_csv_with_bad_or_missing_header_or_no_rows(tmp_path, content, words):
    path = tmp_path / "train.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=words) as info:
        kaggle_csv.read_train_csv(path)
    assert str(path) in str(info.value)


def test_train_csv_given_where_test_csv_is_expected(tmp_path):
    X, y = make_rows(2)
    path = write_csv(tmp_path / "train.csv", TRAIN_HEADER, train_rows(X, y))
    with pytest.raises(DataError, match="looks like train.csv"):
        kaggle_csv.read_test_csv(path)


def test_missing_file_and_binary_file(tmp_path):
    with pytest.raises(DataError, match="cannot read .*nothere.csv"):
        kaggle_csv.read_train_csv(tmp_path / "nothere.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01")
    with pytest.raises(DataError, match="line 1"):
        kaggle_csv.read_train_csv(binary)


def test_write_submission(tmp_path):
    path = tmp_path / "submission.csv"
    kaggle_csv.write_submission(path, np.array([3, 0, 9, 7]))
    assert path.read_text() == "ImageId,Label\n1,3\n2,0\n3,9\n4,7\n"
    assert os.listdir(tmp_path) == ["submission.csv"]     # no temporary file left behind


def test_write_submission_rejects_non_digits_and_leaves_no_file(tmp_path):
    path = tmp_path / "submission.csv"
    for labels in ([1, 10], [-1, 2], [0.5, 1.0], []):
        with pytest.raises(ValueError):
            kaggle_csv.write_submission(path, np.array(labels))
    assert os.listdir(tmp_path) == []


def test_write_submission_into_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot write the submission"):
        kaggle_csv.write_submission(tmp_path / "no" / "such" / "submission.csv", [1, 2])
