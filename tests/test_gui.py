"""The drawing app, for real: a Tk window on a private Xvfb display, driven by real events."""
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from digits.data import pendigits
from digits.errors import PendigitsError
from digits.imaging.strokes import CANVAS_HEIGHT, CANVAS_WIDTH, fit_to_canvas
from digits import recognise
from helpers import SEVEN, polyline
from helpers.replay import replay

pytestmark = pytest.mark.skipif(not shutil.which("Xvfb"), reason="Xvfb is not installed (apt-get install xvfb)")




def shown(app):
    return app.answer.cget("text"), app.message.cget("text")


# Pen digits replayed through the bound handlers ------------------------------------------------

def test_replayed_pen_digits_are_recognised(app):
    try:
        digits = pendigits.load()
    except PendigitsError as e:
        pytest.skip(f"pendigits data not available: {e}")
    # 300 digits of writers 16-30, all ten kinds. This checks the app's whole path (events, canvas,
    # preparation, network), not how well a network reads writers it never saw: the shipped CNN
    # learnt from all 30 writers (python -m benchmarks.pen_writer_groups measures that).
    chosen = [d for d in digits if d.writer > 15][::12]
    rng = np.random.default_rng(1)
    right = 0
    for d in chosen:
        app.clear()
        replay(app, fit_to_canvas(d.strokes, CANVAS_WIDTH, CANVAS_HEIGHT, rng))
        # The release of the last stroke already predicted: the window shows the answer.
        answer, _ = shown(app)
        right += answer == str(d.label)
    rate = right / len(chosen)
    assert rate >= 0.95, f"only {rate:.1%} of {len(chosen)} pen digits recognised"


def test_reads_with_the_best_pretrained_network_and_switches_in_one_click(app, root):
    from digits import nets
    offered = nets.choices()
    assert [c.kind for c in offered][:len(nets.shipped_kinds())] == nets.shipped_kinds()
    # The best shipped network reads by default, and the chooser says which one it is.
    assert app.network_name.get() == offered[0].label
    assert app.network.describe() == nets.load_pretrained().describe()
    replay(app, [polyline(SEVEN, 100, 40, 200)])
    assert shown(app)[0] == "7"
    menu = app.network_menu["menu"]
    assert menu.index("end") == len(offered) - 1
    for index in reversed(range(len(offered))):
        menu.invoke(index)                  # what a click on the menu entry does
        root.update()
        choice = offered[index]
        assert app.network_name.get() == choice.label
        assert app.network.describe() == nets.load_network(choice.folder, choice.kind).describe()
        # The drawing is read again at once by the network just chosen.
        reading = recognise.read_drawing(app.image, app.network)
        assert shown(app) == (str(reading.digit), reading.message)


def test_drawing_goes_into_the_offscreen_image(app):
    assert np.asarray(app.image).max() == 0
    points = polyline(SEVEN, 100, 40, 200)
    replay(app, [points])
    ink = np.asarray(app.image) > 0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    # The strokes lie where they were drawn, half the brush either side, and nowhere else.
    r = app.brush / 2
    (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
    assert abs(cols[0] - (left - r)) <= 1.5 and abs(cols[-1] - (right + r)) <= 1.5
    assert abs(rows[0] - (top - r)) <= 1.5 and abs(rows[-1] - (bottom + r)) <= 1.5
    assert len(app.canvas.find_all()) > 10     # and on the visible canvas too


def test_predict_returns_digit_and_ten_probabilities(app):
    replay(app, [polyline(SEVEN, 100, 40, 200)])
    digit, probs = app.predict()
    assert digit == 7
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-9 and np.argmax(probs) == digit
    answer, message = shown(app)
    assert answer == "7" and f"{probs[7]:.0%}" in message
    assert len(app.bars.find_all()) == 20      # ten labels and ten bars


def test_enter_predicts_and_escape_clears(app):
    # Draw without releasing (no live prediction), then press Enter.
    points = polyline(SEVEN, 100, 40, 200)
    app.canvas.event_generate("<Button-1>", x=points[0][0], y=points[0][1])
    for x, y in points[1:]:
        app.canvas.event_generate("<B1-Motion>", x=x, y=y, state=0x100)
    assert shown(app)[0] == ""
    app.root.focus_force()              # key events go to the focused window
    app.root.update()
    app.canvas.event_generate("<Return>")
    assert shown(app)[0] == "7"
    app.canvas.event_generate("<Escape>")
    assert shown(app)[0] == "" and np.asarray(app.image).max() == 0 and not app.canvas.find_all()


def test_empty_canvas_is_not_a_digit(app):
    assert app.predict() == (None, None)
    answer, message = shown(app)
    assert answer == "" and "empty" in message
    app.canvas.event_generate("<Button-1>", x=50, y=50)        # a click: only a dot
    app.canvas.event_generate("<ButtonRelease-1>", x=50, y=50)
    assert app.predict() == (None, None) and "too small" in shown(app)[1]


# The real pointer, moved by xdotool -------------------------------------------------------------

@pytest.mark.skipif(not shutil.which("xdotool"), reason="xdotool is not installed (apt-get install xdotool)")
def test_real_pointer_draws_a_digit(app, root):
    root.update()
    ox, oy = app.canvas.winfo_rootx(), app.canvas.winfo_rooty()
    cmd = ["xdotool"]
    points = polyline(SEVEN, 90, 40, 210, step=8)
    cmd += ["mousemove", str(ox + points[0][0]), str(oy + points[0][1]), "sleep", "0.05", "mousedown", "1"]
    for x, y in points[1:]:
        cmd += ["mousemove", str(ox + x), str(oy + y), "sleep", "0.01"]
    cmd += ["mouseup", "1"]
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        root.update()                   # handle the events while the pointer moves
        time.sleep(0.002)
    assert proc.wait(timeout=5) == 0
    for _ in range(50):                 # the last events, up to the release and its prediction
        root.update()
        time.sleep(0.01)
    answer, message = shown(app)
    assert answer == "7", message
    # Escape from the real keyboard clears the window.
    subprocess.run(["xdotool", "key", "Escape"], check=True)
    for _ in range(50):
        root.update()
        time.sleep(0.01)
    assert shown(app)[0] == "" and not app.canvas.find_all()


# Weights missing or broken ----------------------------------------------------------------------

@pytest.mark.parametrize("contents, expected", [
    (None, "not found"),
    (("hello world\n", "1 2\n"), "not a text matrix"),
    (("1 2 3\n", "1 2\n"), "expected hidden x 785"),
])
def test_bad_weights_are_reported_not_crashed_on(root, tmp_path, contents, expected):
    import gui
    if contents:
        (tmp_path / "Theta1.txt").write_text(contents[0])
        (tmp_path / "Theta2.txt").write_text(contents[1])
    app = gui.DigitApp(root, weights_dir=str(tmp_path))
    root.update()
    message = shown(app)[1]
    assert expected in message and "python main.py" in message
    replay(app, [polyline(SEVEN, 100, 40, 200)])      # drawing still works...
    assert app.predict() == (None, None)                        # ...but there is no answer
    assert expected in shown(app)[1]
    app.clear()
    assert expected in shown(app)[1]


def test_window_opens_without_weights_and_no_traceback(display, tmp_path):
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "gui.py"), "--weights-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        assert proc.poll() is None, proc.communicate()      # still running: the window is up
        found = subprocess.run(["xdotool", "search", "--name", "Digit recogniser"], capture_output=True, text=True) \
            if shutil.which("xdotool") else None
        if found is not None:
            assert found.stdout.strip(), "no window named 'Digit recogniser'"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert "Traceback" not in err


def test_importing_gui_opens_no_window():
    env = dict(os.environ)
    env.pop("DISPLAY", None)            # with no display, making a window would fail loudly
    code = "import gui, tkinter; assert tkinter._default_root is None; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
