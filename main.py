"""Train the 784-100-10 digit network on MNIST and save its weights.

`python main.py` with no options runs the reference tutorial's recipe: MNIST pixels / 255, the
first 60,000 images for training and the last 10,000 for testing, weights uniform in
[-0.15, 0.15], lambda 0.1, L-BFGS-B for 100 iterations. It prints test and training accuracy
and precision, and writes weights/Theta1.txt and weights/Theta2.txt.
"""
import argparse
import sys
import time

import numpy as np

import dataset
from errors import DataError
from metrics import accuracy, confusion_matrix, precision_recall
from train import predict_images, train
from weights import DEFAULT_WEIGHTS_DIR, WeightsError, save_weights


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def non_negative_float(text):
    value = float(text)
    if not np.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def fraction(text):
    try:
        value = eval_fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1 such as 0.2 or 1/7, got {text}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def eval_fraction(text):
    """'0.25' or '1/7' as a float."""
    numerator, _, denominator = text.partition("/")
    return float(numerator) / float(denominator) if denominator else float(numerator)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Train the digit network on MNIST (the reference recipe by default) and save its weights.")
    parser.add_argument("--data", metavar="PATH",
                        help="mnist-original.mat, or a folder with the four MNIST IDX files "
                             "(default: data/mnist-original.mat, downloaded and made if missing)")
    parser.add_argument("--test-fraction", type=fraction, default=1 / 7, metavar="F",
                        help="the last F of the images are held out for testing (default 1/7: MNIST's 10,000 of 70,000)")
    parser.add_argument("--maxiter", type=positive_int, default=100, help="L-BFGS-B iterations (default 100)")
    parser.add_argument("--lambda", dest="lamb", type=non_negative_float, default=0.1,
                        help="regularisation strength lambda (default 0.1)")
    parser.add_argument("--hidden", type=positive_int, default=100, help="hidden units (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random initial weights (default 0)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="precision of the matrix products (default float64; float32 is about twice as fast)")
    parser.add_argument("--weights-dir", default=DEFAULT_WEIGHTS_DIR, metavar="DIR",
                        help="where Theta1.txt and Theta2.txt are written (default weights/)")
    return parser.parse_args(argv)


def print_evaluation(y_test, test_pred, y_train, train_pred):
    test_accuracy, train_accuracy = accuracy(y_test, test_pred), accuracy(y_train, train_pred)
    print(f"Test Set Accuracy: {100 * test_accuracy:f}")
    print(f"Training Set Accuracy: {100 * train_accuracy:f}")
    counts = confusion_matrix(y_test, test_pred)
    precision, recall = precision_recall(counts)
    print(f"Precision (test set, mean over the 10 digits): {precision.mean():.4f}")
    print(f"  (the reference printed training accuracy, {train_accuracy:.4f} here, as its 'precision')")
    print(f"Misclassified test images: {int(np.sum(test_pred != y_test))} of {y_test.size}")
    print("digit  precision  recall  test images")
    for digit in range(counts.shape[0]):
        print(f"{digit:5d}  {precision[digit]:9.4f}  {recall[digit]:6.4f}  {counts[digit].sum():11d}")


def run(args):
    X, y = dataset.load_mnist(args.data)
    X_train, y_train, X_test, y_test = dataset.train_test_split(X, y, X.shape[0] - round(X.shape[0] * args.test_fraction))
    print(f"Training on {X_train.shape[0]} images, testing on {X_test.shape[0]}: "
          f"{X.shape[1]}-{args.hidden}-10 network, lambda {args.lamb}, {args.maxiter} iterations, "
          f"{args.dtype}, seed {args.seed}", flush=True)
    start = time.perf_counter()
    Theta1, Theta2, costs, interrupted = train(
        X_train, y_train, hidden_size=args.hidden, lamb=args.lamb, maxiter=args.maxiter,
        dtype=np.dtype(args.dtype), rng=np.random.default_rng(args.seed), report=lambda line: print(line, flush=True))
    seconds = time.perf_counter() - start
    if interrupted:
        if not costs:
            print("Interrupted before the first iteration finished: nothing saved.", file=sys.stderr)
            return 130
        print(f"Interrupted: stopped early after {len(costs)} iterations; evaluating and saving those weights.")
    else:
        print(f"Trained in {seconds:.1f} s ({len(costs)} iterations)")
    print_evaluation(y_test, predict_images(Theta1, Theta2, X_test), y_train, predict_images(Theta1, Theta2, X_train))
    save_weights(args.weights_dir, Theta1, Theta2)
    print(f"Weights saved to {args.weights_dir}/Theta1.txt and Theta2.txt")
    return 130 if interrupted else 0


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except (DataError, WeightsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # e.g. the weights folder cannot be written
        print(f"error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
