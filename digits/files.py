"""Writing files safely: never a half-written file, and output locations checked before the work.

`atomic_write` writes into a hidden temporary file beside the target and renames it over the
target only once it is complete. `check_output_dir` and `check_output_file` are called by the
commands before any long work, so that a bad output location costs a second, not a training run.
"""
import contextlib
import errno
import os
import tempfile

from digits.errors import OutputError


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside `path`; on success rename it over `path`, on error delete it."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".part")
    try:
        os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600 files; give the usual mode
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output_dir(folder, what="the output folder"):
    """Make sure files can be written in `folder`, or in the folder that will be made there.

    Nothing is created: a missing folder is checked through its nearest existing parent.
    Raises OutputError saying what is wrong.
    """
    folder = os.path.abspath(os.fspath(folder))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError(f"{what} {folder} is a file, not a folder; give a folder")
    existing = folder
    while not os.path.exists(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    if not os.path.isdir(existing):
        raise OutputError(f"cannot make {what} {folder}: {existing} is a file; give another folder")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".write-test.", suffix=".part")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        reason = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                  errno.EROFS: "read-only file system"}.get(e.errno, e.strerror or str(e))
        raise OutputError(f"cannot write into {what} {folder}: {reason}; choose a folder you can write to") from None
    return folder


def make_output_dir(folder, what="the output folder"):
    """Create `folder` if needed; OutputError (one line, saying why) if that fails."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot make {what} {folder}: {e.strerror or e}") from None
    return folder


def check_output_file(path, inputs=(), what="the output file"):
    """Make sure `path` can be written, is not a folder, and is none of `inputs`; OutputError if not."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise OutputError(f"{what} {path} is a folder; give a file name")
    for source in inputs:
        if source is not None and os.path.exists(path) and os.path.exists(source) \
                and os.path.samefile(path, source):
            raise OutputError(f"{what} {path} is the input {source}: writing it would destroy the input; "
                              "give another file name")
    check_output_dir(os.path.dirname(os.path.abspath(path)) or ".", f"the folder of {what}")
    return path


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def image_files_in(path):
    """The image files `path` names: itself if it is not a folder; if it is, every file with an
    image's extension (IMAGE_EXTENSIONS) in it and its subfolders, in name order. A folder
    without any is returned as itself, so that reading it says what is wrong."""
    if not os.path.isdir(path):
        return [path]
    found = []
    for folder, subfolders, names in os.walk(path):
        subfolders.sort()
        found += [os.path.join(folder, name) for name in sorted(names) if name.lower().endswith(IMAGE_EXTENSIONS)]
    return found or [path]
