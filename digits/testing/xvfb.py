"""A private X server (Xvfb) for running the Tk app without a screen: tests and benchmarks."""
import os
import subprocess


class XvfbError(Exception):
    """Xvfb could not be started."""


def start_xvfb(screen="1024x768x24"):
    """Start Xvfb on a free display number; returns (process, ":N"). Terminate the process when done."""
    read, write = os.pipe()
    try:
        proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
                                pass_fds=(write,), stderr=subprocess.DEVNULL)
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
