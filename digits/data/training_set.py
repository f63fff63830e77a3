"""The images a network trains on: MNIST's training images, plus distorted copies of them and
drawings of real pen-written digits, as the training options ask.

    extra = extra_drawings(seed=0, pen_digits="../shared/pendigits", pen_writers=15, pen_copies=8, non_digits=0)
    X_fit, y_fit = training_images(X_train, y_train, seed=0, augment=1, pen=extra, scans=20000)
    sample = epoch_sample(len(y_fit), extra, copies=16, per_epoch=8)    # train_minibatch(..., sample=sample)

Everything is uint8 pixels 0..255, (m, 784), labels (m,). `say(line)` hears what was made
and how long it took. Used by main.py and by the benchmarks that train (one recipe, one place).
"""
import time
from typing import NamedTuple

import numpy as np


class Extra(NamedTuple):
    """Drawings added to the training images: uint8 (n, 784) pixels, (n,) labels, and how many of
    them, at the start, are drawings of pen digits (the ones `epoch_sample` may take in turns)."""
    X: np.ndarray
    y: np.ndarray
    pen: int = 0


def extra_drawings(seed, pen_digits=None, pen_writers=15, pen_copies=8, non_digits=0, samples=None,
                   samples_copies=50, say=print, pen_elastic=0.0):
    """The drawings added to the training images, or None: `pen_copies` drawings of each pen digit
    of writers 1..`pen_writers` in the pendigits file or folder `pen_digits` (if given; bent by
    `pen_elastic`, see digits.imaging.distort.elastic_strokes),
    `non_digits` drawings that are none of the digits (their overlaid digits from those writers),
    and the user's own samples (the samples file `samples`, each `samples_copies` times): an Extra,
    the pen drawings first."""
    from digits.data import pendigits
    writers = [d for d in pendigits.load(pen_digits) if d.writer <= pen_writers] if pen_digits else None
    parts = []
    if writers:
        parts.append(pen_drawings(writers, pen_writers, pen_copies, seed, say, pen_elastic))
    if non_digits:
        parts.append(non_digit_drawings(non_digits, seed, writers, say))
    if samples:
        parts.append(user_samples(samples, samples_copies, say))
    if not parts:
        return None
    return Extra(np.concatenate([X for X, _ in parts]), np.concatenate([y for _, y in parts]),
                 len(parts[0][1]) if writers else 0)


def pen_drawings(digits, writers, copies, seed, say=print, elastic=0.0):
    """`copies` drawings of each of the pen digits `digits` (of writers 1..`writers`), drawn as the
    app draws strokes (digits.imaging.distort.pen_training_images), bent by `elastic` if > 0."""
    from digits.imaging.distort import pen_training_images
    start = time.perf_counter()
    X_pen, y_pen = pen_training_images(digits, copies, np.random.default_rng([seed, 3]), elastic=elastic)
    say(f"Pen digits: {X_pen.shape[0]} drawings of {len(digits)} digits by writers 1-{writers}"
        + (f", bent by {elastic:g}" if elastic else "") + f" in {time.perf_counter() - start:.0f} s")
    return X_pen, y_pen


def epoch_sample(n_fit, extra, copies, per_epoch):
    """What makes each epoch train on `per_epoch` of the `copies` drawings of each pen digit, a
    fresh choice every epoch: the `sample` of digits.nets.minibatch.train_minibatch, (pool, count),
    for the n_fit training images `training_images` made with `extra` (an Extra; its pen
    drawings: the pool), or None when every drawing is trained on every epoch. Each pen digit gets
    `per_epoch` drawings in an epoch on average (the pool's drawings are chosen at random, not
    digit by digit)."""
    if extra is None or not extra.pen or per_epoch is None or per_epoch >= copies:
        return None
    first = n_fit - len(extra.y)          # training_images puts the drawings last, the pen digits first
    return np.arange(first, first + extra.pen), max(1, extra.pen * per_epoch // copies)


def with_copies(X_train, y_train, copies, seed, say=print):
    """The images followed by `copies` distorted, drawing-style copies of each (digits.imaging.distort.augment)."""
    if not copies:
        return X_train, y_train
    from digits.imaging.distort import augment  # needs the drawing preparation; only loaded when asked for
    start = time.perf_counter()
    X_fit, y_fit = augment(X_train, y_train, copies, np.random.default_rng([seed, 1]))
    say(f"Augmented: {X_fit.shape[0]} training images ({copies} distorted copies of each) "
        f"in {time.perf_counter() - start:.0f} s")
    return X_fit, y_fit


def training_images(X_train, y_train, seed, augment=0, pen=None, scans=0, say=print):
    """The training images, with `augment` distorted copies of each, then `scans` scanned-looking
    copies of some of them (`scanned_copies`), then `pen` (an Extra or (images, labels), from
    `extra_drawings`, made once when several trainings share it) if given."""
    X_fit, y_fit = with_copies(X_train, y_train, augment, seed, say)
    parts = [(X_fit, y_fit)]
    if scans:
        parts.append(scanned_copies(X_train, y_train, scans, seed, say))
    if pen is not None:
        parts.append((pen[0], pen[1]))
    if len(parts) == 1:
        return X_fit, y_fit
    return np.concatenate([X for X, _ in parts]), np.concatenate([y for _, y in parts])


def scanned_copies(X_train, y_train, count, seed, say=print):
    """`count` of the images, chosen at random, made to look scanned (thick, small, blurred, on grey
    paper) and prepared as a small image file is read (digits.imaging.scans)."""
    from digits.imaging.scans import scan_training_images
    start = time.perf_counter()
    X, y = scan_training_images(X_train, y_train, count, np.random.default_rng([seed, 6]))
    say(f"Scans: {X.shape[0]} scanned-looking copies of training images in {time.perf_counter() - start:.0f} s")
    return X, y


def non_digit_drawings(count, seed, pen_digits=None, say=print):
    """`count` drawings that are none of the digits (digits.data.non_digits: letters, symbols,
    scribbles, two pen digits written over each other, dashes), drawn and prepared as the app
    draws strokes, labelled NOT_A_DIGIT: (uint8 (n, 784), labels (n,)). `pen_digits`: the
    PenDigits to overlay (without them that family is left out)."""
    from digits.constants import NOT_A_DIGIT
    from digits.data import non_digits
    from digits.imaging.distort import drawn_inputs
    start = time.perf_counter()
    rng = np.random.default_rng([seed, 5])
    families = [f for f in non_digits.FAMILIES if pen_digits or f != "overlaid digits"]
    strokes = (non_digits.draw(families[i % len(families)], rng, pen_digits) for i in range(count))
    X = drawn_inputs(strokes, rng)
    say(f"Not digits: {X.shape[0]} drawings ({', '.join(families)}) in {time.perf_counter() - start:.0f} s")
    return X, np.full(X.shape[0], NOT_A_DIGIT, dtype=np.int64)


def user_samples(path, copies, say=print):
    """The labelled samples of the user's handwriting in the samples file `path` (digits.samples),
    each repeated `copies` times: (uint8 (n * copies, 784), labels). SamplesError (one line) if
    the file is missing, damaged or empty."""
    import os

    from digits.errors import SamplesError
    from digits.samples import SampleStore
    if not os.path.isfile(path):
        raise SamplesError(f"no samples file {path}; the apps keep one when you tell them what a digit was "
                           "(python gui.py --samples FILE)")
    X, y = SampleStore(path).images_and_labels()
    if not len(y):
        raise SamplesError(f"{path} holds no samples yet: correct a few readings in the apps first")
    say(f"Your samples: {len(y)} from {path} ({', '.join(f'{d}: {np.sum(y == d)}' for d in range(10) if np.any(y == d))}), "
        f"each counted {copies} times")
    return np.repeat(X, copies, axis=0), np.repeat(y, copies)
