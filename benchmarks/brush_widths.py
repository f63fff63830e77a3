"""Benchmark: does evening out stroke widths (preprocess step 2) help, for thin and thick brushes?

Pen digits of the writers not used in training (16-30; every 4th digit) are drawn off-screen
exactly as the app draws them, with brushes of several widths, and read with and without
the stroke evening, by each set of weights given.

    python benchmarks/brush_widths.py [--weights-dir DIR ...] [--brushes 6 16 30]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pendigits  # noqa: E402
import prediction  # noqa: E402
import weights  # noqa: E402
from gui import CANVAS_HEIGHT, CANVAS_WIDTH  # noqa: E402
from preprocess import STROKE, EmptyImageError, prepare, to_array  # noqa: E402


def inputs(digits, brush, stroke, seed):
    """Network inputs of each digit drawn with `brush` (seeded places and sizes)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in digits:
        image = pendigits.render(pendigits.fit_to_canvas(d.strokes, CANVAS_WIDTH, CANVAS_HEIGHT, rng),
                                 CANVAS_WIDTH, CANVAS_HEIGHT, brush)
        try:
            rows.append(prepare(to_array(image), stroke=stroke))
        except EmptyImageError:
            rows.append(np.zeros(784))   # counted as not recognised
    return np.array(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights-dir", action="append", metavar="DIR", help="repeatable; default weights/")
    parser.add_argument("--brushes", type=int, nargs="+", default=[6, 16, 30])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dirs = args.weights_dir or [weights.DEFAULT_WEIGHTS_DIR]
    digits = [d for d in pendigits.load() if d.writer > 15][::4]
    labels = np.array([d.label for d in digits])
    nets = [weights.load_weights(d) for d in dirs]
    print(f"{len(digits)} pen digits of writers 16-30, recognised:")
    print("| brush | " + " | ".join(f"{d}, strokes evened | {d}, as drawn" for d in dirs) + " |")
    print("|---" * (1 + 2 * len(dirs)) + "|")
    for brush in args.brushes:
        X_even, X_plain = inputs(digits, brush, STROKE, args.seed), inputs(digits, brush, None, args.seed)
        cells = [f"{100 * np.mean(prediction.predict(T1, T2, X) == labels):.1f} %"
                 for T1, T2 in nets for X in (X_even, X_plain)]
        print(f"| {brush} px | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
