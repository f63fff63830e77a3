"""Benchmark: does evening out stroke widths (preprocess step 2) help, for thin and thick brushes?

Pen digits of the writers not used in training (16-30; every 4th digit) are drawn off-screen
exactly as the app draws them, with brushes of several widths, and read with and without
the stroke evening, by each set of weights given.

    python -m benchmarks.brush_widths [--weights-dir DIR ...] [--brushes 6 16 30]
"""
import argparse
import sys

import numpy as np

from benchmarks.pen_drawings import load_pen_digits, canvas_images
from digits import nets
from digits.errors import EmptyImageError
from digits.imaging.prepare import STROKE, prepare_array, to_array


def inputs(digits, brush, stroke, seed):
    """Network inputs of each digit drawn with `brush` (seeded places and sizes)."""
    rows = []
    for image in canvas_images(digits, np.random.default_rng(seed), brush):
        try:
            rows.append(prepare_array(to_array(image), stroke=stroke))
        except EmptyImageError:
            rows.append(np.zeros(784))   # counted as not recognised
    return np.array(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights-dir", action="append", metavar="DIR", help="repeatable; default the pretrained MLP")
    parser.add_argument("--brushes", type=int, nargs="+", default=[6, 16, 30])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dirs = args.weights_dir or [nets.pretrained_dir("mlp")]
    digits = [d for d in load_pen_digits() if d.writer > 15][::4]
    labels = np.array([d.label for d in digits])
    networks = [nets.load_network(d) for d in dirs]
    print(f"{len(digits)} pen digits of writers 16-30, recognised:")
    print("| brush | " + " | ".join(f"{d}, strokes evened | {d}, as drawn" for d in dirs) + " |")
    print("|---" * (1 + 2 * len(dirs)) + "|")
    for brush in args.brushes:
        X_even, X_plain = inputs(digits, brush, STROKE, args.seed), inputs(digits, brush, None, args.seed)
        cells = [f"{100 * np.mean(net.predict(X) == labels):.1f} %"
                 for net in networks for X in (X_even, X_plain)]
        print(f"| {brush} px | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
