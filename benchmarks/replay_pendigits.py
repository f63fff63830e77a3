"""Benchmark: real pen-written digits replayed through the drawing app, and how many it recognises.

Each of the 7,494 pendigits digits is drawn on `DigitApp`'s canvas through its own bound
mouse handlers (press, motion, release, as Tk events), at a random place and a random
size (digit height 45-80 % of the canvas), and the app's prediction is compared with the
label. The same drawings are also read by two older pipelines, from the app's off-screen
image: the plain MNIST preparation (crop, scale to 20, centre by mass, strokes as drawn)
and the reference's (the whole canvas squeezed to 28x28).

Figures are given for all digits and for writers 1-15 and 16-30 apart: the shipped weights
learnt from drawings of writers 1-15, so only writers 16-30 measure them fairly.

    python -m benchmarks.replay_pendigits [--weights-dir DIR ...] [--limit N] [--writers A-B] [--seed S]

Needs a display: without $DISPLAY it starts its own Xvfb.
"""
import argparse
import os
import sys
import time

import numpy as np

from benchmarks.pen_drawings import canvas_strokes
from digits import nets
from digits.data import pendigits
from digits.errors import EmptyImageError, UserInputError
from digits.imaging.prepare import prepare_array, prepare_image, to_array
from digits.imaging.strokes import CANVAS_HEIGHT, CANVAS_WIDTH
from tests.helpers import xvfb as virtual_display
from tests.helpers.replay import replay


def start_xvfb():
    """Start a private Xvfb and point $DISPLAY at it; returns the process."""
    try:
        proc, display = virtual_display.start_xvfb()
    except virtual_display.XvfbError as e:
        sys.exit(f"error: no $DISPLAY and {e}")
    os.environ["DISPLAY"] = display
    return proc


def reference_input(image):
    """The reference's preparation: the whole canvas squeezed to 28x28, pixels / 255."""
    return np.asarray(image.convert("L").resize((28, 28)), dtype=np.float64).ravel() / 255


def plain_input(image):
    """The plain MNIST preparation: crop, longer side to 20, centre by mass; strokes as drawn."""
    return prepare_array(to_array(image), stroke=None)


# The shipped MLP learnt from writers 1..15's digits (see distort.pen_training_images):
# only writers 16..30 are a fair test of them.
TRAIN_WRITERS = 15

PIPELINES = ("app (prepare_image)", "plain MNIST preparation", "reference (canvas squeezed to 28x28)")


def replay_all(digits, app, seed):
    """Draw every digit on the app. Returns the app's own answers (-1: refused) and, for each
    pipeline, the network inputs it makes of the app's off-screen image ((m, 784) arrays)."""
    answers, inputs = [], {name: [] for name in PIPELINES}
    for i, strokes in enumerate(canvas_strokes(digits, np.random.default_rng(seed))):
        app.clear()
        replay(app, strokes)
        digit, _ = app.predict()
        answers.append(-1 if digit is None else digit)
        for name, read in zip(PIPELINES, (prepare_image, plain_input, reference_input)):
            try:
                inputs[name].append(read(app.image))
            except EmptyImageError:     # counted as not recognised: an all-zero input
                inputs[name].append(np.zeros(784))
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1} digits replayed", file=sys.stderr, flush=True)
    return np.array(answers), {name: np.array(x) for name, x in inputs.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights-dir", action="append", metavar="DIR",
                        help="networks to measure (repeatable; default the pretrained MLP); the app itself uses the first")
    parser.add_argument("--pendigits", default=None, metavar="DIR", help="folder of pendigits-orig.tra "
                        "(default $PENDIGITS_DIR or ../shared/pendigits)")
    parser.add_argument("--limit", type=int, default=None, help="replay only the first N digits")
    parser.add_argument("--writers", default=None, metavar="A-B",
                        help="replay only the digits of writers A..B (1-30), e.g. to leave out writers "
                             "whose digits were used in training")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random places and sizes (default 0)")
    args = parser.parse_args(argv)
    dirs = args.weights_dir or [nets.pretrained_dir("mlp")]
    try:
        digits = pendigits.load(args.pendigits)
        if args.writers:
            first, last = (int(w) for w in args.writers.split("-"))
            digits = [d for d in digits if first <= d.writer <= last]
        digits = digits[:args.limit]
        networks = [nets.load_network(d) for d in dirs]
    except UserInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    labels = np.array([d.label for d in digits])

    xvfb = start_xvfb() if not os.environ.get("DISPLAY") else None
    try:
        import tkinter as tk
        import gui
        root = tk.Tk()
        app = gui.DigitApp(root, weights_dir=dirs[0])
        root.update()                   # map the window: Tk delivers mouse events only to mapped windows
        start = time.perf_counter()
        answers, inputs = replay_all(digits, app, args.seed)
        seconds = time.perf_counter() - start
        root.destroy()
    finally:
        if xvfb:
            xvfb.terminate()
            xvfb.wait()

    print(f"{len(digits)} pendigits digits from {len({d.writer for d in digits})} writers replayed onto the "
          f"{CANVAS_WIDTH}x{CANVAS_HEIGHT} canvas through DigitApp's handlers in {seconds:.0f} s (seed {args.seed})")
    writers = np.array([d.writer for d in digits])
    groups = [("all", np.ones(len(digits), bool)),
              (f"writers 1-{TRAIN_WRITERS}", writers <= TRAIN_WRITERS),
              (f"writers {TRAIN_WRITERS + 1}-30", writers > TRAIN_WRITERS)]
    groups = [(name, mask) for name, mask in groups if mask.any()]
    print(f"{'weights':28s} {'pipeline':38s}" + "".join(f"{name:>15s}" for name, _ in groups))
    for directory, net in zip(dirs, networks):
        for name in PIPELINES:
            predicted = net.predict(inputs[name])
            if name == PIPELINES[0]:
                predicted[inputs[name].max(axis=1) == 0] = -1       # the app refused these
                if directory == dirs[0]:    # the app's own answers, from its own handlers
                    assert np.array_equal(predicted, answers), "the app and the benchmark disagree"
            right = predicted == labels
            print(f"{os.path.relpath(directory):28s} {name:38s}"
                  + "".join(f"{100 * right[mask].mean():13.2f} %" for _, mask in groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
