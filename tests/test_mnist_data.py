"""Loading MNIST: IDX files, the .mat layout, and every malformed input."""
import gzip

import numpy as np
import pytest
import scipy.io

from digits.data import mnist as dataset
from digits.data.download import FILES
from digits.data.idx import idx_bytes, parse_idx, read_idx
from digits.errors import DataError


def write_idx_folder(folder, n_train=30, n_test=10, gz=True, seed=0):
    """A miniature MNIST: four IDX files with random images and labels. Returns the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(idx_bytes(array)))
        else:
            (folder / name).write_bytes(idx_bytes(array))
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_round_trip_idx_to_mat_to_arrays(tmp_path, gz):
    arrays = write_idx_folder(tmp_path / "idx", gz=gz)
    X, y = dataset.load_idx_folder(tmp_path / "idx")
    expected_X = np.concatenate([arrays["train-images-idx3-ubyte"], arrays["t10k-images-idx3-ubyte"]]).reshape(-1, 784)
    expected_y = np.concatenate([arrays["train-labels-idx1-ubyte"], arrays["t10k-labels-idx1-ubyte"]])
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, expected_y)

    mat = tmp_path / "mnist-original.mat"
    dataset.save_mat(mat, X, y)
    raw = scipy.io.loadmat(mat)  # the reference's layout: one image per column
    assert raw["data"].shape == (784, 40) and raw["data"].dtype == np.uint8
    assert raw["label"].shape == (1, 40)
    X2, y2 = dataset.load_mnist(str(mat))
    np.testing.assert_array_equal(X2, expected_X)
    np.testing.assert_array_equal(y2, expected_y)


def test_train_test_split_keeps_order():
    X = np.arange(20 * 784).reshape(20, 784) % 256
    y = np.arange(20) % 10
    X_train, y_train, X_test, y_test = dataset.train_test_split(X, y, train_size=15)
    np.testing.assert_array_equal(X_train, X[:15])
    np.testing.assert_array_equal(y_test, y[15:])
    with pytest.raises(DataError, match="cannot keep"):
        dataset.train_test_split(X, y, train_size=20)


def test_idx_round_trip_and_format():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = idx_bytes(array)
    assert raw[:4] == bytes([0, 0, 8, 3])
    np.testing.assert_array_equal(parse_idx(raw), array)


@pytest.mark.parametrize("mangle, message", [
    (lambda raw: b"\x01\x02" + raw[2:], "magic"),
    (lambda raw: raw[:2] + b"\x0d" + raw[3:], "type"),
    (lambda raw: raw[:-5], "truncated"),
    (lambda raw: raw[:6], "truncated IDX header"),
    (lambda raw: raw + b"\x00", "holds"),
])
def test_malformed_idx_is_refused(tmp_path, mangle, message):
    raw = idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8))
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(mangle(raw))
    with pytest.raises(DataError, match=message):
        read_idx(path)


def test_damaged_gzip_is_refused(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(5, np.uint8)))[:-8])
    with pytest.raises(DataError, match="cannot be read"):
        read_idx(path)


def test_folder_missing_a_file_names_it(tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        dataset.load_mnist(str(tmp_path))


def test_images_and_labels_must_agree(tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(29, np.uint8))))
    with pytest.raises(DataError, match="30 images but 29 labels"):
        dataset.load_idx_folder(tmp_path)


def test_labels_outside_0_to_9_are_refused_in_idx(tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.full(10, 11, np.uint8))))
    with pytest.raises(DataError, match="labels must be whole numbers 0..9"):
        dataset.load_idx_folder(tmp_path)


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(DataError, match="not found"):
        dataset.load_mnist(str(tmp_path / "nothing.mat"))


@pytest.mark.parametrize("contents, message", [
    ({"images": np.zeros((784, 3), np.uint8), "label": np.zeros((1, 3))}, "no 'data' variable"),
    ({"data": np.zeros((784, 3), np.uint8)}, "no 'label' variable"),
    ({"data": np.zeros((28, 3), np.uint8), "label": np.zeros((1, 3))}, "expected \\(784, n\\)"),
    ({"data": np.zeros((784, 3), np.uint8), "label": np.zeros((1, 4))}, "3 images but 4 labels"),
    ({"data": np.zeros((784, 3), np.uint8), "label": np.array([[0, 5, 10]])}, "labels must be whole numbers 0..9"),
    ({"data": np.zeros((784, 3), np.uint8), "label": np.array([[0, -1, 2]])}, "labels must be"),
    ({"data": np.full((784, 3), 300.0), "label": np.zeros((1, 3))}, "0..255"),
    ({"data": np.zeros((784, 4), np.uint8), "label": np.zeros((2, 2))}, "'label' has shape"),
])
def test_malformed_mat_is_refused(tmp_path, contents, message):
    path = tmp_path / "m.mat"
    scipy.io.savemat(path, contents)
    with pytest.raises(DataError, match=message):
        dataset.load_mat(path)


def test_file_that_is_not_a_mat_is_refused(tmp_path):
    path = tmp_path / "m.mat"
    path.write_text("hello, I am not MATLAB")
    with pytest.raises(DataError, match="not a readable MATLAB"):
        dataset.load_mat(path)


def test_real_mnist_idx_files(mnist_dir):
    X, y = dataset.load_mnist(str(mnist_dir))
    assert X.shape == (70000, 784) and X.dtype == np.uint8
    assert np.bincount(y[:60000]).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert y[:5].tolist() == [5, 0, 4, 1, 9]  # the famous first training digits


def test_file_names_are_the_official_ones():
    assert FILES == ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
