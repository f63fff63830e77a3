"""The images a network trains on: MNIST's training images, plus distorted copies of them and
drawings of real pen-written digits, as the training options ask.

    X_fit, y_fit = training_images(X_train, y_train, seed=0, augment=1,
                                   pen_digits="../shared/pendigits", pen_writers=15, pen_copies=8)

Everything is uint8 pixels 0..255, (m, 784), labels (m,). `say(line)` hears what was made
and how long it took. Used by main.py and by the benchmarks that train (one recipe, one place).
"""
import time

import numpy as np


def pen_drawings(path, writers, copies, seed, say=print):
    """`copies` drawings of each pen digit of writers 1..`writers` in the pendigits file or
    folder `path`, drawn as the app draws strokes (digits.imaging.distort.pen_training_images)."""
    from digits.data import pendigits
    from digits.imaging.distort import pen_training_images
    start = time.perf_counter()
    digits = [d for d in pendigits.load(path) if d.writer <= writers]
    X_pen, y_pen = pen_training_images(digits, copies, np.random.default_rng([seed, 3]))
    say(f"Pen digits: {X_pen.shape[0]} drawings of {len(digits)} digits by writers 1-{writers} "
        f"in {time.perf_counter() - start:.0f} s")
    return X_pen, y_pen


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


def training_images(X_train, y_train, seed, augment=0, pen=None, say=print):
    """The training images, with `augment` distorted copies of each, then `pen` (images, labels)
    (from `pen_drawings`, made once when several trainings share it) if given."""
    X_fit, y_fit = with_copies(X_train, y_train, augment, seed, say)
    if pen is not None:
        X_fit, y_fit = np.concatenate([X_fit, pen[0]]), np.concatenate([y_fit, pen[1]])
    return X_fit, y_fit
