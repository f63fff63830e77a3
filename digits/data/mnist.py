"""Getting MNIST as arrays: the reference's mnist-original.mat, or the official IDX files.

The reference loaded `mnist-original.mat` (key `data`: uint8 784 x 70000, one image per column;
key `label`: 1 x 70000; the 60,000 training images first, then the 10,000 test images). When
that file is missing it is made from the four official IDX files, downloaded if need be.
"""
import os

import numpy as np
import scipy.io

from digits.constants import DATA_DIR, NUM_LABELS, PIXELS
from digits.data import download, kaggle_csv
from digits.data.idx import read_idx
from digits.errors import DataError
from digits.files import NotRegularFileError, atomic_write, open_regular

MAT_NAME = "mnist-original.mat"
TRAIN_SIZE = 60000  # the reference: the first 60,000 images train, the rest test


def check_arrays(X, y, source):
    """DataError unless X is (n, 784) pixels 0..255 and y n labels in 0..9."""
    if X.ndim != 2 or X.shape[1] != PIXELS:
        raise DataError(f"{source}: images have shape {X.shape}, expected (n, {PIXELS})")
    if y.shape != (X.shape[0],):
        raise DataError(f"{source}: {X.shape[0]} images but {y.size} labels")
    if X.shape[0] == 0:
        raise DataError(f"{source}: no images")
    if y.min() < 0 or y.max() >= NUM_LABELS or not np.array_equal(y, np.round(y)):
        raise DataError(f"{source}: labels must be whole numbers 0..9, found {y.min()}..{y.max()}")


def pixels_as_bytes(data, source):
    """Pixel values as uint8, or DataError saying what they are instead (never a silent cast).

    Accepts whole numbers 0..255 of any numeric type. Refuses NaN or infinity, fractions, values
    outside 0..255, and images scaled to [0, 1] (which a cast would turn into black squares).
    """
    if data.dtype == np.uint8:
        return data
    if not np.issubdtype(data.dtype, np.number) or np.issubdtype(data.dtype, np.complexfloating):
        raise DataError(f"{source}: pixels are of type {data.dtype}, expected numbers 0..255")
    if data.size == 0:
        return data.astype(np.uint8)
    if not np.all(np.isfinite(data)):
        raise DataError(f"{source}: some pixels are NaN or infinite; expected grey levels 0..255")
    low, high = data.min(), data.max()
    if low < 0 or high > 255:
        raise DataError(f"{source}: pixels range over {low:g}..{high:g}, expected grey levels 0..255")
    if not np.array_equal(data, np.round(data)):
        if high <= 1:
            raise DataError(f"{source}: pixels are fractions in [0, 1]; this expects grey levels 0..255 "
                            "(multiply the images by 255 and round them)")
        raise DataError(f"{source}: pixels are not whole numbers; expected grey levels 0..255")
    return data.astype(np.uint8)


def load_mat(path):
    """Images (n, 784) uint8 and labels (n,) int64 from a file laid out like mnist-original.mat.

    Only a regular file is read: a FIFO or a device is refused at once (it would hang or never end)."""
    try:
        with open_regular(path) as f:
            contents = scipy.io.loadmat(f)
    except NotRegularFileError as e:
        raise DataError(f"{path}: is {e.kind}, not a regular file; --data takes mnist-original.mat, "
                        "a folder of MNIST IDX files or a Kaggle train.csv") from None
    except FileNotFoundError:
        raise DataError(f"{path} not found") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied; make it readable") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder") from None
    except Exception as e:  # scipy raises ValueError, TypeError, MatReadError... for non-.mat files
        raise DataError(f"{path} is not a readable MATLAB .mat file ({e})") from None
    missing = [key for key in ("data", "label") if key not in contents]
    if missing:
        raise DataError(f"{path} has no {' or '.join(repr(k) for k in missing)} variable; expected the layout of mnist-original.mat")
    data, label = np.asarray(contents["data"]), np.asarray(contents["label"])
    if data.ndim != 2 or data.shape[0] != PIXELS:
        raise DataError(f"{path}: 'data' has shape {data.shape}, expected ({PIXELS}, n), one image per column")
    data = pixels_as_bytes(data, f"{path}: 'data'")
    y = label.ravel()
    if not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)):
        raise DataError(f"{path}: 'label' must hold the digits 0..9, as numbers")
    if label.ndim != 2 or 1 not in label.shape:
        raise DataError(f"{path}: 'label' has shape {label.shape}, expected (1, n)")
    X = data.T  # (n, 784), a view: no copy of the images
    check_arrays(X, y, path)
    return X, y.astype(np.int64)


def save_mat(path, X, y):
    """Write images and labels atomically in the layout of mnist-original.mat."""
    check_arrays(X, y, "save_mat")
    with atomic_write(path) as f:
        scipy.io.savemat(f, {"data": np.ascontiguousarray(X.T, dtype=np.uint8),
                             "label": np.asarray(y, dtype=np.float64).reshape(1, -1)})


def find_idx_files(folder):
    """Paths of the four MNIST IDX files in `folder`, gzipped or not; DataError naming any missing."""
    paths, missing = {}, []
    for name in download.FILES:
        for candidate in (name + ".gz", name, name.replace("-idx", ".idx")):
            if os.path.isfile(os.path.join(folder, candidate)):
                paths[name] = os.path.join(folder, candidate)
                break
        else:
            missing.append(name + ".gz")
    if missing:
        raise DataError(f"{folder} lacks {', '.join(missing)}; it needs the four MNIST IDX files")
    return paths


def load_idx_folder(folder):
    """Images (70000, 784) and labels from the four IDX files: training set first, then test."""
    paths = find_idx_files(folder)
    images, labels = [], []
    for part in ("train", "t10k"):
        X = read_idx(paths[f"{part}-images-idx3-ubyte"])
        y = read_idx(paths[f"{part}-labels-idx1-ubyte"])
        if X.ndim != 3 or X.shape[1:] != (28, 28):
            raise DataError(f"{paths[f'{part}-images-idx3-ubyte']} holds shape {X.shape}, expected (n, 28, 28) images")
        if y.ndim != 1:
            raise DataError(f"{paths[f'{part}-labels-idx1-ubyte']} holds shape {y.shape}, expected (n,) labels")
        if X.shape[0] != y.shape[0]:
            raise DataError(f"{part} files disagree: {X.shape[0]} images but {y.shape[0]} labels")
        images.append(X.reshape(-1, PIXELS))
        labels.append(y)
    X, y = np.concatenate(images), np.concatenate(labels).astype(np.int64)
    check_arrays(X, y, folder)
    return X, y


def make_mat(data_dir=DATA_DIR):
    """Build data_dir/mnist-original.mat from IDX files there, downloading any that are missing."""
    try:
        download.download_mnist(data_dir)
    except download.DownloadError as e:
        files = ", ".join(name + ".gz" for name in download.FILES)
        raise DataError(
            f"{e}. Offline? Put {files} into {data_dir} (or pass --data FOLDER_OR_MAT) and run again") from None
    X, y = load_idx_folder(data_dir)
    try:
        save_mat(os.path.join(data_dir, MAT_NAME), X, y)
    except OSError as e:
        raise DataError(f"cannot write {os.path.join(data_dir, MAT_NAME)}: {e.strerror or e}; "
                        "make the data folder writable or pass --data FOLDER") from None
    return X, y


def load_mnist(path=None):
    """Images (n, 784) uint8 and labels (n,) from `path`: a .mat, a folder of IDX files, or a Kaggle CSV.

    With no path: data/mnist-original.mat, made first (downloading the IDX files) if missing.
    """
    if path is None:
        mat = os.path.join(DATA_DIR, MAT_NAME)
        if os.path.exists(mat):
            try:
                return load_mat(mat)
            except DataError as e:
                raise DataError(f"{e}; delete it and run again to rebuild it from the official files: "
                                f"rm {mat}") from None
        print(f"{mat} not found: making it from the official MNIST files", flush=True)
        return make_mat(DATA_DIR)
    if os.path.isdir(path):
        return load_idx_folder(path)
    if str(path).lower().endswith(".csv"):
        return kaggle_csv.read_train_csv(path)
    if not os.path.exists(path):
        raise DataError(f"{path} not found; --data takes mnist-original.mat or a folder of MNIST IDX files")
    return load_mat(path)


def train_test_split(X, y, train_size=TRAIN_SIZE):
    """The reference's split: the first `train_size` examples train, the rest test."""
    if not 0 < train_size < X.shape[0]:
        raise DataError(f"cannot keep {train_size} of {X.shape[0]} images for training and still test")
    return X[:train_size], y[:train_size], X[train_size:], y[train_size:]
