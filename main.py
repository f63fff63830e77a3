"""Train a digit network on MNIST and save it.

`python main.py` with no options runs the reference tutorial's recipe: a 784-100-10 sigmoid
network (MLP), MNIST pixels / 255, the first 60,000 images for training and the last 10,000
for testing, weights uniform in [-0.15, 0.15], lambda 0.1, L-BFGS-B for 100 iterations. It
prints test and training accuracy and precision, and writes weights/Theta1.txt and
weights/Theta2.txt.

`--model KIND` trains another kind of network of `digits.nets.KINDS` (cnn: the convolutional
network; deep: the course's ReLU MLP; committee: CNNs whose shares are averaged) with its own recipe. Each kind brings its training
options and its trainer (docs/design.md); this command only parses, loads the data, trains,
saves and reports.
"""
import sys

try:
    import argparse
    import copy
    import os


    import numpy as np

    from digits.cli import exit_code, run_reporting_errors, signals_held, whole_number
    from digits.constants import REPORT_DIR, WEIGHTS_DIR
    from digits.data import mnist, training_set
    from digits.errors import DataError, OutputError, UserInputError
    from digits.files import check_output_dir
    from digits import recipes
    from digits.nets import calibration
    from digits.reporting import pictures
    from digits.reporting.kfold import stratified_kfold
    from digits.reporting.metrics import accuracy, confusion_matrix, precision_recall
    from digits.reporting.progress import progress_printer
except KeyboardInterrupt:       # Ctrl-C while the libraries load: no traceback
    sys.exit(130)
except ImportError as error:    # ... also when it cut a C extension's start short
    from digits.cli import interrupted_import
    if interrupted_import(error):
        sys.exit(130)
    raise

def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Train a digit network on MNIST (the reference recipe by default) and save it.")
    recipes.add_recipe_arguments(parser)
    parser.add_argument("--weights-dir", default=WEIGHTS_DIR, metavar="DIR",
                        help="where the network is written: Theta1.txt and Theta2.txt, or <kind>.npz (default "
                             "weights/; the shipped networks in weights/pretrained/ are never overwritten by default)")
    parser.add_argument("--kfold", type=whole_number(2), metavar="K",
                        help="instead of one training run: K-fold cross-validation on the training images "
                             "(stratified, shuffled with the seed); prints each fold's accuracy; saves no weights")
    parser.add_argument("--report-dir", default=None, metavar="DIR",
                        help="where the pictures of the run are written (default report/<kind>/)")
    parser.add_argument("--no-report", action="store_true", help="write no pictures")
    args = recipes.parse_recipe(parser, argv)
    if args.report_dir is None:
        args.report_dir = os.path.join(REPORT_DIR, args.model)
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


def print_logits(net, X_test, y_test):
    """The network's raw output for one image: the course shows the logits of one test image."""
    scores = np.asarray(net.scores(X_test[:1] / 255.0), dtype=np.float64)[0]
    print(f"Scores (before the final squashing) of the first test image, a {int(y_test[0])}: "
          + " ".join(f"{d}:{s:+.2f}" for d, s in enumerate(scores)))


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


def train(args, X_fit, y_fit, report, validation=None, extra=None):
    """The chosen kind trained on X_fit, y_fit with the options given: (net, TrainingResult).
    extra: the drawings at the end of X_fit (training_set.extra_drawings), whose pen digits'
    drawings --pen-per-epoch takes in turns."""
    progress = progress_printer() if report and sys.stderr.isatty() else None
    start = copy.deepcopy(args.start) if args.start is not None else None    # each fold starts afresh
    sample = training_set.epoch_sample(len(y_fit), extra, args.pen_copies, args.pen_per_epoch)
    if sample is not None:
        report(f"Each epoch: {len(y_fit) - len(sample[0]) + sample[1]} of the {len(y_fit)} images, all but the "
               f"{len(sample[0])} pen drawings and {sample[1]} of those, a fresh choice every epoch "
               f"(--pen-per-epoch {args.pen_per_epoch} of --pen-copies {args.pen_copies})")
    return args.kind.train(X_fit, y_fit, lamb=args.lamb, seed=args.seed, validation=validation,
                           report=report, progress=progress, start=start, sample=sample, **args.options)


def extra_drawings(args):
    """The pen digits (--pen-digits), drawings that are not digits (--non-digits) and the user's
    own samples (--samples), or None."""
    return training_set.extra_drawings(args.seed, args.pen_digits, args.pen_writers, args.pen_copies,
                                       args.non_digits, args.samples, args.samples_copies, say=print,
                                       pen_elastic=args.pen_elastic)


def run_kfold(args, X_train, y_train):
    """Cross-validation: one network per fold, validated on the fold it did not see."""
    try:
        folds = stratified_kfold(y_train, args.kfold, np.random.default_rng([args.seed, 2]))
    except ValueError as e:      # more folds than images of some digit
        raise DataError(f"--kfold {args.kfold}: {e}") from None
    accuracies, out_of_fold = [], np.empty_like(y_train)
    pen = extra_drawings(args)  # the same for every fold: drawn once
    for k, (fit_idx, val_idx) in enumerate(folds, 1):
        print(f"Fold {k} of {args.kfold}: training on {fit_idx.size} images, validating on {val_idx.size}", flush=True)
        X_fit, y_fit = training_set.training_images(X_train[fit_idx], y_train[fit_idx], args.seed, args.augment, pen,
                                                    args.scans)
        net, result = train(args, X_fit, y_fit, report=lambda line: print("  " + line, flush=True), extra=pen)
        if result.stopped_early:
            print(f"{stop_word(result)}: cross-validation abandoned.", file=sys.stderr)
            return exit_code(result.interruption) if result.interruption else 1
        out_of_fold[val_idx] = net.predict_pixels(X_train[val_idx])
        accuracies.append(accuracy(y_train[val_idx], out_of_fold[val_idx]))
        print(f"Fold {k} accuracy: {100 * accuracies[-1]:.2f} %", flush=True)
    mean, std = 100 * np.mean(accuracies), 100 * np.std(accuracies, ddof=1)
    print(f"Cross-validated accuracy over {args.kfold} folds: {mean:.2f} +- {std:.2f} % (mean +- standard deviation)")
    print(f"Misclassified training images (each judged by the network that did not see it): "
          f"{int(np.sum(out_of_fold != y_train))} of {y_train.size}")
    write_pictures(args, training=None, y_true=y_train, y_pred=out_of_fold, test_images=X_train,
                   fold_accuracies=accuracies)
    return 0


def stop_word(result):
    if result.diverged:
        return f"Training diverged ({result.diverged})"
    return "Terminated" if exit_code(result.interruption) == 143 else "Interrupted"


def check_outputs(args):
    """Every output location, checked before any work: a bad one costs a second, not a run."""
    if args.pen_digits:
        from digits.data import pendigits
        pendigits.check_path(args.pen_digits)
    if args.samples:
        training_set.user_samples(args.samples, 1, say=lambda line: None)
    args.start = None
    if args.fine_tune:       # read once, before any work: there, and of this kind
        from digits import nets
        args.start = nets.load_network(args.fine_tune, args.model)
        keep_architecture(args)
    if not args.kfold:
        check_output_dir(args.weights_dir, "the weights folder (--weights-dir)")
    if not args.no_report:
        check_output_dir(args.report_dir, "the report folder (--report-dir)")


def keep_architecture(args):
    """Fine-tuning trains the network it is given, whatever its filters and members: `--convs`
    and `--members` left out take them from it; given otherwise, they are refused (they cannot
    change a trained network)."""
    if "convs" not in args.options:
        return
    members = getattr(args.start, "members", [args.start])
    theirs = members[0].convs
    if args.convs is not None and args.options["convs"] != theirs:
        given = ",".join(map(str, args.options["convs"]))
        raise UserInputError(f"--convs {given}: the network in {args.fine_tune} has convolutions of "
                             f"{','.join(map(str, theirs))} filters and fine-tuning keeps them; leave --convs out")
    args.options["convs"] = theirs
    if "members" in args.options:
        if args.members is not None and args.options["members"] != len(members):
            raise UserInputError(f"--members {args.options['members']}: the committee in {args.fine_tune} has "
                                 f"{len(members)} members and fine-tuning trains each of them; leave --members out")
        args.options["members"] = len(members)


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


def remove_carried(path, or_else="", then=""):
    """Remove `path`, a file carried over for the network just replaced; the line that says so
    (`then` added), or, if it cannot be removed, that it should be deleted (`or_else` added)."""
    try:
        os.remove(path)
    except OSError as e:
        return (f"Note: {path} was carried over for the network this one replaces, and could not be removed "
                f"({e.strerror}): delete it{or_else}")
    return f"Removed {path}: it was carried over for the network this one replaces{then}"


def calibration_after_saving(net, start, source, folder):
    """Keep the folder's calibration.json true to the network just saved in `folder`; returns
    the line that says what was done, or None.

    A network fine-tuned from a calibrated one (`start`, read from `source`) reads with that
    network's calibration, written here for its kind only (the folder may hold other kinds),
    so that a personal network still says "not sure"; a calibration written that way for the
    network just replaced by one trained afresh is removed, since it was fitted for another
    network. A calibration.json written by someone else is never overwritten or removed: it is
    said that it now applies to this network too.
    """
    path = os.path.join(folder, calibration.FILE)
    owner = calibration.fitted_for(folder)
    refit = f"fit one for it with python -m benchmarks.pen_writer_groups ... --calibrate {folder}"
    carried = start is not None and (start.temperature is not None or start.sure_above > 0)
    if carried and owner in (None, net.kind):
        calibration.save_calibration(folder, start.temperature, start.sure_above, network=net.kind,
                                     note=f"carried over from the network in {source}, which it was fitted for")
        return (f"Calibration carried over from {source} to {path}: 'not sure' below {start.sure_above:.3f}"
                + ("" if start.temperature is None else f", temperature {start.temperature:.3f}")
                + f"; it was fitted for that network ({refit})")
    if owner == net.kind:
        return remove_carried(path, f", or {refit}", f" (to calibrate this one, {refit})")
    not_carried = f" (the calibration of {source} was not carried over)" if carried else ""
    if owner in ("", "?"):
        return (f"Note: {path}, fitted for the network saved there before, now applies to this one too; "
                f"{refit}, or delete it{not_carried}")
    if carried:                         # the folder's calibration is another kind's
        return f"Not calibrated: {path} holds the calibration of the {owner} network there{not_carried}"
    return None


def stroke_reader_after_saving(net, start, source, folder, samples=None):
    """Keep the folder's stroke reader (strokes.npz) true to the network just saved in `folder`,
    as `calibration_after_saving` keeps its calibration; returns the line that says what was
    done, or None.

    A network fine-tuned from one with a stroke reader keeps it: written here, joined with this
    kind only (the folder may hold other kinds), so that a personal network still reads drawings
    by their path too; with `samples` (the samples file), the reader is fine-tuned on their
    strokes first (`TrajectoryReader.fine_tune`). One carried over that way for the network
    just replaced by one trained afresh is removed: its join weight was chosen for another
    network. A reader that names no kind, or cannot be read, is someone else's: never
    overwritten or removed, only named.
    """
    from digits.nets import trajectory
    reader = getattr(start, "stroke_reader", None)
    path = os.path.join(folder, trajectory.FILE)
    owner = trajectory.joined_with(folder)
    if reader is not None and owner in (None, net.kind):
        mine = ""
        if samples:
            from digits.samples import SampleStore
            drawn = trajectory.samples_as_digits(SampleStore(samples).rows())
            reader.fine_tune(drawn)
            mine = f", fine-tuned on the strokes of your {len(drawn)} samples"
        reader.network = net.kind
        reader.save(folder)
        return (f"Stroke reader carried over from {source} to {path}{mine}: drawings read with their strokes are "
                f"read by their path too (joined at weight {reader.weight:g}, chosen for the network in {source})")
    if owner == net.kind:
        return remove_carried(path)
    not_carried = f" (the stroke reader of {source} was not carried over)" if reader is not None else ""
    if owner == "":
        return (f"Note: the stroke reader in {path} (it names no network) now reads with this one too; delete it "
                f"to read drawings by their picture alone{not_carried}")
    if owner == "?":
        return f"Note: {path} cannot be read as a stroke reader; move it away{not_carried}"
    if reader is not None:
        return f"The stroke reader of {source} was not carried over: {path} holds the {owner} network's"
    return None


def worth_saving(net, result, X_train, y_train):
    """None if `net` may replace whatever is saved, else why not (a one-line error).

    Never a diverged network, one that never finished a step, or one whose scores of (a sample
    of) its own training images are not finite: the apps would read every digit as "nan %"."""
    if result.diverged:
        return (f"training diverged: {result.diverged}; nothing saved (a smaller --lr or --lambda "
                "keeps the steps finite)")
    if result.steps == 0:
        return (f"training made no progress (0 {result.unit}s finished); nothing saved "
                "(a smaller --lambda, or more data, lets the optimiser take a step)")
    with np.errstate(all="ignore"):
        scores = net.scores(X_train[:2000] / 255.0)
    if not np.all(np.isfinite(scores)):
        return ("training diverged: the network's outputs are infinite or nan; nothing saved (a smaller --lr "
                "or --lambda keeps the steps finite)")
    return None


def run(args):
    check_outputs(args)
    X, y = mnist.load_mnist(args.data)
    n_train = X.shape[0] - round(X.shape[0] * args.test_fraction)
    X_train, y_train, X_test, y_test = mnist.train_test_split(X, y, n_train)
    if args.kfold:
        return run_kfold(args, X_train, y_train)
    extra = extra_drawings(args)
    X_fit, y_fit = training_set.training_images(X_train, y_train, args.seed, args.augment, extra, args.scans)
    print(f"Training on {X_fit.shape[0]} images, testing on {X_test.shape[0]}: "
          f"{args.kind.describe_training(args.options, args.lamb)}, seed {args.seed}"
          + (f", going on from the network in {args.fine_tune}" if args.fine_tune else ""), flush=True)
    net, result = train(args, X_fit, y_fit, report=lambda line: print(line, flush=True), validation=(X_test, y_test),
                        extra=extra)
    del X_fit, y_fit, extra
    unit = result.unit
    # Training has ended: from here until the network is safely saved, signals wait.
    with signals_held():
        if result.interruption is not None and result.steps == 0:
            print(f"{stop_word(result)} before the first {unit} finished: nothing saved.", file=sys.stderr)
            return exit_code(result.interruption)
        refusal = worth_saving(net, result, X_train, y_train)
        if refusal:
            raise UserInputError(refusal)
        if result.interruption is not None:
            print(f"{stop_word(result)}: stopped early after {plural(result.steps, unit)}; saving those weights.")
        else:
            print(f"Trained in {result.seconds:.1f} s ({plural(result.steps, unit)})")
        path = save_network(net, args.weights_dir)
        print(f"Weights saved to {path}" + (f" and {', '.join(net.FILES[1:])}" if len(net.FILES) > 1 else ""))
        for said in (calibration_after_saving(net, args.start, args.fine_tune, args.weights_dir),
                     stroke_reader_after_saving(net, args.start, args.fine_tune, args.weights_dir, args.samples)):
            if said:
                print(said)
    test_pred = net.predict_pixels(X_test)
    print_evaluation(y_test, test_pred, y_train, net.predict_pixels(X_train))
    print_logits(net, X_test, y_test)
    write_pictures(args, training=result, y_true=y_test, y_pred=test_pred, test_images=X_test, net=net)
    return exit_code(result.interruption) if result.interruption is not None else 0


def main(argv=None):
    sys.stdout.reconfigure(line_buffering=True)     # each line as it comes, also into a pipe or file
    return run_reporting_errors(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
