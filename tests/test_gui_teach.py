"""The desktop app on Xvfb with real Tk events: the "That was a ..." buttons and digit keys keep a
labelled drawing in the samples file with what the network read; a guess looks like one."""
import numpy as np
import pytest

from digits import recognise
from digits.samples import SampleStore
from digits.testing.replay import replay
from test_gui import SEVEN, polyline, root, shown  # noqa: F401 (root: the fixture)


@pytest.fixture
def teaching_app(root, tmp_path):       # noqa: F811
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
    assert row["network"] == app.network.describe() and (row["width"], row["height"]) == (350, 290)
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


def test_a_damaged_samples_file_is_said_and_left_alone(root, tmp_path):     # noqa: F811
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


def test_without_a_samples_file_there_are_no_buttons(root, tmp_path, monkeypatch):    # noqa: F811
    import gui
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))      # where a sample would go by default
    app = gui.DigitApp(root)
    assert not hasattr(app, "teach_buttons")
    replay(app, drawn_seven())
    assert shown(app)[0] == "7" and app.keep_as(1) is None and not list(tmp_path.iterdir())


def test_a_guess_looks_different_from_a_sure_answer(root, monkeypatch):    # noqa: F811
    import gui
    app = gui.DigitApp(root)
    replay(app, drawn_seven())
    sure_look = app.answer.cget("fg"), app.answer.cget("font")
    assert app.reading.sure and app.message.cget("text").startswith("It is a 7")
    app.clear()
    seventeen = [polyline([(0, 0), (0, 1)], 60, 60, 170), polyline(SEVEN, 120, 60, 170)]   # a 1 beside a 7
    replay(app, seventeen)
    assert not app.reading.sure and "read it as a number" in app.message.cget("text")
    guess_look = app.answer.cget("fg"), app.answer.cget("font")
    assert guess_look[0] != sure_look[0] and "italic" in str(guess_look[1]) and "italic" not in str(sure_look[1])
