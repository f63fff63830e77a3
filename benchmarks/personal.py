"""Benchmark: how much a personal network gains on its writer's handwriting, and what it loses.

    python -m benchmarks.personal --weights-dir DIR [--writers 10] [--samples 20] [--copies 50]

Each pendigits writer plays a user: the first `--samples` of their digits, drawn as the app
draws them, are the samples they gave by correcting the app (labelled); the rest of their
digits, drawn afresh, are what they write next. For each writer, the network in DIR (one that
never saw pendigits: `python main.py --model cnn --weights-dir DIR` trains one on MNIST alone)
is fine-tuned as `python main.py --fine-tune DIR --samples FILE` does it: a few epochs on MNIST
training images plus the samples, each counted `--copies` times. Printed per writer: the
share of the rest of their digits read right before and after, and MNIST test accuracy before
and after; then the means.
"""
import argparse
import copy
import time

import numpy as np

from benchmarks.pen_drawings import app_inputs, load_pen_digits, mnist_dir
from digits import nets
from digits.data import mnist


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights-dir", required=True, metavar="DIR", help="a network trained without pendigits")
    parser.add_argument("--writers", type=int, default=10, help="how many writers play users (default 10)")
    parser.add_argument("--samples", type=int, default=20, help="samples each user gave (default 20)")
    parser.add_argument("--copies", type=int, default=50, help="each sample counted this many times (default 50)")
    parser.add_argument("--mnist", type=int, default=10000, help="MNIST training images beside them (default 10,000)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--data", metavar="FOLDER")
    parser.add_argument("--pen-digits", metavar="FILE")
    args = parser.parse_args(argv)
    base = nets.load_network(args.weights_dir)
    X, y = mnist.load_mnist(mnist_dir(args.data))
    X_test, y_test = X[60000:62000], y[60000:62000]
    pen = load_pen_digits(args.pen_digits)
    rng = np.random.default_rng(0)
    before_mnist = float(np.mean(base.predict_pixels(X_test) == y_test))
    print(f"{base.describe()} from {args.weights_dir}: {args.samples} samples per writer, each x{args.copies}, "
          f"+ {args.mnist} MNIST images, {args.epochs} epochs at lr {args.lr}")
    rows = []
    for writer in range(1, args.writers + 1):
        digits = [d for d in pen if d.writer == writer]
        given, rest = digits[:args.samples], digits[args.samples:]
        X_user = np.round(255 * app_inputs(given, rng)).astype(np.uint8)
        X_rest, y_rest = app_inputs(rest, np.random.default_rng(100 + writer)), np.array([d.label for d in rest])
        pick = rng.choice(60000, args.mnist, replace=False)
        images = np.concatenate([X[pick], np.repeat(X_user, args.copies, axis=0)])
        labels = np.concatenate([y[pick], np.repeat([d.label for d in given], args.copies)])
        start = time.perf_counter()
        mine, _ = type(base).train(images, labels, lamb=base.LAMBDA, seed=writer, report=None, start=copy.deepcopy(base),
                                   **{**{o.name: o.default for o in base.OPTIONS}, **_minibatch(base, args)})
        seconds = time.perf_counter() - start
        row = (float(np.mean(base.predict(X_rest) == y_rest)), float(np.mean(mine.predict(X_rest) == y_rest)),
               float(np.mean(mine.predict_pixels(X_test) == y_test)))
        rows.append(row)
        print(f"writer {writer:2d} ({len(rest)} digits after their {len(given)} samples): "
              f"{100 * row[0]:.2f} % -> {100 * row[1]:.2f} %; MNIST test {100 * before_mnist:.2f} % -> "
              f"{100 * row[2]:.2f} % ({seconds:.0f} s)", flush=True)
    rows = np.array(rows)
    print(f"\nmean over {len(rows)} writers: their digits {100 * rows[:, 0].mean():.2f} % -> {100 * rows[:, 1].mean():.2f} % "
          f"(worst writer {100 * rows[:, 0].min():.2f} % -> {100 * rows[:, 1][rows[:, 0].argmin()]:.2f} %); "
          f"MNIST test {100 * before_mnist:.2f} % -> {100 * rows[:, 2].mean():.2f} %")


def _minibatch(net, args):
    names = {o.name for o in net.OPTIONS}
    return {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr)) if k in names}


if __name__ == "__main__":
    main()
