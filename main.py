"""Train a digit network on MNIST and save it.

`python main.py` with no options runs the reference tutorial's recipe: a 784-100-10 sigmoid
network (MLP), MNIST pixels / 255, the first 60,000 images for training and the last 10,000
for testing, weights uniform in [-0.15, 0.15], lambda 0.1, L-BFGS-B for 100 iterations. It
prints test and training accuracy and precision, and writes weights/Theta1.txt and
weights/Theta2.txt.

`python main.py --model cnn` trains the hand-written convolutional network instead, by
minibatch Adam (its default recipe: CNN_RECIPE below), and writes weights/cnn.npz.
"""
import sys

try:
    import argparse
    import os
    import time

    import numpy as np

    from digits.cli import exit_code, positive_float, run_reporting_errors, whole_number
    from digits.constants import REPORT_DIR, WEIGHTS_DIR
    from digits.data import mnist
    from digits.errors import DataError, OutputError
    from digits.files import check_output_dir
    from digits.nets import MLP, lbfgs, minibatch
    from digits.nets.cnn import CNN, RECIPE
    from digits.reporting import pictures
    from digits.reporting.kfold import stratified_kfold
    from digits.reporting.metrics import accuracy, confusion_matrix, precision_recall
except KeyboardInterrupt:       # Ctrl-C while the libraries load: no traceback
    sys.exit(130)


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


# The CNN's default recipe, chosen by measurement (README, "The convolutional network").
CNN_RECIPE = dict(convs=(16, 32), hidden=(128,), kernel=5, **{k: v for k, v in RECIPE.items() if k != "schedule"})

def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


MLP_DEFAULTS = dict(maxiter=100, hidden=100, dtype="float64")
CNN_DEFAULTS = dict(epochs=CNN_RECIPE["epochs"], batch_size=CNN_RECIPE["batch_size"], lr=CNN_RECIPE["lr"])


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Train a digit network on MNIST (the reference recipe by default) and save it.")
    parser.add_argument("--model", choices=("mlp", "cnn"), default="mlp",
                        help="mlp: the tutorial's 784-100-10 sigmoid network, trained by L-BFGS-B (default); "
                             "cnn: the convolutional network, trained by minibatch Adam")
    parser.add_argument("--data", metavar="PATH",
                        help="mnist-original.mat, a folder with the four MNIST IDX files, or a Kaggle "
                             "Digit Recognizer train.csv (default: data/mnist-original.mat, downloaded "
                             "and made if missing)")
    parser.add_argument("--test-fraction", type=fraction, default=1 / 7, metavar="F",
                        help="the last F of the images are held out for testing (default 1/7: MNIST's 10,000 of 70,000)")
    parser.add_argument("--lambda", dest="lamb", type=non_negative_float, default=None, metavar="L",
                        help=f"regularisation strength lambda (default 0.1 for the MLP, {CNN_RECIPE['lamb']} "
                             "for the CNN: weight decay)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the random initial weights (default 0)")
    parser.add_argument("--weights-dir", default=WEIGHTS_DIR, metavar="DIR",
                        help="where the network is written: Theta1.txt and Theta2.txt, or cnn.npz (default "
                             "weights/; the shipped networks in weights/pretrained/ are never overwritten by default)")
    mlp = parser.add_argument_group("the MLP (--model mlp)")
    mlp.add_argument("--maxiter", type=whole_number(1), metavar="N", help="L-BFGS-B iterations (default 100)")
    mlp.add_argument("--hidden", type=whole_number(1), metavar="N", help="hidden units (default 100)")
    mlp.add_argument("--dtype", choices=("float64", "float32"),
                     help="precision of the matrix products (default float64; float32 is about twice as fast)")
    cnn = parser.add_argument_group("the CNN (--model cnn)")
    cnn.add_argument("--epochs", type=whole_number(1), metavar="N",
                     help=f"passes over the training images (default {CNN_RECIPE['epochs']})")
    cnn.add_argument("--batch-size", type=whole_number(1), metavar="B",
                     help=f"images per Adam step (default {CNN_RECIPE['batch_size']})")
    cnn.add_argument("--lr", type=positive_float, metavar="R",
                     help=f"initial learning rate, lowered to 0 along a half cosine (default {CNN_RECIPE['lr']})")
    parser.add_argument("--augment", type=whole_number(0), default=0, metavar="N",
                        help="add N distorted copies of every training image (rotated, slanted, stretched, "
                             "thicker or thinner strokes: how drawings differ from MNIST); default 0")
    parser.add_argument("--pen-digits", metavar="FILE",
                        help="also train on real pen-written digits (UCI pendigits-orig.tra), each drawn "
                             "the way the drawing app draws strokes")
    parser.add_argument("--pen-writers", type=whole_number(1), default=15, metavar="N",
                        help="with --pen-digits: use writers 1..N only, so the others stay a fair test (default 15)")
    parser.add_argument("--pen-copies", type=whole_number(1), default=8, metavar="K",
                        help="with --pen-digits: K drawings of each pen digit, at random places, sizes, "
                             "slants and brush widths (default 8)")
    parser.add_argument("--kfold", type=whole_number(2), metavar="K",
                        help="instead of one training run: K-fold cross-validation on the training images "
                             "(stratified, shuffled with the seed); prints each fold's accuracy; saves no weights")
    parser.add_argument("--report-dir", default=REPORT_DIR, metavar="DIR",
                        help="where the pictures of the run are written (default report/)")
    parser.add_argument("--no-report", action="store_true", help="write no pictures")
    args = parser.parse_args(argv)
    # An option of the other network would be silently ignored: say so instead.
    own, other = (MLP_DEFAULTS, CNN_DEFAULTS) if args.model == "mlp" else (CNN_DEFAULTS, MLP_DEFAULTS)
    for name in other:
        if getattr(args, name) is not None:
            parser.error(f"--{name.replace('_', '-')} is an option of --model {'cnn' if args.model == 'mlp' else 'mlp'}, "
                         f"not of --model {args.model}")
    for name, default in own.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args


def print_evaluation(y_test, test_pred, y_train, train_pred):
    test_accuracy, train_accuracy = accuracy(y_test, test_pred), accuracy(y_train, train_pred)
    print(f"Test Set Accuracy: {100 * test_accuracy:f}")
    print(f"Training Set Accuracy: {100 * train_accuracy:f}")
    counts = confusion_matrix(y_test, test_pred)
    precision, recall = precision_recall(counts)
    print(f"Precision (test set, mean over the 10 digits): {precision.mean():.4f}")
    print(f"  (the reference printed training accuracy, {train_accuracy:.4f} here, as its 'precision')")
    print(f"Misclassified test images: {int(np.sum(test_pred != y_test))} of {y_test.size}")
    print("Confusion matrix of the test set (rows: true digit, columns: predicted):")
    print(pictures.format_confusion_matrix(counts))


def write_pictures(args, **figures):
    """The run's report PNGs; a missing plotting library costs the pictures, not the run."""
    if args.no_report:
        return
    try:
        paths = pictures.write_report(args.report_dir, **figures)
    except ImportError as e:
        print(f"warning: no report pictures ({e}); install them with: pip install matplotlib", file=sys.stderr)
        return
    except OSError as e:     # the network is saved already: the pictures are not worth a failure
        print(f"warning: no report pictures: cannot write into {args.report_dir}: {e.strerror or e}",
              file=sys.stderr)
        return
    print(f"Report: {', '.join(paths)}")


def lamb(args):
    return args.lamb if args.lamb is not None else (0.1 if args.model == "mlp" else CNN_RECIPE["lamb"])


def fit(args, X_fit, y_fit, report, validation=None):
    """A network trained on X_fit, y_fit with the recipe the options describe.

    Returns (net, curve, interrupted): curve is the cost per L-BFGS-B iteration (MLP) or the
    per-epoch history (CNN); interrupted the KeyboardInterrupt that stopped training, or None.
    """
    rng = np.random.default_rng(args.seed)
    if args.model == "mlp":
        net = MLP.random(args.hidden, rng)
        costs, interrupted = lbfgs.train(net, X_fit, y_fit, lamb=lamb(args), maxiter=args.maxiter,
                                         dtype=np.dtype(args.dtype), report=report)
        return net, costs, interrupted
    net = CNN.random(rng, convs=CNN_RECIPE["convs"], hidden=CNN_RECIPE["hidden"], kernel=CNN_RECIPE["kernel"])
    history, interrupted = minibatch.train_minibatch(
        net, X_fit, y_fit, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        rng=np.random.default_rng([args.seed, 4]), validation=validation, distort=CNN_RECIPE["distort"],
        report=report, progress=minibatch.progress_printer() if report and sys.stderr.isatty() else None, lamb=lamb(args))
    return net, history, interrupted


def describe_run(args, X_fit, X_test):
    """The line that says what is about to be trained."""
    head = f"Training on {X_fit.shape[0]} images, testing on {X_test.shape[0]}: "
    if args.model == "mlp":
        return head + (f"{X_fit.shape[1]}-{args.hidden}-10 network, lambda {lamb(args)}, {args.maxiter} "
                       f"iterations, {args.dtype}, seed {args.seed}")
    convs = "-".join(f"conv{c}-pool" for c in CNN_RECIPE["convs"])
    return head + (f"CNN {convs}-{'-'.join(f'fc{h}' for h in CNN_RECIPE['hidden'])}, {plural(args.epochs, 'epoch')} of "
                   f"batches of {args.batch_size}, Adam lr {args.lr}, weight decay {lamb(args)}, "
                   f"{'distorted batches, ' if CNN_RECIPE['distort'] else ''}float32, seed {args.seed}")


def pen_drawings(args):
    """Drawings of the pen digits of writers 1..--pen-writers (--pen-digits), or None."""
    if not args.pen_digits:
        return None
    from digits.data import pendigits
    from digits.imaging.distort import pen_training_images
    start = time.perf_counter()
    digits = [d for d in pendigits.load(args.pen_digits) if d.writer <= args.pen_writers]
    X_pen, y_pen = pen_training_images(digits, args.pen_copies, np.random.default_rng([args.seed, 3]))
    print(f"Pen digits: {X_pen.shape[0]} drawings of {len(digits)} digits by writers 1-{args.pen_writers} "
          f"in {time.perf_counter() - start:.0f} s", flush=True)
    return X_pen, y_pen


def augmented(args, X_train, y_train, pen=None):
    """The training images, plus distorted copies (--augment) and the pen drawings, if any."""
    X_fit, y_fit = X_train, y_train
    if args.augment:
        from digits.imaging.distort import augment  # needs the drawing preparation; only loaded when asked for
        start = time.perf_counter()
        X_fit, y_fit = augment(X_train, y_train, args.augment, np.random.default_rng([args.seed, 1]))
        print(f"Augmented: {X_fit.shape[0]} training images ({args.augment} distorted copies of each) "
              f"in {time.perf_counter() - start:.0f} s", flush=True)
    if pen is not None:
        X_fit, y_fit = np.concatenate([X_fit, pen[0]]), np.concatenate([y_fit, pen[1]])
    return X_fit, y_fit


def run_kfold(args, X_train, y_train):
    """Cross-validation: one network per fold, validated on the fold it did not see."""
    try:
        folds = stratified_kfold(y_train, args.kfold, np.random.default_rng([args.seed, 2]))
    except ValueError as e:      # more folds than images of some digit
        raise DataError(f"--kfold {args.kfold}: {e}") from None
    accuracies, out_of_fold = [], np.empty_like(y_train)
    pen = pen_drawings(args)  # the same for every fold: drawn once
    for k, (fit_idx, val_idx) in enumerate(folds, 1):
        print(f"Fold {k} of {args.kfold}: training on {fit_idx.size} images, validating on {val_idx.size}", flush=True)
        X_fit, y_fit = augmented(args, X_train[fit_idx], y_train[fit_idx], pen)
        net, _, interrupted = fit(args, X_fit, y_fit, report=(lambda line: print("  " + line, flush=True))
                                  if args.model == "cnn" else None)
        if interrupted:
            print(f"{interrupted_word(interrupted)}: cross-validation abandoned.", file=sys.stderr)
            return exit_code(interrupted)
        out_of_fold[val_idx] = net.predict_pixels(X_train[val_idx])
        accuracies.append(accuracy(y_train[val_idx], out_of_fold[val_idx]))
        print(f"Fold {k} accuracy: {100 * accuracies[-1]:.2f} %", flush=True)
    mean, std = 100 * np.mean(accuracies), 100 * np.std(accuracies, ddof=1)
    print(f"Cross-validated accuracy over {args.kfold} folds: {mean:.2f} +- {std:.2f} % (mean +- standard deviation)")
    print(f"Misclassified training images (each judged by the network that did not see it): "
          f"{int(np.sum(out_of_fold != y_train))} of {y_train.size}")
    write_pictures(args, costs=None, y_true=y_train, y_pred=out_of_fold, test_images=X_train,
                   fold_accuracies=accuracies)
    return 0


def interrupted_word(interruption):
    return "Terminated" if exit_code(interruption) == 143 else "Interrupted"


def check_outputs(args):
    """Every output location, checked before any work: a bad one costs a second, not a run."""
    if args.pen_digits:
        from digits.data import pendigits
        pendigits.check_path(args.pen_digits)
    if not args.kfold:
        check_output_dir(args.weights_dir, "the weights folder (--weights-dir)")
    if not args.no_report:
        check_output_dir(args.report_dir, "the report folder (--report-dir)")


def save_network(net, folder):
    """Save `net` in `folder`; if that fails after all the work, save it somewhere safe and say where."""
    try:
        return net.save(folder)
    except OutputError as e:
        import tempfile
        rescue = tempfile.mkdtemp(prefix="digits-weights-")
        try:
            net.save(rescue)
        except OutputError:
            raise e from None
        raise OutputError(f"{e}. The trained network was saved in {rescue} instead") from None


def run(args):
    check_outputs(args)
    X, y = mnist.load_mnist(args.data)
    n_train = X.shape[0] - round(X.shape[0] * args.test_fraction)
    X_train, y_train, X_test, y_test = mnist.train_test_split(X, y, n_train)
    if args.kfold:
        return run_kfold(args, X_train, y_train)
    X_fit, y_fit = augmented(args, X_train, y_train, pen_drawings(args))
    print(describe_run(args, X_fit, X_test), flush=True)
    start = time.perf_counter()
    net, curve, interrupted = fit(args, X_fit, y_fit, report=lambda line: print(line, flush=True),
                                  validation=(X_test, y_test))
    seconds = time.perf_counter() - start
    del X_fit, y_fit
    steps = len(curve) if args.model == "mlp" else len(curve["loss"])
    unit = "iteration" if args.model == "mlp" else "epoch"
    if interrupted:
        if not steps:
            print(f"{interrupted_word(interrupted)} before the first {unit} finished: nothing saved.",
                  file=sys.stderr)
            return exit_code(interrupted)
        print(f"{interrupted_word(interrupted)}: stopped early after {plural(steps, unit)}; "
              "evaluating and saving those weights.")
    else:
        print(f"Trained in {seconds:.1f} s ({plural(steps, unit)})")
    test_pred = net.predict_pixels(X_test)
    print_evaluation(y_test, test_pred, y_train, net.predict_pixels(X_train))
    path = save_network(net, args.weights_dir)
    print(f"Weights saved to {path}" + (" and Theta2.txt" if args.model == "mlp" else ""))
    write_pictures(args, costs=curve if args.model == "mlp" else None, y_true=y_test, y_pred=test_pred,
                   test_images=X_test, history=curve if args.model == "cnn" else None, net=net)
    return exit_code(interrupted) if interrupted else 0


def main(argv=None):
    sys.stdout.reconfigure(line_buffering=True)     # each line as it comes, also into a pipe or file
    return run_reporting_errors(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
