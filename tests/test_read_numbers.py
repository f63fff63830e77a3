"""Reading whole numbers from strokes: the segmenter on hand-made cases, the single-digit path
unchanged, and numbers composed from real pen-written digits (skipped without ../shared)."""
import numpy as np
import pytest

from digits import nets, recognise
from digits.imaging import compose, segment
from digits.imaging.strokes import render_part, render, segments_cross

W, H = 1000, 290


@pytest.fixture(scope="module")
def network():
    return nets.load_pretrained()


def line(*points, step=4):
    """A stroke through `points`, sampled every `step` pixels as a mouse would report it."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        n = max(1, int(np.hypot(x1 - x0, y1 - y0) // step))
        out += [(round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t)) for t in np.linspace(0, 1, n + 1)[1:]]
    return out


def ring(cx, cy, rx, ry):
    """A 0: an ellipse drawn in one stroke."""
    t = np.linspace(0, 2 * np.pi, 60)
    return [(round(cx + rx * np.sin(a)), round(cy - ry * np.cos(a))) for a in t]


ONE = lambda x: [line((x - 10, 80), (x, 60), (x, 240))]                       # noqa: E731
SEVEN = lambda x: [line((x, 60), (x + 100, 60), (x + 40, 240))]               # noqa: E731
FOUR = lambda x: [line((x + 60, 60), (x, 170), (x + 100, 170)), line((x + 70, 110), (x + 70, 240))]  # noqa: E731


def read(strokes, network):
    return recognise.read_number_strokes(strokes, W, H, network)


def test_a_four_in_two_strokes_is_one_digit(network):
    reading = read(FOUR(100), network)
    assert reading.number == "4" and reading.left_out == []


def test_a_seven_with_a_crossbar_is_one_digit(network):
    strokes = SEVEN(100) + [line((95, 150), (175, 150))]
    reading = read(strokes, network)
    assert reading.number == "7" and reading.left_out == []


def test_touching_zeros_are_cut_apart(network):
    strokes = [ring(150, 150, 50, 90), ring(245, 150, 50, 90)]      # the rings' ink touches
    ink = np.asarray(render(strokes, W, H))
    assert ink[150, 190:205].min() == 255      # they do touch: one ink component
    reading = read(strokes, network)
    assert reading.number == "00"
    assert reading.digits[0].box[2] <= reading.digits[1].box[2]


def test_a_one_beside_a_seven(network):
    reading = read(ONE(100) + SEVEN(160), network)
    assert reading.number == "17"
    (a, b) = [d.box for d in reading.digits]
    assert a[2] < 140 < b[0] + 10      # the 1's box ends where the 7's begins


def test_a_dash_between_digits_is_left_out(network):
    reading = read(ONE(100) + [line((170, 150), (210, 150))] + SEVEN(260), network)
    assert reading.number == "17"
    assert len(reading.left_out) == 1
    x0, y0, x1, y1 = reading.left_out[0]
    assert 150 < x0 < 175 and 205 < x1 < 230 and y1 - y0 < 30
    assert "1 mark left out" in reading.message


def test_a_dot_is_left_out(network):
    reading = read(FOUR(100) + [[(260, 230)]], network)
    assert reading.number == "4"
    assert len(reading.left_out) == 1


def test_a_tap_beside_one_digit_changes_nothing(network):
    # A 1 small at the top of the canvas, and a tap of the mouse far below it: the app reads the 1
    # as it reads it alone (the dot is wiped, not fitted into the digit's box), as a digit and as a number.
    one = [line((190, 30), (200, 20), (200, 110))]
    alone = recognise.read_strokes(one, 350, 290, network)
    for tap in ([(200, 270)], [(30, 60)], [(200, 140)]):
        dotted = recognise.read_strokes(one + [tap], 350, 290, network)
        assert dotted.digit == alone.digit == 1
        assert np.array_equal(dotted.probabilities, alone.probabilities)
        number = recognise.read_number_strokes(one + [tap], 350, 290, network)
        assert number.number == "1"
        assert np.allclose(number.digits[0].probabilities, alone.probabilities)


def test_an_empty_drawing_reads_no_number(network):
    reading = read([], network)
    assert reading.number == "" and reading.digits == []
    assert reading.message == recognise.read_strokes([], W, H, network).message       # "The image is empty..."
    reading = read([[(300, 100)]], network)                                           # a lone dot
    assert reading.number == "" and "too small" in reading.message


def test_boxes_are_on_the_canvas_and_left_to_right(network):
    reading = read(SEVEN(500) + FOUR(100) + ONE(350), network)   # drawn out of order
    assert reading.number == "417"
    lefts = [d.box[0] for d in reading.digits]
    assert lefts == sorted(lefts)
    for x0, y0, x1, y1 in (d.box for d in reading.digits):
        assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H


def test_rendering_a_part_draws_the_same_pixels_as_the_whole_canvas():
    strokes = FOUR(100) + [[(3, 4), (-20, 100)]]                   # partly off the canvas
    whole = render(strokes, W, H)
    part = render_part(strokes, W, H)
    assert part.size[0] < W / 4
    assert np.array_equal(np.asarray(whole.crop(whole.getbbox())), np.asarray(part.crop(part.getbbox())))


def test_strokes_that_cross_are_found():
    assert segments_cross([(0, 0), (10, 10)], [(0, 10), (10, 0)])
    assert not segments_cross([(0, 0), (10, 0)], [(0, 5), (10, 5)])
    assert not segments_cross([(0, 0)], [(0, 5), (10, 5)])


def test_the_search_leaves_out_a_mark_too_small_to_be_a_digit():
    # Boxes only, and a reader that calls everything a confident digit: the dash must go.
    boxes = [(0, 0, 60, 100), (80, 45, 110, 52), (130, 0, 190, 100)]
    confident = lambda runs: np.tile(np.eye(10)[3], (len(runs), 1))    # noqa: E731
    found = segment.best_reading(boxes, [[0, 1, 2]], confident)
    assert found.runs == [(0,), (2,)] and found.left_out == [1]


def test_two_tall_pieces_side_by_side_cost_side_to_read_as_one_digit():
    # a 4 written as an L and a stroke beside it, or a 1 beside a 1: boxes only
    boxes = np.array([(0, 0, 50, 100), (55, 5, 100, 105)], dtype=float)
    height = segment.digit_height(boxes)
    free = segment.run_penalty(boxes, height, side=0.0)
    assert segment.run_penalty(boxes, height) == pytest.approx(free + segment.SIDE)
    assert segment.run_penalty(boxes, height, side=0.7) == pytest.approx(free + 0.7)
    # a reader sure of the pair as a 4 and unsure of each piece as a 1
    shares = {(0, 1): np.eye(10)[4] * 0.99, (0,): np.eye(10)[1] * 0.35, (1,): np.eye(10)[1] * 0.35}
    read = lambda runs: np.array([shares[r] for r in runs])     # noqa: E731
    assert segment.best_reading(boxes, [[0, 1]], read).runs == [(0,), (1,)]
    assert segment.best_reading(boxes, [[0, 1]], read, side=segment.SIDE_WITH_PATHS).runs == [(0, 1)]


def test_one_drawn_digit_reads_as_it_does_alone(network, pendigits_file):
    from digits.data import pendigits
    from digits.imaging.strokes import fit_to_canvas
    digits = pendigits.load(pendigits_file)
    rng = np.random.default_rng(16)
    none = 0
    for i in rng.choice(len(digits), 60, replace=False):
        strokes = [s.tolist() for s in fit_to_canvas(digits[i].strokes, 350, 290, rng)]
        alone = recognise.read_strokes(strokes, 350, 290, network)
        number = recognise.read_number_strokes(strokes, 350, 290, network)
        if alone.digit is None:     # read as "not a digit" alone: left out of the number too
            none += 1
            assert number.digits == [] and len(number.left_out) == 1, (digits[i].label, number.number)
            continue
        assert len(number.digits) == 1, (digits[i].label, number.number)
        assert number.digits[0].digit == alone.digit
        assert np.array_equal(number.digits[0].probabilities, alone.probabilities)
        assert np.array_equal(number.digits[0].image, alone.image)
    assert none <= 2, f"{none} of 60 real digits read as 'not a digit'"


def test_numbers_by_real_writers_are_read(network, pendigits_file):
    from digits.data import pendigits
    digits = pendigits.load(pendigits_file)
    rng = np.random.default_rng(2026)
    numbers = compose.writer_numbers(digits, list(range(1, 31)), 60, rng)
    exact = sum(recognise.read_number_strokes(s, W, H, network).number == truth for s, truth, _ in numbers)
    assert exact >= 0.9 * len(numbers)


class SevensAreNoDigits:
    """The pretrained network, except that it calls whatever it reads as a 7 none of the digits
    (as a network that learnt "not a digit" calls a letter): `not_a_digit` 0.99 there, else 0."""

    def __init__(self, network):
        self.network = network

    def __getattr__(self, name):
        return getattr(self.network, name)

    def not_a_digit(self, X):
        return np.where(self.network.predict_proba(X).argmax(axis=1) == 7, 0.99, 0.0)

    def probabilities_and_none(self, X):      # what the readers ask for: the shares and the not_a_digit above
        return self.network.predict_proba(X), self.not_a_digit(X)


def test_a_piece_the_network_calls_not_a_digit_is_left_out(network):
    fake = SevensAreNoDigits(network)
    assert read(ONE(100) + FOUR(250) + SEVEN(450), network).number == "147"
    reading = read(ONE(100) + FOUR(250) + SEVEN(450), fake)
    assert reading.number == "14" and "None" not in reading.message
    [(x0, y0, x1, y1)] = reading.left_out                      # the 7's box
    assert 430 < x0 < 460 and 540 < x1 < 570
    alone = read(SEVEN(450), fake)                             # one digit, read as none: left out too
    assert alone.number == "" and alone.digits == [] and len(alone.left_out) == 1
    assert alone.message.startswith("Not a digit")


def test_a_picture_piece_the_network_calls_not_a_digit_is_left_out(network):
    picture = render(ONE(100) + FOUR(250) + SEVEN(450), W, H)     # light ink on black, as a screenshot
    assert recognise.read_number_image(picture, network).number == "147"
    reading = recognise.read_number_image(picture, SevensAreNoDigits(network))
    assert reading.number == "14" and len(reading.left_out) == 1
