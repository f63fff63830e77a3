"""Fetching the four official MNIST files from public mirrors, checked by SHA-256.

Files already in the data folder are checked the same way before they are used.
"""
import gzip
import hashlib
import os
import socket
import sys
import urllib.error
import urllib.request

from digits.errors import DataError
from digits.files import atomic_write

# Mirrors holding the original gzipped IDX files, tried in order. MNIST_MIRRORS (URLs separated
# by spaces) replaces them, e.g. for a local copy.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# SHA-256 of each file's uncompressed contents (the gzip wrapper may differ between mirrors).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
FILES = tuple(SHA256)
TIMEOUT_SECONDS = 5      # per connection attempt and per read: a dead mirror costs seconds, not minutes


class DownloadError(DataError):
    """No mirror served a correct copy (offline, blocked, or every copy damaged)."""


def mirrors():
    return tuple(os.environ["MNIST_MIRRORS"].split()) if os.environ.get("MNIST_MIRRORS") else MIRRORS


def _fetch(url, progress):
    """Bytes at `url`, reporting progress as they arrive."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
        total = int(response.headers.get("Content-Length") or 0)
        chunks, received = [], 0
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            received += len(chunk)
            progress(received, total)
        return b"".join(chunks)


def print_progress(name):
    """A progress callback that redraws one line on a terminal and prints a summary otherwise."""
    def progress(received, total):
        done = total and received >= total
        if sys.stderr.isatty():
            percent = f"{100 * received / total:5.1f} %" if total else ""
            print(f"\r  {name}: {received / 1e6:6.1f} MB {percent}", end="\n" if done else "",
                  file=sys.stderr, flush=True)
        elif done:
            print(f"  {name}: {received / 1e6:.1f} MB", file=sys.stderr, flush=True)
    return progress


def checked_contents(gz_bytes, name, expected_sha256):
    """Uncompressed contents of a downloaded .gz, or DataError if they are not the expected file."""
    try:
        raw = gzip.decompress(gz_bytes)
    except (OSError, EOFError) as e:
        raise DataError(f"{name}.gz is not a valid gzip file ({e})") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha256:
        raise DataError(f"{name}.gz failed its checksum (SHA-256 {digest[:12]}..., expected {expected_sha256[:12]}...)")
    return raw


def download_file(name, dest_dir, expected_sha256, urls=None, progress_factory=print_progress):
    """Download `name`.gz into `dest_dir` from the first mirror that serves a correct copy."""
    failures = []
    for base in urls or mirrors():
        url = base.rstrip("/") + "/" + name + ".gz"
        try:
            gz_bytes = _fetch(url, progress_factory(name + ".gz"))
            checked_contents(gz_bytes, name, expected_sha256)
        except urllib.error.HTTPError as e:
            failures.append(f"{url}: HTTP {e.code} {e.reason}")
            continue
        except (TimeoutError, socket.timeout):
            failures.append(f"{url}: no answer within {TIMEOUT_SECONDS} s")
            continue
        except (urllib.error.URLError, OSError, ValueError, DataError) as e:
            # URLError: unreachable host; OSError: resets; DataError: bad contents.
            reason = getattr(e, "reason", e)
            if isinstance(reason, (TimeoutError, socket.timeout)):
                reason = f"no answer within {TIMEOUT_SECONDS} s"
            failures.append(f"{url}: {reason}")
            continue
        path = os.path.join(dest_dir, name + ".gz")
        try:
            with atomic_write(path) as f:
                f.write(gz_bytes)
        except OSError as e:
            raise DataError(f"cannot write {path}: {e.strerror or e}; make {dest_dir} writable "
                            "or pass --data FOLDER") from None
        return path
    raise DownloadError(f"could not download {name}.gz from any mirror ({'; '.join(failures)})")


def verify_local(path, name, expected_sha256):
    """DataError, saying which file and what to do, unless `path` holds the official `name`."""
    try:
        with open(path, "rb") as f:
            gz_bytes = f.read()
    except PermissionError:
        raise DataError(f"{path}: permission denied; make it readable") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        checked_contents(gz_bytes, name, expected_sha256)
    except DataError as e:
        raise DataError(f"{path} is damaged or not the official file ({e}); delete it and run again "
                        f"to download it afresh: rm {path}") from None


def download_mnist(dest_dir, checksums=SHA256, urls=None, progress_factory=print_progress):
    """Download every MNIST file missing from `dest_dir` and check those already there; returns
    their paths, by name."""
    try:
        os.makedirs(dest_dir, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot make the data folder {dest_dir}: {e.strerror or e}") from None
    paths = {}
    for name, sha in checksums.items():
        path = os.path.join(dest_dir, name + ".gz")
        if os.path.exists(path):
            verify_local(path, name, sha)
        else:
            download_file(name, dest_dir, sha, urls, progress_factory)
        paths[name] = path
    return paths
