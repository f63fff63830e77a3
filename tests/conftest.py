"""Shared fixtures: where the real data lives, the repository root, and one X display."""
import shutil
import os
from pathlib import Path

# One BLAS thread per test process: the tests' arrays are small, and on a busy 2-core machine
# OpenBLAS threads spinning against each other made small trainings over 100 times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

from digits.data.download import FILES  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def shared_dir(env_var, name):
    """A real-data folder: $env_var if set, else ../shared/<name> beside the checkout."""
    return Path(os.environ.get(env_var) or REPO.parent / "shared" / name)


@pytest.fixture(scope="session")
def repo_root():
    return REPO


@pytest.fixture(scope="session")
def mnist_dir():
    """The four MNIST IDX files: $MNIST_DIR, ../shared/mnist, or data/ (where main.py downloads them)."""
    candidates = [shared_dir("MNIST_DIR", "mnist"), REPO / "data"]
    for folder in candidates:
        if all((folder / f"{name}.gz").exists() for name in FILES):
            return folder
    pytest.skip(f"real MNIST not found in {' or '.join(map(str, candidates))} "
                "(python main.py downloads it into data/; or set MNIST_DIR to a folder with the four IDX files)")


@pytest.fixture(scope="session")
def pendigits_file():
    path = shared_dir("PENDIGITS_DIR", "pendigits") / "pendigits-orig.tra"
    if not path.exists():
        pytest.skip(f"pendigits strokes not found at {path} (set PENDIGITS_DIR to the folder holding pendigits-orig.tra)")
    return path


@pytest.fixture(scope="session")
def display():
    """One private Xvfb server for the whole run; $DISPLAY points at it meanwhile.

    One, not one per module: Tk keeps its connection to a display open after its windows are
    destroyed, and once that server is gone, the next Tk event loop in this process finds the
    connection broken and exits the whole process with status 1. So the server outlives every
    Tk window here: it is stopped only when this process ends (the kernel sends it SIGTERM).
    """
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (apt-get install xvfb): the desktop app needs a display")
    from helpers.xvfb import start_xvfb
    proc, number = start_xvfb("800x600x24", die_with_parent=True)
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = number
    yield number
    if old is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = old


@pytest.fixture
def root(display):
    """A Tk root window at the display's corner, destroyed after the test."""
    import tkinter as tk
    root = tk.Tk()
    root.geometry("+0+0")
    yield root
    root.destroy()


@pytest.fixture
def app(root):
    """The desktop app (`gui.DigitApp`) in `root`, reading with the best pretrained network."""
    import gui
    app = gui.DigitApp(root)
    assert app.weights_error is None, app.weights_error
    root.update()
    return app
