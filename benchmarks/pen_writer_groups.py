"""Benchmark: how well a training recipe reads the pen digits of writers it never saw.

One fixed split of writers flatters (the shipped MLP read 97.4 % of writers 16-30 but 96.4 %
of other writers), so the 30 pendigits writers are split into groups, and for every group in
turn a network is trained with the recipe on MNIST plus the pen digits of the OTHER writers,
then reads the pen digits of the group's writers, drawn as the desktop app draws them
(random place and size on the 350x290 canvas, 16 px brush, the app's preparation). It prints
each group's accuracy, the mean and the worst group, and each network's MNIST test accuracy.

The readings of every group by the network that did not see it are also what the
calibration is fitted on (temperature scaling and the "not sure" threshold, see
digits.nets.calibration): the expected calibration error is reported before and after,
cross-validated (each group scored with the temperature fitted on the other groups), and
`--calibrate DIR` writes the calibration fitted on all groups beside the network in DIR.
`--save-readings FILE` keeps every group's readings, `--save-networks DIR` each group's network;
`--networks DIR` reads each group with the network in DIR/group<N> instead of training one (for
example each group's committee joined from two runs' networks by digits.join_committee); with it,
or with `--readings FILE`, a training option (--pen-copies, --epochs, ...) is refused, not ignored.

    python -m benchmarks.pen_writer_groups [--groups 3] [--calibrate DIR] [recipe options, as main.py's]

for example, the recipe of the pretrained CNN:

    python -m benchmarks.pen_writer_groups --groups 5 --model cnn --pen-copies 4 \\
        --pen-digits ../shared/pendigits --calibrate weights/pretrained/cnn
"""
import argparse
import os
import sys
import time

import numpy as np

from benchmarks.pen_drawings import app_inputs, load_pen_digits, mnist_dir, scanned_like, varied_inputs
from digits import recipes
from digits.data import mnist, training_set
from digits.imaging.distort import pen_training_images
from digits.errors import OutputError
from digits.files import check_output_dir
from digits.nets import calibration, load_network
from digits.recognise import views_answer
from digits.reporting import pictures


def writer_groups(k, writers=30):
    """k groups of consecutive writer numbers, as even as can be: [[1..10], [11..20], ...]."""
    return [list(part + 1) for part in np.array_split(np.arange(writers), k)]


# What only training uses (flag: its dest): given with --networks or --readings, nothing is trained to use it.
TRAINING_FLAGS = {"--model": "model", "--lambda": "lamb", "--augment": "augment", "--scans": "scans",
                  "--pen-writers": "pen_writers", "--pen-copies": "pen_copies", "--pen-elastic": "pen_elastic",
                  "--pen-per-epoch": "pen_per_epoch",
                  "--fine-tune": "fine_tune", "--samples": "samples", "--samples-copies": "samples_copies",
                  "--non-digits": "non_digits"}


def _training_flags_given(parser, argv):
    """The training options given in `argv` (a list, already parsed once by `parser`), as flags."""
    flags = dict(TRAINING_FLAGS, **{owners[0][1].flag: name for name, owners in recipes.kind_options().items()})
    unset = object()            # argparse leaves an attribute the namespace already has unless it is given
    given = parser.parse_args(argv, argparse.Namespace(**{dest: unset for dest in flags.values()}))
    return [flag for flag, dest in flags.items() if getattr(given, dest) is not unset]


def _percent(text):
    """'99.8' -> 0.998: a share of readings, in percent, above 50 and below 100."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage such as 99.8") from None
    if not 50 < value < 100:
        raise argparse.ArgumentTypeError(f"{text!r}: give a percentage above 50 and below 100, such as 99.8")
    return value / 100


def _group_numbers(text):
    """'2,3' -> [2, 3]: writer groups by number, from 1."""
    try:
        numbers = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of group numbers such as 2,3") from None
    if not numbers or numbers[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: group numbers start at 1")
    return numbers


def _check_outputs(parser, own):
    """Every place this run writes to, checked before any work: a bad one costs a second, not hours
    of training."""
    try:
        for flag, folder in (("--save-networks", own.save_networks), ("--calibrate", own.calibrate)):
            if folder:
                check_output_dir(folder, f"the folder of {flag}")
        for flag, path in (("--save-readings", own.save_readings), ("--misread-picture", own.misread_picture)):
            if path and os.path.isdir(path):
                raise OutputError(f"{flag} {path} is a folder; give a file name")
            if path:
                check_output_dir(os.path.dirname(os.path.abspath(path)), f"the folder of {flag}")
    except OutputError as e:
        parser.error(str(e))


def main_(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], add_help=True)
    parser.add_argument("--groups", type=int, default=3, help="number of writer groups (default 3: 10 writers each)")
    parser.add_argument("--calibrate", metavar="DIR",
                        help="write the calibration fitted on all groups into DIR (beside the network saved there)")
    parser.add_argument("--limit-groups", type=int, default=None, help="run only the first N groups (quick look)")
    parser.add_argument("--only-groups", metavar="N,M", type=_group_numbers, default=None,
                        help="run only these groups, by number (for example 2,3: a long run done in parts); "
                             "each group reads and trains exactly as in the full run")
    parser.add_argument("--save-readings", metavar="FILE",
                        help="also save every group's readings (scores, shares as shown, labels) into FILE (.npz)")
    parser.add_argument("--save-networks", metavar="DIR",
                        help="also save each group's network into DIR/group<N> (to read the groups again later "
                             "without training, for example another way of reading)")
    parser.add_argument("--misread-picture", metavar="FILE",
                        help="draw the unseen writers' pen digits that each group's network misread, as the app's "
                             "pen drew them (captioned true -> read), into FILE (.png)")
    parser.add_argument("--networks", metavar="DIR",
                        help="read each group with the network saved in DIR/group<N> (by --save-networks, or "
                             "joined from them), without training")
    parser.add_argument("--readings", metavar="FILE",
                        help="calibrate from readings saved by --save-readings, without training again")
    parser.add_argument("--sure-accuracy", metavar="PERCENT", type=_percent,
                        default=calibration.SURE_ACCURACY,
                        help="'not sure' below the confidence where readings of unseen writers are right this "
                             f"often (default {round(100 * calibration.SURE_ACCURACY, 4):g})")
    recipes.add_recipe_arguments(parser)
    own = recipes.parse_recipe(parser, argv)
    recipe_argv = [a for a in (argv if argv is not None else sys.argv[1:])]
    reading = "--networks" if own.networks else "--readings" if own.readings else None
    ignored = _training_flags_given(parser, recipe_argv) if reading else []
    if ignored:
        parser.error(f"{reading} reads networks already trained, so {', '.join(ignored)} would change nothing: "
                     f"leave {'it' if len(ignored) == 1 else 'them'} out (the networks read are those saved)")
    if own.only_groups and max(own.only_groups) > own.groups:
        parser.error(f"--only-groups {','.join(map(str, own.only_groups))}: there are only {own.groups} groups "
                     f"(--groups {own.groups}); give numbers from 1 to {own.groups}")
    numbers = [n for n in range(1, own.groups + 1) if own.only_groups is None or n in own.only_groups]
    numbers = numbers[:own.limit_groups]
    if own.networks:                    # each group's network must be there before any work starts
        for number in numbers:
            if not os.path.isdir(os.path.join(own.networks, f"group{number}")):
                parser.error(f"--networks {own.networks}: it has no folder group{number}; save each group's network "
                             f"there with --save-networks {own.networks}")
    _check_outputs(parser, own)
    if own.readings:
        with np.load(own.readings) as saved:
            group_of = saved["group"]
            results = [dict(scores=saved["scores"][group_of == g], before=saved["before"][group_of == g],
                            labels=saved["labels"][group_of == g]) for g in np.unique(group_of)]
            note = str(saved["recipe"])
        print(f"Readings of {len(results)} writer groups from {own.readings} ({note})")
        return calibrate(results, own.calibrate, note, own.sure_accuracy)
    args = own
    X, y = mnist.load_mnist(mnist_dir(args.data))
    X_train, y_train, X_test, y_test = mnist.train_test_split(X, y, X.shape[0] - round(X.shape[0] * args.test_fraction))
    digits = load_pen_digits(args.pen_digits)
    all_groups = writer_groups(own.groups, max(d.writer for d in digits))
    groups = [all_groups[n - 1] for n in numbers]
    print(f"Recipe: {' '.join(recipe_argv) or '(main.py defaults)'}; {len(groups)} groups of writers", flush=True)

    # The training drawings of each group's writers, drawn once: a group's network trains on
    # the drawings of all the other groups.
    start = time.perf_counter()
    drawn = [] if own.networks else [pen_training_images([d for d in digits if d.writer in group], args.pen_copies,
                                 np.random.default_rng([args.seed, 3, number]), elastic=args.pen_elastic)
             for number, group in enumerate(all_groups, 1)]
    # --non-digits: drawings that are none of the digits, their overlaid digits by the other writers
    non_digit_sets = [training_set.non_digit_drawings(args.non_digits, args.seed,
                                                      [d for d in digits if d.writer not in group])
                      if args.non_digits and not own.networks else None for group in groups]
    if drawn:
        print(f"Training drawings: {sum(len(y) for _, y in drawn)} in {time.perf_counter() - start:.0f} s", flush=True)

    # The same for every group: MNIST test digits made to look scanned, and fresh drawings that
    # are not digits (another seed than any training run's).
    scans = scanned_like(X_test[:2000], np.random.default_rng(7))
    not_digits, _ = training_set.non_digit_drawings(1000, seed=1000 + args.seed, pen_digits=digits, say=lambda line: None)
    results, gallery = [], []
    for at, (number, group) in enumerate(zip(numbers, groups)):
        unseen = [d for d in digits if d.writer in group]
        start = time.perf_counter()
        if own.networks:
            net = load_network(os.path.join(own.networks, f"group{number}"))
        else:
            others = [drawn[j] for j in range(len(drawn)) if j != number - 1]
            n_pen = sum(len(y) for _, y in others)
            if non_digit_sets[at] is not None:
                others.append(non_digit_sets[at])
            extra = training_set.Extra(np.concatenate([x for x, _ in others]), np.concatenate([y for _, y in others]),
                                       n_pen)
            X_fit, y_fit = training_set.training_images(X_train, y_train, args.seed, args.augment, extra, args.scans)
            sample = training_set.epoch_sample(len(y_fit), extra, args.pen_copies, args.pen_per_epoch)
            net, result = args.kind.train(X_fit, y_fit, lamb=args.lamb, seed=args.seed, report=None, sample=sample,
                                          **args.options)
            if result.stopped_early:
                print(f"group {number}: training stopped ({result.why})", file=sys.stderr)
                return 130 if result.interruption is not None else 1
        seconds = time.perf_counter() - start
        if own.save_networks:
            net.save(os.path.join(own.save_networks, f"group{number}"))
        X_unseen = app_inputs(unseen, np.random.default_rng(100 + number))
        labels = np.array([d.label for d in unseen])
        scores, before = net.scores(X_unseen), net.predict_proba(X_unseen)
        pen_accuracy = float(np.mean(np.argmax(scores, axis=1) == labels))
        varied = float(np.mean(net.predict(varied_inputs(unseen, np.random.default_rng(200 + number))) == labels))
        mnist_accuracy = float(np.mean(net.predict_pixels(X_test) == y_test))
        scan_accuracy = float(np.mean(np.argmax(views_answer(scans, net)[0], axis=1) == y_test[:2000]))
        none = net.not_a_digit(X_unseen)
        refused_digits = float(np.mean(none > 0.5))
        caught = float(np.mean(net.not_a_digit(not_digits / 255.0) > 0.5))
        if own.misread_picture:
            gallery.append((X_unseen, labels, np.argmax(scores, axis=1)))
        results.append(dict(group=group, scores=scores, before=before, none=none, labels=labels, pen=pen_accuracy,
                            varied=varied, mnist=mnist_accuracy, scans=scan_accuracy, refused=refused_digits,
                            caught=caught, seconds=seconds))
        print(f"group {number} (writers {group[0]}-{group[-1]}, {len(unseen)} digits): "
              f"pen digits {100 * pen_accuracy:.2f} % (app's pen), {100 * varied:.2f} % (pens 6-30 px, "
              f"30-85 % high); MNIST test {100 * mnist_accuracy:.2f} %, scanned-looking {100 * scan_accuracy:.2f} %; "
              f"digits called 'not a digit' {100 * refused_digits:.2f} %, drawings that are not digits caught "
              f"{100 * caught:.1f} % ({seconds:.0f} s to {'load' if own.networks else 'train'})", flush=True)

    print()
    for key, what in (("pen", "unseen writers' pen digits, the app's pen"), ("varied", "the same, varied pens and sizes"),
                      ("mnist", "MNIST test"), ("scans", "MNIST test made to look scanned (2,000)"),
                      ("refused", "unseen writers' digits called 'not a digit'"),
                      ("caught", "drawings that are not digits called so (1,000)")):
        values = np.array([r[key] for r in results])
        worst = values.max() if key == "refused" else values.min()
        print(f"{what}: mean {100 * values.mean():.2f} %, worst group {100 * worst:.2f} %")
    recipe = " ".join(recipe_argv)
    if own.misread_picture:
        images, true, read = (np.concatenate(part) for part in zip(*gallery))
        path = pictures.plot_misclassified(images, true, read, own.misread_picture, max_images=len(true),
                                           what=f"unseen writers' pen digits ({len(gallery)} writer groups)")
        print(f"The {np.count_nonzero(true != read)} misread pen digits drawn in {path}")
    if own.save_readings:
        np.savez(own.save_readings, scores=np.concatenate([r["scores"] for r in results]),
                 before=np.concatenate([r["before"] for r in results]),
                 none=np.concatenate([r["none"] for r in results]),
                 labels=np.concatenate([r["labels"] for r in results]),
                 group=np.concatenate([np.full(len(r["labels"]), i) for i, r in enumerate(results)]),
                 recipe=f"recipe: {recipe}")
        print(f"Readings saved to {own.save_readings}")
    if len(results) < 2:
        return 0
    return calibrate(results, own.calibrate, f"recipe: {recipe}", own.sure_accuracy)


def calibrate(results, folder, note, sure_accuracy=calibration.SURE_ACCURACY):
    """Temperature scaling and the "not sure" threshold from the groups' readings, each group
    scored by a network that never saw its writers; everything cross-validated by group (fitted
    on the other groups, measured on this one). Writes calibration.json into `folder` if given.

    The temperature is kept only if it lowers the cross-validated calibration error; otherwise
    the network's own shares stay (a softmax trained by cross-entropy may be calibrated already).
    """
    ece = calibration.expected_calibration_error
    ece_before, ece_after = [], []
    for i, r in enumerate(results):
        others = [o for j, o in enumerate(results) if j != i]
        t = calibration.fit_temperature(np.concatenate([o["scores"] for o in others]),
                                        np.concatenate([o["labels"] for o in others]))
        ece_before.append(ece(r["before"], r["labels"]))
        ece_after.append(ece(calibration.probabilities(r["scores"], t), r["labels"]))
    labels = np.concatenate([r["labels"] for r in results])
    use_temperature = np.mean(ece_after) < np.mean(ece_before)
    temperature = calibration.fit_temperature(np.concatenate([r["scores"] for r in results]), labels) \
        if use_temperature else None
    shown = [calibration.probabilities(r["scores"], temperature) if use_temperature else r["before"] for r in results]
    print(f"Expected calibration error on unseen writers (15 bins, mean over groups): "
          f"{100 * np.mean(ece_before):.2f} % as the network's own shares, {100 * np.mean(ece_after):.2f} % with "
          f"temperature scaling (cross-validated by group): "
          + (f"temperature {temperature:.3f} kept" if use_temperature else "the network's own shares kept"))

    # The threshold, cross-validated: chosen on the other groups, applied to this one. Per group,
    # what a user of the apps sees: the share of readings shown as sure, and of those the share wrong.
    flagged, sure_right, unsure_right, per_group = [], [], [], []
    for i, r in enumerate(results):
        t, _ = calibration.sure_threshold(np.concatenate([s for j, s in enumerate(shown) if j != i]),
                                          np.concatenate([o["labels"] for j, o in enumerate(results) if j != i]),
                                          sure_accuracy)
        confidence, right = shown[i].max(axis=1), shown[i].argmax(axis=1) == r["labels"]
        sure = confidence >= t
        flagged.append(np.mean(~sure))
        sure_right.extend(right[sure])
        unsure_right.extend(right[~sure])
        per_group.append((np.mean(sure), np.mean(~right[sure]) if sure.any() else float("nan")))
    sure_above, share = calibration.sure_threshold(np.concatenate(shown), labels, sure_accuracy)
    percent = f"{round(100 * sure_accuracy, 4):g} %"        # as given: 99.75 %, not 99.8 %
    print(f"'Not sure' below the confidence where readings of other writers are right "
          f"{percent} of the time (cross-validated by group): "
          f"{100 * np.mean(flagged):.1f} % of readings not sure; the sure ones "
          f"{100 * np.mean(sure_right) if sure_right else float('nan'):.2f} % right, "
          f"the not-sure ones {100 * np.mean(unsure_right) if unsure_right else float('nan'):.1f} % right")
    sure_shares, wrong_shares = np.array(per_group).T
    print("Readings shown as sure, and of those wrong, by group (cross-validated): "
          + ", ".join(f"{100 * s:.1f} % / {100 * w:.2f} %" for s, w in per_group)
          + f"; worst group {100 * sure_shares.min():.1f} % sure, {100 * np.nanmax(wrong_shares):.2f} % of sure wrong")
    print(f"Threshold chosen on all groups: not sure below {sure_above:.3f} ({100 * (1 - share):.1f} % of readings)")
    if folder:
        calibration.save_calibration(folder, temperature, sure_above,
                                     note=f"fitted by benchmarks.pen_writer_groups, {note}: "
                                          f"{len(results)} writer groups, {len(labels)} unseen pen digits; "
                                          f"sure where they were right {percent} of the time")
        print(f"Calibration written to {os.path.join(folder, calibration.FILE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main_())
