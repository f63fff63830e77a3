"""The benchmarks' real handwriting: pendigits strokes drawn as the apps draw them, in one place.

    digits = load_pen_digits(path)            # or one line saying what is needed, and exit 2
    strokes = canvas_strokes(digits, rng)     # each placed on the app's 350x290 canvas
    images = canvas_images(digits, rng)       # ... and drawn with the app's brush (Pillow images)
    X = app_inputs(digits, rng)               # ... and prepared as the app prepares a drawing (m, 784)

Every benchmark that reads pen digits goes through these, so "drawn as the app draws them"
means the same thing in every figure of the README.
"""
import os
import sys

import numpy as np

from digits.constants import PIXELS, REPO
from digits.data import pendigits
from digits.errors import EmptyImageError, UserInputError
from digits.imaging.prepare import prepare_image
from digits.imaging.strokes import BRUSH, CANVAS_HEIGHT, CANVAS_WIDTH, fit_to_canvas, render


def need(what, error):
    """Stop the benchmark with one line: which data it needs and where to get it (exit 2)."""
    print(f"error: this benchmark needs {what}: {error}", file=sys.stderr)
    raise SystemExit(2)


def load_pen_digits(path=None):
    """All pendigits digits, from `path`, $PENDIGITS_DIR or ../shared/pendigits."""
    try:
        return pendigits.load(path)
    except UserInputError as e:
        need("the UCI pen digits (pendigits-orig.tra, see DATA.md; set PENDIGITS_DIR or give --pen-digits)", e)


def mnist_dir(path=None):
    """The MNIST folder: `path`, $MNIST_DIR or ../shared/mnist (python main.py downloads MNIST into data/)."""
    folder = path or os.environ.get("MNIST_DIR") or os.path.join(REPO, "..", "shared", "mnist")
    if not os.path.exists(folder):
        data = os.path.join(REPO, "data")
        if os.path.exists(os.path.join(data, "mnist-original.mat")):
            return data
        need("MNIST (the four IDX files; set MNIST_DIR, give --data, or run python main.py once to download it)",
             f"{folder} does not exist")
    return folder


def canvas_strokes(digits, rng, width=CANVAS_WIDTH, height=CANVAS_HEIGHT, size_range=(0.45, 0.8)):
    """Each digit's strokes placed on the canvas as the replay benchmark places them: random
    place, height a random share `size_range` of the canvas."""
    return [fit_to_canvas(d.strokes, width, height, rng, size_range=size_range) for d in digits]


def canvas_images(digits, rng, brush=BRUSH):
    """Each digit drawn on the app's canvas (a Pillow image), with a `brush` px pen."""
    return [render(s, CANVAS_WIDTH, CANVAS_HEIGHT, brush) for s in canvas_strokes(digits, rng)]


def app_inputs(digits, rng, brush=BRUSH):
    """The network inputs (m, 784) floats the app would read for each digit drawn on its canvas;
    a drawing the app would refuse is an all-zero row (counted as wrong)."""
    rows = []
    for image in canvas_images(digits, rng, brush):
        try:
            rows.append(prepare_image(image))
        except EmptyImageError:
            rows.append(np.zeros(PIXELS))
    return np.array(rows)
