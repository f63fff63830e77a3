"""The desktop app reading whole numbers, for real: a Tk window on Xvfb driven by real events."""
import shutil

import numpy as np
import pytest

from digits import recognise
from helpers.replay import replay

pytestmark = pytest.mark.skipif(not shutil.which("Xvfb"), reason="Xvfb is not installed (apt-get install xvfb)")

ONE = [(90, 80), (95, 70), (100, 60), (100, 100), (100, 140), (100, 180), (100, 220), (100, 240)]
SEVEN = [(160, 60), (200, 60), (240, 60), (260, 60), (245, 105), (230, 150), (215, 195), (200, 240)]




def boxes(app):
    return [app.canvas.coords(item) for item in app.canvas.find_withtag("box")
            if app.canvas.type(item) == "rectangle"]


def test_a_number_is_read_after_each_stroke_with_a_box_per_digit(app):
    replay(app, [ONE])
    assert app.answer.cget("text") == "1" and len(boxes(app)) == 1
    replay(app, [SEVEN])
    assert app.answer.cget("text") == "17"
    (a, b) = sorted(boxes(app))
    assert a[2] <= 120 and b[0] >= 140          # around the 1, around the 7
    labels = [app.canvas.itemcget(i, "text") for i in app.canvas.find_withtag("box") if app.canvas.type(i) == "text"]
    assert [label.split()[0] for label in sorted(labels)] == ["1", "7"] and all("%" in label for label in labels)
    buttons = app.digit_row.winfo_children()
    assert [b.cget("text").split()[0] for b in buttons] == ["1", "7"]


def test_reading_a_number_leaves_the_whole_canvas_in_view(app):
    # The row of digit buttons appearing once took its room from the canvas, cutting off its edges.
    def seen():
        app.root.update()
        holder = app.canvas.master
        return (app.canvas.winfo_y(), app.canvas.winfo_y() + app.canvas.winfo_height(), holder.winfo_height(),
                app.root.winfo_height())
    top, bottom, room, window = seen()
    assert top >= 0 and bottom <= room
    replay(app, [ONE, SEVEN])
    assert len(app.digit_row.winfo_children()) == 2
    assert seen() == (top, bottom, room, window)


def test_clicking_a_digit_shows_its_input_and_shares(app):
    replay(app, [ONE, SEVEN])
    first, second = app.number.digits
    app.digit_row.winfo_children()[0].invoke()
    assert app.selected == 0 and "Digit 1" in app.message.cget("text")
    assert np.array_equal(np.asarray(app._input_photo_source), np.round(first.image * 255).astype(np.uint8))
    app.digit_row.winfo_children()[1].invoke()
    assert app.selected == 1
    assert np.array_equal(np.asarray(app._input_photo_source), np.round(second.image * 255).astype(np.uint8))
    assert app.answer.cget("text") == "17"


def test_ctrl_z_takes_back_the_last_stroke(app):
    replay(app, [ONE, SEVEN])
    app.root.focus_force()
    app.root.update()
    app.canvas.event_generate("<Control-z>")
    assert app.answer.cget("text") == "1" and len(app.strokes) == 1 and len(boxes(app)) == 1
    ink = np.asarray(app.image) > 0
    assert not ink[:, 140:].any()               # the 7 is gone from what the network reads
    app.canvas.event_generate("<Control-z>")
    assert app.answer.cget("text") == "" and not app.canvas.find_all() and not np.asarray(app.image).any()


def test_one_digit_reads_as_a_single_drawing_with_its_strokes(app):
    replay(app, [SEVEN])
    digit, probs = app.predict()
    alone = recognise.read_drawing(app.image, app.network, app.strokes)
    assert digit == alone.digit == 7 and np.array_equal(probs, alone.probabilities)
    assert app.message.cget("text") == alone.message and not app.digit_row.winfo_children()
    # the shipped network joins the path's reading to the picture's: not the picture's shares alone
    if app.network.stroke_reader is not None:
        assert not np.array_equal(probs, recognise.read_drawing(app.image, app.network).probabilities)


def test_the_canvas_grows_with_the_window_and_its_boxes_with_it(app, root):
    before = app.canvas.winfo_width()
    root.geometry(f"{root.winfo_width() + 700}x{root.winfo_height() + 290}")
    for _ in range(5):
        root.update()
    assert app.canvas.winfo_width() > before + 100 and app.scale > 1.4
    assert app.image.size == (before, 290)         # what the network reads keeps its size
    # Screen pixels drawn at the larger size are canvas pixels times the scale: the same number.
    replay(app, [[(round(x * app.scale), round(y * app.scale)) for x, y in s] for s in (ONE, SEVEN)])
    assert app.answer.cget("text") == "17"
    (a, b) = sorted(boxes(app))
    assert a[2] <= 120 * app.scale and b[0] >= 140 * app.scale     # boxes drawn at the shown size


def test_the_app_and_the_api_read_the_same_number(app, pendigits_file):
    from digits.data import pendigits
    from digits.imaging import compose
    from digits.web.app import create_app
    client = create_app().test_client()
    digits = pendigits.load(pendigits_file)
    width, height = app.image.size
    rng = np.random.default_rng(5)
    for strokes, truth, _ in compose.writer_numbers(digits, list(range(1, 31)), 8, rng):
        placed = [np.column_stack((s[:, 0] * (width - 20) / 1000 + 5, s[:, 1])).round().astype(int) for s in strokes]
        app.clear()
        replay(app, placed)
        body = client.post("/api/read", json={"strokes": [p.tolist() for p in placed], "width": width,
                                               "height": height}).get_json()
        assert app.answer.cget("text") == body["number"]
        assert [list(d.box) for d in app.number.digits] == [d["box"] for d in body["digits"]]
