"""Benchmark: how often the advice under "Not sure" names each cause (digits.recognise.likely_cause).

Real pen digits (UCI pendigits, every third one) are drawn off-screen as the app draws them:
one per canvas (the cause should almost never be anything but "unclear"), two side by side
(a number: it should be "several"), and small (15-20 % of the canvas height: "small"). For the
pairs it also counts how many the network alone would have called sure: the readings that
the "several" rule turns into an honest "Not sure".

    python -m benchmarks.unsure_causes [--pen-digits FILE] [--step 3] [--pairs 200]
"""
import argparse
import collections
import sys

import numpy as np

from digits import nets
from digits.cli import run_reporting_errors, whole_number
from digits.data import pendigits
from digits.imaging.prepare import prepare_image
from digits.imaging.strokes import CANVAS_HEIGHT, CANVAS_WIDTH, fit_to_canvas, render
from digits.recognise import likely_cause


def single(d, rng, size_range=(0.45, 0.8)):
    return render(fit_to_canvas(d.strokes, CANVAS_WIDTH, CANVAS_HEIGHT, rng, size_range))


def pair(a, b, rng):
    """Two digits side by side, each in its half of the canvas."""
    half = CANVAS_WIDTH // 2 - 15
    left = fit_to_canvas(a.strokes, half, CANVAS_HEIGHT, rng)
    right = [s + [CANVAS_WIDTH - half, 0] for s in fit_to_canvas(b.strokes, half, CANVAS_HEIGHT, rng)]
    return render(left + right)


def share(counter):
    n = sum(counter.values())
    return ", ".join(f"{cause} {count} ({count / n:.2%})" for cause, count in counter.most_common())


def run(args):
    digits = pendigits.load(args.pen_digits)
    rng = np.random.default_rng(0)
    chosen = digits[::args.step]
    singles = collections.Counter(likely_cause(single(d, rng)) for d in chosen)
    print(f"one pen digit per canvas ({len(chosen)}): {share(singles)}")
    pictures = [pair(a, b, rng) for a, b in zip(digits[0:2 * args.pairs:2], digits[1:2 * args.pairs:2])]
    print(f"two side by side ({len(pictures)}): {share(collections.Counter(map(likely_cause, pictures)))}")
    network = nets.load_pretrained()
    confidence = network.predict_proba(np.array([prepare_image(p) for p in pictures])).max(axis=1)
    print(f"  of which {network.describe()} alone would call sure: "
          f"{np.count_nonzero(confidence >= network.sure_above)} (sure above {network.sure_above:.2f})")
    small = collections.Counter(likely_cause(single(d, rng, (0.15, 0.2))) for d in chosen[:args.pairs])
    print(f"small, 15-20% of the canvas height ({sum(small.values())}): {share(small)}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pen-digits", metavar="FILE", help="pendigits-orig.tra (default: ../shared/pendigits)")
    parser.add_argument("--step", type=whole_number(1), default=3, help="every STEP-th pen digit (default 3)")
    parser.add_argument("--pairs", type=whole_number(1), default=200, help="pairs side by side (default 200)")
    return run_reporting_errors(run, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
