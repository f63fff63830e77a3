"""Downloading MNIST for real, from HTTP servers on 127.0.0.1."""
import contextlib
import functools
import gzip
import hashlib
import http.server
import shutil
import threading

import numpy as np
import pytest

import main
from digits.data import download as mnist_download
from digits.data import mnist as dataset
from digits.data.idx import idx_bytes
from digits.errors import DataError

QUIET = lambda name: (lambda received, total: None)  # noqa: E731  no progress output in tests


@contextlib.contextmanager
def serve(folder):
    """An HTTP server on 127.0.0.1 serving `folder`; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def unused_url():
    """A URL on 127.0.0.1 where nothing listens."""
    server = http.server.HTTPServer(("127.0.0.1", 0), QuietHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/"


def small_mnist(folder):
    """Gzipped miniature MNIST files in `folder` and the SHA-256 of their contents."""
    rng = np.random.default_rng(0)
    shapes = {"train-images-idx3-ubyte": (20, 28, 28), "train-labels-idx1-ubyte": (20,),
              "t10k-images-idx3-ubyte": (5, 28, 28), "t10k-labels-idx1-ubyte": (5,)}
    folder.mkdir()
    checksums = {}
    for name, shape in shapes.items():
        raw = idx_bytes(rng.integers(0, 10 if len(shape) == 1 else 256, shape))
        (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
        checksums[name] = hashlib.sha256(raw).hexdigest()
    return checksums


def test_download_verifies_and_saves(tmp_path):
    checksums = small_mnist(tmp_path / "mirror")
    with serve(tmp_path / "mirror") as url:
        paths = mnist_download.download_mnist(tmp_path / "dest", checksums, [url], QUIET)
    for name, path in paths.items():
        assert (tmp_path / "mirror" / (name + ".gz")).read_bytes() == open(path, "rb").read()
    X, y = dataset.load_idx_folder(tmp_path / "dest")
    assert X.shape == (25, 784)


def test_corrupted_file_is_refused_and_nothing_is_left(tmp_path):
    checksums = small_mnist(tmp_path / "mirror")
    bad = tmp_path / "mirror" / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(bad.read_bytes()))
    raw[100] ^= 0xFF  # one flipped byte: still valid gzip and IDX, wrong checksum
    bad.write_bytes(gzip.compress(bytes(raw)))
    with serve(tmp_path / "mirror") as url, pytest.raises(DataError, match="checksum"):
        mnist_download.download_mnist(tmp_path / "dest", checksums, [url], QUIET)
    left = sorted(p.name for p in (tmp_path / "dest").iterdir())
    assert "t10k-images-idx3-ubyte.gz" not in left
    assert not [name for name in left if name.endswith(".part")]


def test_falls_back_to_the_next_mirror(tmp_path):
    checksums = small_mnist(tmp_path / "mirror")
    (tmp_path / "empty").mkdir()
    with serve(tmp_path / "empty") as missing, serve(tmp_path / "mirror") as good:
        mnist_download.download_mnist(tmp_path / "dest", checksums, [unused_url(), missing, good], QUIET)
    assert len(list((tmp_path / "dest").glob("*.gz"))) == 4


def test_every_mirror_failing_names_them_all(tmp_path):
    checksums = small_mnist(tmp_path / "mirror")
    (tmp_path / "empty").mkdir()
    dead = unused_url()
    with serve(tmp_path / "empty") as missing, pytest.raises(DataError) as error:
        mnist_download.download_mnist(tmp_path / "dest", checksums, [dead, missing], QUIET)
    assert dead in str(error.value) and missing in str(error.value) and "404" in str(error.value)


def test_main_offline_says_where_to_put_the_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dataset, "DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MNIST_MIRRORS", unused_url())
    assert main.main(["--maxiter", "1", "--weights-dir", str(tmp_path / "w")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert "train-images-idx3-ubyte.gz" in err[0] and str(tmp_path / "data") in err[0]
    assert not (tmp_path / "data" / "mnist-original.mat").exists()
    assert not (tmp_path / "w").exists()


def test_real_files_through_the_download_path(tmp_path, monkeypatch, mnist_dir):
    """The embedded checksums accept the real files and make the reference's .mat from them."""
    mirror = tmp_path / "mirror"
    shutil.copytree(mnist_dir, mirror)
    monkeypatch.setattr(dataset, "DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MNIST_MIRRORS", f"{unused_url()} ")
    with serve(mirror) as url:
        monkeypatch.setenv("MNIST_MIRRORS", f"{unused_url()} {url}")
        X, y = dataset.load_mnist()
    assert X.shape == (70000, 784)
    X_mat, y_mat = dataset.load_mat(tmp_path / "data" / "mnist-original.mat")
    np.testing.assert_array_equal(X_mat, X)
    np.testing.assert_array_equal(y_mat, y)
