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
voice). `--by-kind`: then each letter and symbol never trained on alone.
"""
import argparse

import numpy as np

from benchmarks.pen_drawings import add_reading_options, app_inputs, load_pen_digits, mnist_dir, reading_network, scanned_like
from digits.data import mnist, non_digits
from digits.imaging.distort import drawn_inputs
from digits.recognise import FILE_NOT_A_DIGIT_ABOVE, NOT_A_DIGIT_ABOVE, views_answer


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
    sets = {family: drawn_inputs((non_digits.draw(family, rng, pen) for _ in range(args.drawings)), rng) / 255.0
            for family in non_digits.FAMILIES}
    sets["digits: MNIST test (10,000)"] = X[60000:] / 255.0
    sets["digits: pen digits drawn as the app draws them (2,000)"] = \
        app_inputs([pen[i] for i in rng.choice(len(pen), 2000, replace=False)], rng)
    sets["digits: MNIST test made to look scanned (2,000)"] = scanned_like(X[60000:62000], np.random.default_rng(7))
    unseen = np.random.default_rng([args.seed, 1])        # its own stream: the rows above stay as they were
    for family in non_digits.UNSEEN_FAMILIES:
        sets[family] = drawn_inputs((non_digits.draw(family, unseen) for _ in range(args.drawings)), unseen) / 255.0
    print(f"{net.describe()}: the share called 'not a digit' above {NOT_A_DIGIT_ABOVE} (drawings) and "
          f"{FILE_NOT_A_DIGIT_ABOVE} (image files); the share only 'not sure' (below {net.sure_above:.3f})")
    print(f"| drawings | not a digit (> {NOT_A_DIGIT_ABOVE}) | not a digit (> {FILE_NOT_A_DIGIT_ABOVE}) "
          "| not a digit or not sure (drawings) |")
    print("|---|---|---|---|")
    read = {}
    for name, A in sets.items():
        shares, none = views_answer(A if A.ndim == 3 else A[:, None], net)     # the scans: both ways a file is read
        read[name] = shares.argmax(axis=1)
        unsure = shares.max(axis=1) < net.sure_above
        print(f"| {name} | {100 * np.mean(none > NOT_A_DIGIT_ABOVE):.1f} % | {100 * np.mean(none > FILE_NOT_A_DIGIT_ABOVE):.1f} % "
              f"| {100 * np.mean((none > NOT_A_DIGIT_ABOVE) | unsure):.1f} % |")
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
