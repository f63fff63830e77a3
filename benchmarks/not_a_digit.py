"""Benchmark: how often a network says "not a digit", for drawings that are none and for digits.

    python -m benchmarks.not_a_digit [--weights-dir DIR] [--drawings 300] [--seed 12]

Fresh drawings of each family of digits.data.non_digits (letters, symbols, scribbles, two
digits written over each other, dashes; drawn with another seed than any training run's, at
random sizes and places with random pens, prepared as the app prepares a drawing), and real
digits: the MNIST test set, pen digits drawn as the app draws them, and MNIST test digits made
to look scanned (benchmarks.pen_drawings.scanned_like). Last, letters and symbols of kinds no
network here trained on (non_digits.UNSEEN_FAMILIES), as other people's drawings will be. For
each, the share the network calls "not a digit" at the thresholds the apps use
(digits.recognise: drawings and image files), and, for comparison, the share a network would
merely call "not sure" (below its calibrated threshold, the only doubt a ten-digit network can
voice). A network with a stroke reader (digits.nets.trajectory) is measured a second way, as the
apps read a drawing whose strokes they know: its shares and "not a digit" joined with the path's,
"not sure" below the reader's line (a last column; image files and MNIST have no strokes). `--by-kind`: then each
letter and symbol never trained on alone.
"""
import argparse

import numpy as np

from benchmarks.pen_drawings import add_reading_options, app_inputs, load_pen_digits, mnist_dir, reading_network, scanned_like
from digits.data import mnist, non_digits
from digits.imaging.distort import drawn_inputs
from digits.imaging.strokes import CANVAS_HEIGHT, CANVAS_WIDTH, fit_to_canvas
from digits.nets import trajectory
from digits.recognise import FILE_NOT_A_DIGIT_ABOVE, NOT_A_DIGIT_ABOVE, views_answer


def drawn_with_paths(drawings, rng, count):
    """`drawn_inputs` of `count` drawings from the iterable `drawings` (tablet strokes), and the
    strokes of each drawing kept (the same draws of `rng` as `drawn_inputs` alone makes)."""
    made = []

    def recorded():
        for d in drawings:
            made.append(d)
            yield d
    X, kept = drawn_inputs(recorded(), rng, labels=np.arange(count))
    return X, [made[i] for i in kept]


def joined_caught(net, shares, none, drawings):
    """Per drawing, whether the reading joined with its path's (tablet strokes `drawings`, placed on
    the canvas as the apps receive them) is "not a digit" or below the stroke reader's "not sure"
    line, as `digits.recognise.recognise` judges a drawing read with its strokes."""
    reader = net.stroke_reader
    place = np.random.default_rng(0)        # the path's features do not depend on the place or size
    joined, none = reader.joined(shares, none, trajectory.features_of(
        [fit_to_canvas(d, CANVAS_WIDTH, CANVAS_HEIGHT, place) for d in drawings]))
    line = net.sure_above if reader.sure_above is None else reader.sure_above
    return (none > NOT_A_DIGIT_ABOVE) | (joined.max(axis=1) < line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drawings", type=int, default=300, help="drawings of each family (default 300)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--by-kind", action="store_true",
                        help="then each letter and symbol never trained on, alone: the share caught and what the rest read")
    add_reading_options(parser)
    args = parser.parse_args(argv)
    net = reading_network(args.weights_dir)
    pen = load_pen_digits(args.pen_digits)
    X, y = mnist.load_mnist(mnist_dir(args.data))
    rng = np.random.default_rng(args.seed)
    sets, paths = {}, {}
    for family in non_digits.FAMILIES:
        A, paths[family] = drawn_with_paths((non_digits.draw(family, rng, pen) for _ in range(args.drawings)), rng,
                                            args.drawings)
        sets[family] = A / 255.0
    sets["digits: MNIST test (10,000)"] = X[60000:] / 255.0
    name = "digits: pen digits drawn as the app draws them (2,000)"
    picked = [pen[i] for i in rng.choice(len(pen), 2000, replace=False)]
    sets[name], paths[name] = app_inputs(picked, rng), [d.strokes for d in picked]
    sets["digits: MNIST test made to look scanned (2,000)"] = scanned_like(X[60000:62000], np.random.default_rng(7))
    unseen = np.random.default_rng([args.seed, 1])        # its own stream: the rows above stay as they were
    for family in non_digits.UNSEEN_FAMILIES:
        A, paths[family] = drawn_with_paths((non_digits.draw(family, unseen) for _ in range(args.drawings)), unseen,
                                            args.drawings)
        sets[family] = A / 255.0
    joined = getattr(net, "stroke_reader", None) is not None
    print(f"{net.describe()}: the share called 'not a digit' above {NOT_A_DIGIT_ABOVE} (drawings) and "
          f"{FILE_NOT_A_DIGIT_ABOVE} (image files); the share only 'not sure' (below {net.sure_above:.3f})"
          + (f"; with the strokes joined (weight {net.stroke_reader.weight:g}), not sure below "
             f"{net.stroke_reader.sure_above or net.sure_above:.3f}" if joined else ""))
    print(f"| drawings | not a digit (> {NOT_A_DIGIT_ABOVE}) | not a digit (> {FILE_NOT_A_DIGIT_ABOVE}) "
          "| not a digit or not sure (drawings) |" + (" the same, strokes joined |" if joined else ""))
    print("|---|---|---|---|" + ("---|" if joined else ""))
    read = {}
    for name, A in sets.items():
        shares, none = views_answer(A if A.ndim == 3 else A[:, None], net)     # the scans: both ways a file is read
        read[name] = shares.argmax(axis=1)
        unsure = shares.max(axis=1) < net.sure_above
        last = ""
        if joined:
            last = f" {100 * np.mean(joined_caught(net, shares, none, paths[name])):.1f} % |" if name in paths else " - |"
        print(f"| {name} | {100 * np.mean(none > NOT_A_DIGIT_ABOVE):.1f} % | {100 * np.mean(none > FILE_NOT_A_DIGIT_ABOVE):.1f} % "
              f"| {100 * np.mean((none > NOT_A_DIGIT_ABOVE) | unsure):.1f} % |" + last)
    wrong = int(np.sum(read["digits: MNIST test (10,000)"] != y[60000:]))
    print(f"MNIST test set read right: {100 - wrong / 100:.2f} % ({wrong} of 10,000 misread)")
    if args.by_kind:
        by_kind(net, args.drawings, np.random.default_rng([args.seed, 2]))


def by_kind(net, count, rng):
    """Each letter and symbol never trained on, `count` drawings of it: the share "not a digit or
    not sure" (drawings), and the digits the others were read as."""
    print(f"| never trained on ({count} drawings of each) | not a digit or not sure | the others read as |")
    print("|---|---|---|")
    for templates, jitter in ((non_digits.UNSEEN_LETTERS, 0.06), (non_digits.UNSEEN_SYMBOLS, 0.04)):
        for name, template in sorted(templates.items()):
            A = drawn_inputs((non_digits.varied(template, rng, jitter) for _ in range(count)), rng) / 255.0
            shares, none = views_answer(A[:, None], net)
            caught = (none > NOT_A_DIGIT_ABOVE) | (shares.max(axis=1) < net.sure_above)
            counts = np.bincount(shares.argmax(axis=1)[~caught], minlength=10)
            read = ", ".join(f"{d}: {c}" for d, c in sorted(enumerate(counts), key=lambda dc: -dc[1]) if c)
            print(f"| {name} | {100 * caught.mean():.1f} % | {read or '-'} |")


if __name__ == "__main__":
    main()
