"""Writing files safely: never a half-written file, and output locations checked before the work.

`atomic_write` writes into a hidden temporary file beside the target and renames it over the
target only once it is complete. `check_output_dir` and `check_output_file` are called by the
commands before any long work, so that a bad output location costs a second, not a training run.
"""
import contextlib
import errno
import os
import stat
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


class NotRegularFileError(OSError):
    """A path names a FIFO, a device or a socket where a regular file was expected; `kind`
    says which ("a FIFO (named pipe)")."""

    def __init__(self, path, kind):
        super().__init__(f"{path}: is {kind}, not a regular file")
        self.kind = kind


def file_kind(mode):
    """What a file of st_mode `mode` is, for messages: "a FIFO (named pipe)", "a folder"..."""
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def open_regular(path):
    """`path` opened for reading in binary, if it is a regular file (symbolic links followed).

    The file is opened without blocking and checked before a byte is read, so a FIFO (which
    would wait forever for a writer) or a device (which never ends) is refused at once with
    NotRegularFileError; FileNotFoundError, PermissionError and the like pass through.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", os.fspath(path))
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(os.fspath(path), file_kind(mode))
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_input(path, error, advice, name=None):
    """open_regular(path), or `error` (an exception class) raised with one line: what is wrong
    with the file (called `name`, default its path), then `advice` (what to do)."""
    name = os.fspath(path) if name is None else name
    try:
        return open_regular(path)
    except FileNotFoundError:
        what = f"{name}: no such file"
    except IsADirectoryError:
        what = f"{name}: is a folder, not a file"
    except PermissionError:
        what = f"{name}: permission denied; make it readable (chmod +r)"
    except NotRegularFileError as e:
        what = f"{name}: is {e.kind}, not a regular file"
    except OSError as e:
        what = f"{name}: cannot read it ({e.strerror or e})"
    raise error(f"{what}; {advice}")


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
    """Make sure `path` can be written, and is none of `inputs`; OutputError if not.

    It must be a new name or an existing regular file that may be written: a folder, a
    symbolic link, a device, a FIFO or a socket is refused (the file is written beside it and
    renamed over it, which would replace the special file with a regular one), and so is a
    read-only file.
    """
    path = os.fspath(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise OutputError(f"cannot use {what} {path}: {e.strerror or e}; give another file name") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"{what} {path} is a folder; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"{what} {path} is {file_kind(mode)}, not a regular file: writing would replace it; "
                          "give the name of a regular file or a new one")
    if mode is not None and not (os.access(path, os.W_OK) and mode & 0o222):     # root may write anything
        raise OutputError(f"{what} {path} is read-only; make it writable (chmod u+w) or give another file name")
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
