"""A private X server (Xvfb) for running the Tk app without a screen: tests and benchmarks."""
import ctypes
import os
import signal
import subprocess


class XvfbError(Exception):
    """Xvfb could not be started."""


def _die_with_parent():
    """In the child before exec: ask Linux to send it SIGTERM when its parent ends."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_xvfb(screen="1024x768x24", die_with_parent=False):
    """Start Xvfb on a free display number; returns (process, ":N"). Terminate the process when done.

    die_with_parent: the server ends when this process ends, for a caller that must not stop it
    earlier (Tk exits the process if a display it once used goes away).
    """
    read, write = os.pipe()
    try:
        proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
                                pass_fds=(write,), stderr=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if die_with_parent else None)
    except FileNotFoundError:
        os.close(read)
        os.close(write)
        raise XvfbError("Xvfb is not installed (apt-get install xvfb)") from None
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()  # Xvfb writes its display number here once it is ready
    if not number:
        proc.kill()
        proc.wait()
        raise XvfbError("Xvfb did not start")
    return proc, ":" + number
