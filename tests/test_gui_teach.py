"""The desktop app on Xvfb with real Tk events: the "That was a ..." buttons and digit keys keep a
labelled drawing in the samples file with what the network read; a guess looks like one."""
import numpy as np
import pytest

from digits import recognise
from digits.samples import SampleStore
from helpers import SEVEN, polyline
from helpers.replay import replay
from test_gui import shown


@pytest.fixture
def teaching_app(root, tmp_path):
    import gui
    app = gui.DigitApp(root, samples=str(tmp_path / "samples.sqlite"))
    assert app.weights_error is None, app.weights_error
    root.update()
    return app


def drawn_seven():
    return [polyline(SEVEN, 100, 40, 200)]


def test_a_correction_keeps_the_drawing_and_what_the_network_read(teaching_app, tmp_path):
    app = teaching_app
    path = tmp_path / "samples.sqlite"
    assert [str(b.cget("state")) for b in app.teach_buttons] == ["disabled"] * 10    # nothing to correct yet
    assert not path.exists()                        # made at the first sample, not before
    strokes = drawn_seven()
    replay(app, strokes)
    assert shown(app)[0] == "7"
    assert [str(b.cget("state")) for b in app.teach_buttons] == ["normal"] * 10
    marked = [b.cget("highlightbackground") for b in app.teach_buttons]
    assert marked[7] != marked[0] and len(set(marked[:7] + marked[8:])) == 1      # the digit read stands out
    expected = recognise.read_drawing(app.image, app.network).image

    app.teach_buttons[1].invoke()                   # what a click does: "No, it was a 1"
    app.root.update()
    [row] = SampleStore(path).rows()
    assert (row["label"], row["answer"], row["source"]) == (1, 7, "correction")
    assert row["network"] == app.network.describe() and (row["width"], row["height"]) == (700, 290)    # the canvas
    assert row["strokes"] == [np.asarray(strokes[0]).tolist()]
    np.testing.assert_array_equal(SampleStore(path).images_and_labels()[0][0], np.round(expected.ravel() * 255))
    # Ready for the next digit, and it says what was kept.
    assert shown(app)[0] == "" and not app.canvas.find_all() and np.asarray(app.image).max() == 0
    assert app.kept.cget("text") == "Kept as a 1: 1 sample of 1 so far. Write another."
    assert [str(b.cget("state")) for b in app.teach_buttons] == ["disabled"] * 10


def test_the_digit_key_confirms_the_reading(teaching_app, tmp_path):
    app = teaching_app
    replay(app, drawn_seven())
    app.root.focus_force()                          # key events go to the focused window
    app.root.update()
    app.canvas.event_generate("<KeyPress>", keysym="7")
    app.root.update()
    [row] = SampleStore(tmp_path / "samples.sqlite").rows()
    assert (row["label"], row["answer"], row["source"]) == (7, 7, "confirmed")
    app.canvas.event_generate("<KeyPress>", keysym="3")     # nothing drawn: nothing kept
    assert SampleStore(tmp_path / "samples.sqlite").count() == 1


def test_a_damaged_samples_file_is_said_and_left_alone(root, tmp_path):
    import gui
    path = tmp_path / "samples.sqlite"
    damaged = b"not a database at all\n" * 50
    path.write_bytes(damaged)
    app = gui.DigitApp(root, samples=str(path))
    root.update()
    assert "damaged or not a samples database" in app.kept.cget("text")     # said at once
    replay(app, drawn_seven())
    app.teach_buttons[2].invoke()
    assert app.kept.cget("text").startswith("Not kept: ") and shown(app)[0] == "7"    # the drawing stays
    assert path.read_bytes() == damaged


def test_without_a_samples_file_there_are_no_buttons(root, tmp_path, monkeypatch):
    import gui
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))      # where a sample would go by default
    app = gui.DigitApp(root)
    assert not hasattr(app, "teach_buttons")
    replay(app, drawn_seven())
    assert shown(app)[0] == "7" and app.keep_as(1) is None and not list(tmp_path.iterdir())


def test_a_guess_looks_different_from_a_sure_answer(root, monkeypatch):
    import gui
    app = gui.DigitApp(root)
    replay(app, drawn_seven())
    sure_look = app.answer.cget("fg"), app.answer.cget("font")
    assert app.reading.sure and app.message.cget("text").startswith("It is a 7")
    app.clear()
    monkeypatch.setattr(app.network, "sure_above", 1.01)    # never sure: every answer is a guess
    replay(app, drawn_seven())
    assert not app.reading.sure and app.message.cget("text").startswith("Not sure: perhaps a 7")
    guess_look = app.answer.cget("fg"), app.answer.cget("font")
    assert guess_look[0] != sure_look[0] and "italic" in str(guess_look[1]) and "italic" not in str(sure_look[1])
    app.clear()
    seventeen = [polyline([(0, 0), (0, 1)], 60, 60, 170), polyline(SEVEN, 120, 60, 170)]   # a 1 beside a 7
    replay(app, seventeen)                  # a number of guesses looks like a guess too
    assert app.answer.cget("text") == "17" and (app.answer.cget("fg"), app.answer.cget("font")) == guess_look


# The window ------------------------------------------------------------------------------------

def settle(root, seconds=0.3):
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        root.update()
        time.sleep(0.01)


def test_the_canvas_grows_with_the_window_and_reads_the_same(root):
    import gui
    app = gui.DigitApp(root)
    settle(root)
    assert (app.canvas.winfo_width(), app.canvas.winfo_height()) == (700, 290) and app.scale == 1
    replay(app, drawn_seven())
    small_picture = np.asarray(app.image).copy()
    root.geometry(f"{root.winfo_width() + 700}x{root.winfo_height() + 290}")
    settle(root)
    w, h = app.canvas.winfo_width(), app.canvas.winfo_height()
    assert w >= 1000 and abs(w / h - 700 / 290) < 0.02 and app.scale > 1.4
    assert len(app.canvas.find_all()) > 10              # the drawing is shown again, larger
    # Drawn again on the larger canvas (screen pixels scaled), it is the same drawing.
    app.clear()
    replay(app, [np.round(np.asarray(s) * app.scale).astype(int) for s in drawn_seven()])
    assert shown(app)[0] == "7"
    assert np.mean(np.asarray(app.image) != small_picture) < 0.01
    assert app.strokes[0][0] == tuple(drawn_seven()[0][0])


def test_the_window_does_not_jump_when_the_message_wraps_or_the_network_changes(root, monkeypatch):
    import gui
    app = gui.DigitApp(root)
    settle(root)
    size = root.winfo_width(), root.winfo_height()
    replay(app, drawn_seven())                      # "It is a 7 (100% sure).": one line
    settle(root)
    assert (root.winfo_width(), root.winfo_height()) == size
    app.clear()
    monkeypatch.setattr(app.network, "sure_above", 1.01)    # "It reads 17; not sure of digits 1, 2. Digit 2: ..."
    replay(app, [polyline([(0, 0), (0, 1)], 60, 60, 170), polyline(SEVEN, 120, 60, 170)])     # two lines
    settle(root)
    assert gui.wrapped_lines(gui.tkfont.Font(font=app.message.cget("font")), app.message.cget("text"), 350) >= 2
    assert (root.winfo_width(), root.winfo_height()) == size
    menu = app.network_menu["menu"]
    for index in range(menu.index("end") + 1):      # names of other lengths
        menu.invoke(index)
        settle(root, 0.1)
        assert (root.winfo_width(), root.winfo_height()) == size
    app.clear()
    settle(root)
    assert (root.winfo_width(), root.winfo_height()) == size


def test_the_chooser_says_the_architecture_in_a_tooltip(root):
    import gui
    app = gui.DigitApp(root)
    settle(root)
    assert app.network_name.get().startswith("pretrained committee of networks")
    app.network_menu.event_generate("<Enter>", x=5, y=5)
    settle(root, 0.3 + gui.Tooltip.DELAY_MS / 1000)
    tip = app.tooltip.window
    assert tip is not None and tip.winfo_ismapped()
    [label] = tip.winfo_children()
    assert label.cget("text") == f"{app.network_name.get()}: {app.network.describe()}"
    assert "CNN" in label.cget("text")
    app.network_menu.event_generate("<Leave>")
    assert app.tooltip.window is None


def test_a_drawing_read_as_not_a_digit_can_be_corrected(teaching_app, tmp_path, monkeypatch):
    app = teaching_app
    read = app.network.probabilities_and_none      # what a reading asks for: the shares, and "none of 0-9"
    monkeypatch.setattr(app.network, "probabilities_and_none", lambda x: (read(x)[0], np.full(len(x), 0.9)))
    replay(app, drawn_seven())
    assert app.reading.digit is None and shown(app)[1].startswith("Not a digit")
    assert [str(b.cget("state")) for b in app.teach_buttons] == ["normal"] * 10
    app.teach_buttons[7].invoke()
    [row] = SampleStore(tmp_path / "samples.sqlite").rows()
    assert (row["label"], row["answer"], row["source"]) == (7, None, "correction")
