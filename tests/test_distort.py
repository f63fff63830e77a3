"""Distorted training copies: shapes, order, reproducibility, and that copies look like prepared drawings."""
import os
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw


from digits.imaging.distort import augment


def mnist_like(points, width=2):
    """A 28x28 uint8 MNIST-style digit: polyline in the central 20x20 box."""
    image = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(image).line([(4 + 20 * x, 4 + 20 * y) for x, y in points], fill=255, width=width)
    return np.asarray(image).ravel()


SEVEN = mnist_like([(0.1, 0.05), (0.9, 0.05), (0.4, 0.95)])
ZERO = mnist_like([(0.5, 0), (0.9, 0.3), (0.9, 0.7), (0.5, 1), (0.1, 0.7), (0.1, 0.3), (0.5, 0)])
IMAGES = np.array([SEVEN, ZERO, SEVEN])
LABELS = np.array([7, 0, 7])


def test_originals_first_then_copies_with_their_labels():
    out, labels = augment(IMAGES, LABELS, 2, np.random.default_rng(0))
    assert out.shape == (9, 784) and out.dtype == np.uint8
    assert np.array_equal(out[:3], IMAGES)
    assert np.array_equal(labels, [7, 0, 7] * 3)


def test_no_copies_is_the_input():
    out, labels = augment(IMAGES, LABELS, 0, np.random.default_rng(0))
    assert np.array_equal(out, IMAGES) and np.array_equal(labels, LABELS)


def test_same_seed_same_copies_and_copies_differ():
    a, _ = augment(IMAGES, LABELS, 2, np.random.default_rng(5))
    b, _ = augment(IMAGES, LABELS, 2, np.random.default_rng(5))
    c, _ = augment(IMAGES, LABELS, 2, np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # Each copy is a distortion: not the original, and the two copies of one image differ.
    assert not np.array_equal(a[3], a[0]) and not np.array_equal(a[3], a[6])


def test_copies_are_prepared_like_drawings_and_still_resemble_the_digit():
    out, _ = augment(np.array([SEVEN] * 20 + [ZERO] * 20), np.array([7] * 20 + [0] * 20), 1,
                     np.random.default_rng(0))
    copies = out[40:].reshape(-1, 28, 28).astype(np.float64) / 255
    for img in copies:
        rows, cols = np.indices(img.shape)
        com = (rows * img).sum() / img.sum(), (cols * img).sum() / img.sum()
        assert abs(com[0] - 14) <= 0.55 and abs(com[1] - 14) <= 0.55   # whole-pixel shift, uint8
        ink_r, ink_c = np.flatnonzero(img.max(1) > 0.1), np.flatnonzero(img.max(0) > 0.1)
        assert 19 <= max(ink_r[-1] - ink_r[0], ink_c[-1] - ink_c[0]) + 1 <= 21
    # A distorted 7 is nearer the original 7s' copies' mean than the 0s' (distortions are mild).
    sevens, zeros = copies[:20].reshape(20, -1), copies[20:].reshape(20, -1)
    assert np.abs(sevens - sevens.mean(0)).mean() < np.abs(sevens - zeros.mean(0)).mean()


def test_a_blank_image_is_kept_as_it_is():
    blank = np.zeros((1, 784), dtype=np.uint8)
    out, _ = augment(blank, np.array([3]), 1, np.random.default_rng(0))
    assert np.array_equal(out, np.zeros((2, 784), dtype=np.uint8))


@pytest.mark.parametrize("images, labels, copies", [
    (np.zeros((3, 100), np.uint8), LABELS, 1),
    (IMAGES, LABELS[:2], 1),
    (IMAGES, LABELS, -1),
    (IMAGES, LABELS, 1.5),
])
def test_bad_arguments_are_refused(images, labels, copies):
    with pytest.raises(ValueError):
        augment(images, labels, copies, np.random.default_rng(0))


# --- pen strokes: the elastic bend (digits.imaging.distort.elastic_strokes) -------------------

from digits.data.pendigits import PenDigit  # noqa: E402
from digits.imaging.distort import elastic_strokes, pen_training_images  # noqa: E402


def four_strokes():
    """A 4 in tablet coordinates (y up), two strokes of many points, about 300 units high."""
    t = np.linspace(0, 1, 60)[:, None]
    down_and_across = np.vstack([(200, 400) + t * (-150, -200), (50, 200) + t * (250, 0)])
    stem = (220, 420) + t * (0, -400)
    return [down_and_across, stem]


def test_elastic_keeps_strokes_and_points_and_is_reproducible():
    strokes = four_strokes()
    a = elastic_strokes(strokes, np.random.default_rng(5), 0.05)
    b = elastic_strokes(strokes, np.random.default_rng(5), 0.05)
    c = elastic_strokes(strokes, np.random.default_rng(6), 0.05)
    assert [s.shape for s in a] == [s.shape for s in strokes]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.allclose(x, y) for x, y in zip(a, c))
    assert all(np.array_equal(s, f) for s, f in zip(strokes, four_strokes()))   # the input is not changed


def test_elastic_bend_is_smooth_and_of_the_size_asked_for():
    """Neighbouring pen points move alike (a bend, not noise), by about `amount` x the digit's size."""
    strokes = four_strokes()
    size = 420.0
    moves, steps = [], []
    for seed in range(200):
        bent = elastic_strokes(strokes, np.random.default_rng(seed), 0.05)
        d = bent[1] - strokes[1]                 # the stem: its own shift plus the field
        moves.append(np.std(d - d.mean(axis=0), axis=0).mean())
        steps.append(np.abs(np.diff(d, axis=0)).max())
    # consecutive points (7 units apart on a 420-unit digit) move almost alike ...
    assert np.median(steps) < 0.01 * size
    # ... while the stem as a whole bends by a few per cent of the digit's size
    assert 0.005 * size < np.median(moves) < 0.05 * size
    none = elastic_strokes(strokes, np.random.default_rng(0), 0.0)
    assert all(np.allclose(x, y) for x, y in zip(none, strokes))


def test_pen_training_images_without_elastic_are_as_before_and_with_it_differ():
    digits = [PenDigit(4, 1, four_strokes()), PenDigit(4, 2, [s * 0.8 for s in four_strokes()])]
    plain, labels = pen_training_images(digits, 2, np.random.default_rng(3))
    again, _ = pen_training_images(digits, 2, np.random.default_rng(3), elastic=0.0)
    bent, bent_labels = pen_training_images(digits, 2, np.random.default_rng(3), elastic=0.05)
    assert plain.shape == bent.shape == (4, 784) and plain.dtype == np.uint8
    assert np.array_equal(labels, [4, 4, 4, 4]) and np.array_equal(bent_labels, labels)
    assert np.array_equal(plain, again)          # no elastic draws no extra random numbers
    assert not np.array_equal(plain, bent)


def test_drawn_inputs_fill_block_after_block_and_leave_out_dots(monkeypatch):
    """The drawings are written into blocks of rows as they are made (a heap of one small array
    per drawing held 5 KB per 784-byte drawing); across blocks, and with a refused dot among them,
    the result is the drawings in order, each with its own label."""
    from digits.imaging import distort
    four = [np.array([[0, 100], [0, 40], [60, 40]], float), np.array([[40, 100], [40, 0]], float)]
    seven = [np.array([[0, 100], [70, 100], [20, 0]], float)]
    dot = [np.array([[5, 5], [5, 5]], float)]
    drawings = [four, seven, dot, four, seven, four, seven]
    labels = [4, 7, 1, 4, 7, 4, 7]
    whole, whole_labels = distort.drawn_inputs(drawings, np.random.default_rng(2), labels=labels)
    unlabelled = distort.drawn_inputs(iter(drawings), np.random.default_rng(2))
    monkeypatch.setattr(distort, "DRAWN_BLOCK", 2)
    in_blocks = distort.drawn_inputs(iter(drawings), np.random.default_rng(2))
    assert whole.shape == (6, 784) and whole.dtype == np.uint8
    assert np.array_equal(whole_labels, [4, 7, 4, 7, 4, 7])
    assert np.array_equal(unlabelled, whole) and np.array_equal(in_blocks, whole)
    assert all(np.count_nonzero(row) > 30 for row in whole)          # every row is a drawing, none left blank
    assert distort.drawn_inputs(iter(()), np.random.default_rng(2)).shape == (0, 784)
