"""The MNIST-style preparation of drawn digits, on synthetic images with known answers."""
import os
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw


from digits.errors import EmptyImageError, UserInputError
from digits.imaging import prepare as preprocess
from digits.imaging.prepare import prepare_image as prep

# A "2" as a polyline in a unit box (x right, y down).
TWO = [(0.1, 0.25), (0.3, 0.05), (0.7, 0.05), (0.9, 0.25), (0.85, 0.45), (0.1, 0.95), (0.95, 0.95)]


def draw(points, box, size=(350, 290), width=16):
    """Draw the unit-box polyline into box (x0, y0, side) of a black image, white round strokes."""
    x0, y0, side = box
    image = Image.new("L", size, 0)
    d = ImageDraw.Draw(image)
    xy = [(x0 + px * side, y0 + py * side) for px, py in points]
    d.line(xy, fill=255, width=width, joint="curve")
    r = width / 2
    for x, y in (xy[0], xy[-1]):
        d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return image


def centre_of_mass(x):
    img = x.reshape(28, 28)
    rows, cols = np.indices(img.shape)
    return (rows * img).sum() / img.sum(), (cols * img).sum() / img.sum()


def test_output_is_784_values_in_0_1():
    x = prep(draw(TWO, (100, 50, 150)))
    assert x.shape == (784,) and x.dtype == np.float64
    assert x.min() >= 0 and x.max() <= 1 and x.max() > 0.9


def test_small_in_a_corner_and_large_in_the_centre_give_the_same_input():
    small = prep(draw(TWO, (5, 5, 90)))          # top-left corner, a third of the canvas
    large = prep(draw(TWO, (60, 20, 250)))       # centre, most of the canvas
    far = prep(draw(TWO, (255, 195, 90)))        # bottom-right corner
    # Pixels in [0, 1]: a mean difference of 0.05 is a faint blur of the edges, no more.
    assert np.abs(small - large).mean() < 0.05
    assert np.abs(far - large).mean() < 0.05
    # ...whereas a different digit in the same place is far from it.
    seven = prep(draw([(0.1, 0.05), (0.9, 0.05), (0.4, 0.95)], (60, 20, 250)))
    assert np.abs(seven - large).mean() > 0.1


def test_longer_side_is_20_pixels_and_centre_of_mass_is_the_centre():
    for box in ((5, 5, 60), (60, 20, 250), (200, 100, 120), (330, 5, 15)):
        x = prep(draw(TWO, box)).reshape(28, 28)
        rows = np.flatnonzero(x.max(axis=1) > 0.1)
        cols = np.flatnonzero(x.max(axis=0) > 0.1)
        assert 19 <= max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) <= 21
        r, c = centre_of_mass(x)
        assert abs(r - 14) < 0.01 and abs(c - 14) < 0.01


def test_a_tall_thin_digit_keeps_its_aspect_ratio():
    one = prep(draw([(0.5, 0.0), (0.5, 1.0)], (150, 20, 240))).reshape(28, 28)
    cols = np.flatnonzero(one.max(axis=0) > 0.1)
    assert cols[-1] - cols[0] + 1 <= 6         # not stretched to a 20x20 block


def test_pen_width_is_evened_out():
    # The same digit with a thin and a thick pen: after preparation the strokes match.
    thin = prep(draw(TWO, (60, 20, 250), width=6))
    thick = prep(draw(TWO, (60, 20, 250), width=40))
    assert np.abs(thin - thick).mean() < 0.04
    # Without evening, they differ much more: the evening is what makes them equal.
    a = preprocess.prepare_array(preprocess.to_array(draw(TWO, (60, 20, 250), width=6)), stroke=None)
    b = preprocess.prepare_array(preprocess.to_array(draw(TWO, (60, 20, 250), width=40)), stroke=None)
    assert np.abs(a - b).mean() > 2 * np.abs(thin - thick).mean()


def test_empty_image_is_refused():
    with pytest.raises(EmptyImageError, match="empty"):
        prep(Image.new("L", (350, 290), 0))
    assert issubclass(EmptyImageError, UserInputError)   # shown as one line by the commands


def test_faint_noise_is_not_a_digit():
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 30, size=(290, 350), dtype=np.uint8))
    with pytest.raises(EmptyImageError):
        prep(noise)


def test_a_dot_is_refused():
    image = Image.new("L", (350, 290), 0)
    ImageDraw.Draw(image).ellipse((100, 100, 116, 116), fill=255)
    with pytest.raises(EmptyImageError, match="too small"):
        prep(image)


def dot(image, x, y, width=16):
    """`image` with a tap of the pen (a round dot as wide as the brush) at (x, y)."""
    r = width / 2
    ImageDraw.Draw(image).ellipse((x - r, y - r, x + r, y + r), fill=255)
    return image


ONE = [(0.55, 0.0), (0.45, 1.0)]
SEVEN = [(0.1, 0.05), (0.9, 0.05), (0.4, 0.95)]
SEVEN_BAR = [(0.3, 0.5), (0.75, 0.5)]


@pytest.mark.parametrize("width, box", [(16, (150, 60, 100)), (6, (150, 60, 150)), (30, (120, 40, 200))])
def test_a_dot_beside_a_digit_is_left_out(width, box):
    x0, y0, side = box
    alone = prep(draw(ONE, box, width=width))
    for x, y in ((x0 + 0.5 * side, y0 + side + 4 * width),       # under it, as one writer dotted his 1s
                 (width, y0 + 0.5 * side),                        # far to its left
                 (x0 + 0.5 * side, y0 + side + 2 * width)):       # close below
        dotted = dot(draw(ONE, box, width=width), x, y, width)
        assert np.abs(prep(dotted) - alone).max() < 1e-9
        a = preprocess.to_array(dotted)
        assert np.abs(preprocess.prepare_array(a, stroke=None)
                      - preprocess.prepare_array(preprocess.to_array(draw(ONE, box, width=width)), stroke=None)).max() < 1e-9
    # Kept (as the number reader's search asks: it leaves dots out itself), the dot shrinks the
    # digit in its box and moves it off centre: the input is far from the 1's.
    dotted = preprocess.to_array(dot(draw(ONE, box, width=width), width, y0 + 0.5 * side, width))
    top, bottom, left, right = preprocess.ink_box(dotted)
    assert right - left > x0 + 0.5 * side
    assert np.abs(preprocess.prepare_array(dotted, wipe_dots=False) - alone).mean() > 0.05


@pytest.mark.parametrize("width, side", [(16, 150), (6, 100), (30, 90)])
def test_a_short_stroke_apart_is_kept(width, side):
    # A 7 whose bar is a stroke of its own, also with a thick pen on a small digit: it stays a 7 with a bar.
    seven = draw(SEVEN, (120, 40, side), width=width)
    barred = draw(SEVEN, (120, 40, side), width=width)
    ImageDraw.Draw(barred).line([(120 + px * side, 40 + py * side) for px, py in SEVEN_BAR], fill=255, width=width)
    a = preprocess.to_array(barred)
    assert preprocess.without_dots(a) is a
    assert np.abs(prep(barred) - prep(seven)).mean() > 0.01


def test_a_small_scan_keeps_its_broken_off_pieces():
    # A 5 scanned 16 px high with a thin pen, its flag broken off: the flag is as short as a dot
    # would be at this size, yet part of the digit. Files of a scanned digit keep their pieces.
    body = np.zeros((18, 18))
    body[2:9, 3:5] = body[8:10, 3:12] = body[9:15, 11:13] = body[14:16, 3:13] = 1.0
    scan = body.copy()
    scan[2:4, 8:12] = 1.0                                           # the flag, 3 px from the body
    assert preprocess.without_dots(scan) is not scan                # as a drawing, it would be wiped
    assert np.array_equal(preprocess.without_dots(scan), body)
    views = preprocess.prepare_views(Image.fromarray((scan * 255).astype(np.uint8)))
    without_flag = preprocess.prepare_views(Image.fromarray((body * 255).astype(np.uint8)))
    assert np.abs(views - without_flag).mean() > 0.01


def test_a_digit_without_dots_is_untouched():
    for image in (draw(TWO, (60, 20, 250)), draw(TWO, (4, 4, 20), size=(28, 28), width=2),
                  dot(dot(Image.new("L", (350, 290), 0), 50, 50), 300, 200)):    # no mark larger than a dot
        a = preprocess.to_array(image)
        assert preprocess.without_dots(a) is a


def test_any_mode_and_size():
    rgb = draw(TWO, (60, 20, 250)).convert("RGB")
    assert np.allclose(prep(rgb), prep(draw(TWO, (60, 20, 250))))
    tiny = draw(TWO, (4, 4, 20), size=(28, 28), width=2)       # an MNIST-sized picture
    x = prep(tiny)
    assert x.shape == (784,) and np.abs(x - prep(draw(TWO, (60, 20, 250)))).mean() < 0.06
