"""The MLP's weights in the reference's format: `Theta1.txt` and `Theta2.txt`.

Two space-delimited text matrices written by `np.savetxt`: Theta1 (hidden x 785) and Theta2
(10 x hidden+1), bias weights in column 0. Each file starts with one comment line,
`# digits-mlp run <id>`, naming the save it belongs to; `np.loadtxt` (the reference's reader)
skips it.

A save is all or nothing. Both matrices are first written in full to hidden `.part` files
beside the targets, then renamed over them, Theta1 first; signals are held back during the
two renames. If the process dies between them anyway (SIGKILL, power loss), the folder holds
the new Theta1, the old Theta2 and the new Theta2's complete `.part` file with the same run
id: `load_thetas` finishes the save from it. A pair whose run ids differ with no such file
is refused, never read as a network.
"""
import contextlib
import glob
import os
import signal
import uuid

import numpy as np

from digits.errors import OutputError, WeightsError
from digits.files import atomic_write, check_output_dir, make_output_dir, open_input, open_regular

NAMES = ("Theta1.txt", "Theta2.txt")
MAX_FILE_BYTES = 256 << 20      # the shipped Theta1.txt (200 hidden units) takes 4 MB
HEADER = "digits-mlp run "


def _part_glob(folder, name, run_id="*"):
    return os.path.join(folder, f".{name}.{run_id}.part")


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back for the duration (their handlers run right after)."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError, OSError):      # not Unix, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def save_thetas(folder, Theta1, Theta2):
    """Write Theta1.txt and Theta2.txt into `folder` (created if needed), all or nothing.

    Raises OutputError (nothing changed in `folder`) when they cannot be written.
    """
    check_output_dir(folder, "the weights folder")
    make_output_dir(folder, "the weights folder")
    run_id = uuid.uuid4().hex[:16]
    parts = [_part_glob(folder, name, run_id) for name in NAMES]
    try:
        for part, Theta in zip(parts, (Theta1, Theta2)):
            with atomic_write(part, "w") as f:
                np.savetxt(f, Theta, delimiter=" ", header=HEADER + run_id)
        with _signals_held():
            for part, name in zip(parts, NAMES):
                os.replace(part, os.path.join(folder, name))
    except OSError as e:
        for part in parts:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)
        raise OutputError(f"cannot save the network in {folder}: {e.strerror or e}; "
                          "free some space or choose another folder with --weights-dir") from None
    except BaseException:
        for part in parts:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)
        raise
    # Leftovers of saves that were killed before their renames.
    for name in NAMES:
        for stale in glob.glob(_part_glob(folder, name)):
            with contextlib.suppress(OSError):
                os.unlink(stale)
    return os.path.join(folder, NAMES[0])


def run_id_of(path):
    """The run id in the first line of a Theta file, or None (a file without one)."""
    try:
        with open_regular(path) as f:       # a FIFO would block here for ever
            first = f.readline(200).decode("ascii", "replace")
    except OSError:
        return None
    first = first.lstrip("# ").strip()
    return first[len(HEADER):] if first.startswith(HEADER) else None


def _load_matrix(path, advice):
    if not os.path.exists(path):
        raise WeightsError(f"{path} not found; {advice}")
    if os.path.isdir(path):
        raise WeightsError(f"{path} is a folder, not a weights file; {advice}")
    f = open_input(path, WeightsError, advice)
    size = os.fstat(f.fileno()).st_size
    if size > MAX_FILE_BYTES:
        f.close()
        raise WeightsError(f"{path} is {size >> 20} MB, larger than any network this reads "
                           f"({MAX_FILE_BYTES >> 20} MB); {advice}")
    try:
        import warnings
        with f, warnings.catch_warnings():
            warnings.simplefilter("ignore")        # "loadtxt: input contained no data": said below
            Theta = np.loadtxt(f, ndmin=2)
    except (ValueError, OSError, UnicodeDecodeError) as e:
        raise WeightsError(f"{path} is not a text matrix of numbers ({e}); {advice}") from None
    if Theta.size == 0:
        raise WeightsError(f"{path} is empty; {advice}")
    if not np.all(np.isfinite(Theta)):
        raise WeightsError(f"{path} contains nan or inf; {advice}")
    return Theta


def _finish_interrupted_save(folder):
    """If a save died between its two renames, complete it from the `.part` file it left."""
    id1 = run_id_of(os.path.join(folder, NAMES[0]))
    id2 = run_id_of(os.path.join(folder, NAMES[1]))
    if id1 is None or id1 == id2:
        return
    part = _part_glob(folder, NAMES[1], id1)
    if os.path.isfile(part):
        try:
            os.replace(part, os.path.join(folder, NAMES[1]))
        except OSError:
            pass     # a read-only folder: the check below refuses the mismatched pair


def load_thetas(folder, advice):
    """Theta1, Theta2 from `folder`, checked to be one network; WeightsError ending in `advice`."""
    _finish_interrupted_save(folder)
    p1, p2 = (os.path.join(folder, name) for name in NAMES)
    Theta1 = _load_matrix(p1, advice)
    Theta2 = _load_matrix(p2, advice)
    if run_id_of(p1) != run_id_of(p2):
        raise WeightsError(f"Theta1.txt and Theta2.txt in {folder} come from different saves "
                           f"(one was interrupted), so they are not one network; {advice}")
    return Theta1, Theta2
