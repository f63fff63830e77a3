"""The benchmarks' real handwriting: pendigits strokes drawn as the apps draw them, in one place.

    digits = load_pen_digits(path)            # or one line saying what is needed, and exit 2
    strokes = canvas_strokes(digits, rng)     # each placed on the app's 350x290 canvas
    images = canvas_images(digits, rng)       # ... and drawn with the app's brush (Pillow images)
    X = app_inputs(digits, rng)               # ... and prepared as the app prepares a drawing (m, 784)
    views = scanned_like(mnist_images, rng)   # MNIST digits as scanned files, prepared as files are (m, 2, 784)

Every benchmark that reads pen digits goes through these, so "drawn as the app draws them"
means the same thing in every figure of the README.
"""
import io
import os
import sys

import numpy as np

from digits.constants import PIXELS, REPO
from digits.data import pendigits
from digits.errors import EmptyImageError, UserInputError
from digits.imaging import scans
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


def add_reading_options(parser):
    """The options of a benchmark that reads with a network: --weights-dir, --data, --pen-digits."""
    parser.add_argument("--weights-dir", metavar="DIR", help="the network (default: the best pretrained one)")
    parser.add_argument("--data", metavar="FOLDER", help="MNIST (default $MNIST_DIR or ../shared/mnist)")
    parser.add_argument("--pen-digits", metavar="FILE", help="pendigits-orig.tra or its folder (default ../shared/pendigits)")


def reading_network(weights_dir=None):
    """The network saved in `weights_dir`, or the best pretrained one."""
    from digits import nets
    return nets.load_network(weights_dir) if weights_dir else nets.load_pretrained()


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


def varied_inputs(digits, rng):
    """The network inputs (m, 784) for each digit drawn as real users vary: a random pen from
    thin to thick (6-30 px), at 30-85 % of the canvas height, anywhere on it; a drawing the
    app would refuse is an all-zero row."""
    rows = []
    for s in canvas_strokes(digits, rng, size_range=(0.3, 0.85)):
        try:
            rows.append(prepare_image(render(s, CANVAS_WIDTH, CANVAS_HEIGHT, int(rng.integers(6, 31)))))
        except EmptyImageError:
            rows.append(np.zeros(PIXELS))
    return np.array(rows)


def scanned_like(images, rng, sides=(14, 23)):
    """MNIST digits (uint8 (m, 784)) made to look like the scanned digits of envelopes and forms
    (`scanned_file`), then prepared as `prediction.py` prepares an image file. Returns the
    network inputs, both ways a file is prepared (m, 2, 784) (all zero where nothing was found):
    read them with `digits.recognise.views_answer`."""
    from digits.imaging.image_files import light_on_dark, read_grey
    from digits.imaging.prepare import prepare_views
    rows = []
    for pixels in np.asarray(images):
        data = scanned_file(pixels, rng, sides)
        try:
            rows.append(prepare_views(light_on_dark(read_grey(io.BytesIO(data), "scan"))))
        except UserInputError:
            rows.append(np.zeros((2, PIXELS)))
    return np.array(rows)


def scanned_file(pixels, rng, sides=(14, 23)):
    """JPEG bytes of MNIST digit `pixels` (uint8 784) as a scanned digit (digits.imaging.scans:
    thicker, size-normalised so its longer side is `sides` (low, high) px, blurred, on grey paper
    with noise; a blank image stays a blank page)."""
    page = scans.scanned_page(pixels, rng, {**scans.SCAN, "side": sides})
    return scans.jpeg_bytes(page, rng.integers(40, 90))
