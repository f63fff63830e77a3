"""Numbers written by real people, composed from their pen-written digits (UCI pendigits).

pendigits holds single digits, each a list of strokes on a tablet (y upwards). A number is
made of one writer's digits set side by side as people write: natural spacing, sometimes
touching or overlapping, sizes differing a little from digit to digit, a wandering baseline
and one slant for the whole number. `compose_number` returns the strokes on a canvas (y
downwards) and the number written; the tests and `benchmarks.bench_numbers` read them.
"""
import numpy as np

from digits.imaging.strokes import BRUSH

CANVAS = (1000, 290)     # the canvas the numbers are written on (the checks use this size)
TOUCHING = 0.1          # share of neighbouring digits that touch or overlap


def digit_strokes(strokes):
    """A pen digit's strokes (tablet, y upwards) flipped to y downwards, its box at the origin,
    its height 1: a list of (n, 2) float arrays."""
    points = np.concatenate(strokes)
    lo, hi = points.min(axis=0), points.max(axis=0)
    height = max(hi[1] - lo[1], 1.0)
    return [np.column_stack(((s[:, 0] - lo[0]) / height, (hi[1] - s[:, 1]) / height)) for s in strokes]


def gap_between(rng):
    """The blank space between two digits, in digit heights (negative: they overlap)."""
    if rng.random() < TOUCHING:
        return rng.uniform(-0.12, 0.02)     # with the brush's width, these touch or overlap
    return rng.uniform(0.15, 0.45)


def compose_number(samples, rng, width=CANVAS[0], height=CANVAS[1], brush=BRUSH):
    """The strokes of a number written with the pen digits `samples` (PenDigits, left to
    right) on a width x height canvas, and the number: (list of (n, 2) int arrays, str)."""
    placed, x = [], 0.0
    baseline, slant = 0.0, rng.uniform(-0.2, 0.2)
    for sample in samples:
        strokes = [np.column_stack((s[:, 0] - slant * (s[:, 1] - 0.5), s[:, 1])) for s in digit_strokes(sample.strokes)]
        shift = min(s[:, 0].min() for s in strokes)
        strokes = [s - (shift, 0) for s in strokes]
        size = rng.uniform(0.85, 1.15)
        baseline += rng.normal(0, 0.05)
        left = x if not placed else x + gap_between(rng)
        placed.append([s * size + (left, baseline - size) for s in strokes])
        x = left + max(s[:, 0].max() for s in strokes) * size
    points = np.concatenate([s for d in placed for s in d])
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = brush
    scale = rng.uniform(0.5, 0.8) * height / (hi[1] - lo[1])
    scale = min(scale, (width - 2 * margin) / (hi[0] - lo[0]), (height - 2 * margin) / (hi[1] - lo[1]))
    size = (hi - lo) * scale
    x0 = rng.uniform(margin, max(margin, width - margin - size[0]))
    y0 = rng.uniform(margin, max(margin, height - margin - size[1]))
    strokes = [np.round((s - lo) * scale + (x0, y0)).astype(int) for d in placed for s in d]
    return strokes, "".join(str(sample.label) for sample in samples)


def writer_numbers(digits, writers, count, rng, lengths=(2, 6)):
    """`count` numbers of `lengths` digits (inclusive range), each written by one of `writers`
    with their own pen digits: a list of (strokes on the canvas, number, writer)."""
    by_writer = {}
    for d in digits:
        by_writer.setdefault(d.writer, []).append(d)
    numbers = []
    for _ in range(count):
        writer = writers[rng.integers(len(writers))]
        own = by_writer[writer]
        samples = [own[i] for i in rng.integers(len(own), size=rng.integers(lengths[0], lengths[1] + 1))]
        strokes, number = compose_number(samples, rng)
        numbers.append((strokes, number, writer))
    return numbers
