"""Benchmark: the stroke reader (digits.nets.trajectory) joined with a picture network, by writer groups.

For every group of pendigits writers in turn, a stroke reader is trained on the pen digits of the
other groups and reads the group's digits from their paths; its shares are joined with the picture
network's readings of the same digits, each group read by a network that never saw its writers
(the readings `benchmarks.pen_writer_groups --save-readings FILE` keeps, same `--groups`). It prints,
per group, the digits misread by the picture alone, the path alone, and joined at each weight (and,
with the reader's eleventh output, the digits each calls "not a digit"; the readings file then needs
the picture network's, which `--save-readings` keeps); the
weight chosen on the other groups (leave one group out), and its misreads; and the "not sure" line
of the joined shares, cross-validated as `pen_writer_groups` does it.

`--save DIR` then trains the reader on every writer and writes DIR/strokes.npz with the weight
chosen on all the groups: every drawing read with the network in DIR whose strokes are known (the
apps, the API) is then read through both. Its "not sure" line stays the network's own (from its
calibration.json), printed beside the lines fitted on the joined readings: the joined shares are
surer of real digits, and a line fitted on them alone lets more drawings that are not digits pass
as sure (`benchmarks.not_a_digit` measures that); `--joined-line` writes the line fitted at
`--sure-accuracy` instead. `--save-groups DIR` writes each group's reader, trained without the
group, into DIR/group1, ... beside the networks trained without it (`pen_writer_groups
--save-networks DIR`), so that `benchmarks.bench_numbers --networks DIR` reads numbers by unseen
writers with both.

    python -m benchmarks.pen_writer_groups --groups 3 --networks C --pen-digits ../shared/pendigits \\
        --save-readings R.npz
    python -m benchmarks.stroke_reader_groups --readings R.npz --pen-digits ../shared/pendigits \\
        [--save weights/pretrained/committee]
"""
import argparse
import os
import sys
import time

import numpy as np

from benchmarks.pen_drawings import load_pen_digits
from benchmarks.pen_writer_groups import writer_groups
from digits.imaging.strokes import CANVAS_HEIGHT, CANVAS_WIDTH, fit_to_canvas
from digits.nets import calibration, trajectory
from digits.recognise import NOT_A_DIGIT_ABOVE

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.0)


def group_paths(unseen, number):
    """The features of a group's digits, each placed on the app's canvas at random (seeded by group)."""
    rng = np.random.default_rng([number, 17])
    return trajectory.features_of([fit_to_canvas(d.strokes, CANVAS_WIDTH, CANVAS_HEIGHT, rng) for d in unseen])


def best_weight(wrong, groups):
    """The weight (of WEIGHTS, the smaller at a tie) with the fewest misreads summed over `groups`
    (indices into `wrong`: per group, misreads per weight)."""
    totals = np.sum([wrong[g] for g in groups], axis=0)
    return WEIGHTS[int(np.argmin(totals))]


def sure_lines(joined, labels, accuracy):
    """(the "not sure" line chosen on all groups, the share of readings sure, and per group (share
    sure, share of the sure wrong) with the line chosen on the other groups) for readings `joined`
    and `labels` (one array per group) at `accuracy`."""
    per_group = []
    for i in range(len(joined)):
        t, _ = calibration.sure_threshold(np.concatenate([r for j, r in enumerate(joined) if j != i]),
                                          np.concatenate([y for j, y in enumerate(labels) if j != i]), accuracy)
        per_group.append(at_line(joined[i], labels[i], t))
    line, share = calibration.sure_threshold(np.concatenate(joined), np.concatenate(labels), accuracy)
    return line, share, per_group


def at_line(readings, labels, line):
    """(the share of `readings` (m, 10) at least `line` sure, the share of those wrong)."""
    sure = readings.max(axis=1) >= line
    return float(np.mean(sure)), float(np.mean(readings.argmax(axis=1)[sure] != labels[sure])) if sure.any() else 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readings", metavar="FILE", required=True,
                        help="the picture network's readings of each group (pen_writer_groups --save-readings)")
    parser.add_argument("--pen-digits", metavar="FILE", help="pendigits-orig.tra or its folder (default ../shared/pendigits)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--copies", type=int, default=trajectory.COPIES, help="bent copies of each pen digit")
    parser.add_argument("--epochs", type=int, default=trajectory.EPOCHS)
    parser.add_argument("--non-digits", type=int, default=trajectory.NON_DIGITS, metavar="N",
                        help="drawings that are not digits to train the eleventh output on (default %(default)s; "
                             "0: ten outputs, 'not a digit' the picture network's alone)")
    parser.add_argument("--sure-accuracy", type=float, default=100 * calibration.SURE_ACCURACY, metavar="PERCENT",
                        help="'sure' where the joined readings were right this often (default %(default)s)")
    parser.add_argument("--save", metavar="DIR", help="train the reader on every writer and write DIR/strokes.npz")
    parser.add_argument("--save-readings", metavar="FILE", help="keep the joined readings of every group (.npz)")
    parser.add_argument("--save-groups", metavar="DIR",
                        help="write each group's reader (trained without it, its weight chosen on the other groups) "
                             "to DIR/group1/strokes.npz, ...: beside the networks of pen_writer_groups --save-networks, "
                             "for benchmarks.bench_numbers --networks DIR")
    parser.add_argument("--joined-line", action="store_true",
                        help="with --save: the reader's 'not sure' line fitted on the joined readings, not the network's")
    args = parser.parse_args(argv)
    with np.load(args.readings) as saved:
        group_of, shares, labels = saved["group"], saved["before"], saved["labels"]
        picture_none = saved["none"] if "none" in saved.files else np.zeros(len(labels))
        note = str(saved["recipe"])
        if "none" not in saved.files:
            print(f"{args.readings} holds no 'not a digit' readings (saved before they were kept): taken as 0")
    digits = load_pen_digits(args.pen_digits)
    k = len(np.unique(group_of))
    groups = writer_groups(k, max(d.writer for d in digits))
    print(f"Picture readings of {k} writer groups from {args.readings} ({note})", flush=True)
    wrong, joined_rows, label_rows, refused, readers = [], [], [], [], []
    for number, group in enumerate(groups, 1):
        start = time.perf_counter()
        unseen = [d for d in digits if d.writer in group]
        y = np.array([d.label for d in unseen])
        p = shares[group_of == number - 1]
        if len(p) != len(y) or not np.array_equal(labels[group_of == number - 1], y):
            parser.error(f"{args.readings}: group {number}'s readings are not of its {len(y)} pen digits in file order")
        reader = trajectory.TrajectoryReader.train([d for d in digits if d.writer not in group], args.seed,
                                                   args.copies, args.epochs, non_digits=args.non_digits)
        readers.append(reader)
        q, q_none = reader.probabilities_and_none(group_paths(unseen, number))
        joined = [trajectory.join(p, q, w) for w in WEIGHTS]
        p_none = picture_none[group_of == number - 1]
        refused.append((int(np.sum(p_none > NOT_A_DIGIT_ABOVE)), int(np.sum(q_none > NOT_A_DIGIT_ABOVE)),
                        [int(np.sum(trajectory.join_none(p_none, q_none, w) > NOT_A_DIGIT_ABOVE)) for w in WEIGHTS]))
        wrong.append([int(np.sum(j.argmax(axis=1) != y)) for j in joined])
        joined_rows.append(joined)
        label_rows.append(y)
        print(f"group {number} (writers {group[0]}-{group[-1]}, {len(y)} digits, {time.perf_counter() - start:.0f} s): "
              f"misread by the picture {wrong[-1][0]}, by the path {wrong[-1][-1]}; joined, by weight: "
              + ", ".join(f"{w:g}: {n}" for w, n in zip(WEIGHTS, wrong[-1]))
              + (f"; called 'not a digit' by the picture {refused[-1][0]}, by the path {refused[-1][1]}, joined "
                 + ", ".join(f"{w:g}: {n}" for w, n in zip(WEIGHTS, refused[-1][2])) if args.non_digits else ""),
              flush=True)
    total = np.sum(wrong, axis=0)
    print("all groups, by weight: " + ", ".join(f"{w:g}: {n}" for w, n in zip(WEIGHTS, total))
          + f" (of {len(group_of)})")
    chosen = [best_weight(wrong, [j for j in range(k) if j != i]) for i in range(k)]
    held_out = [wrong[i][WEIGHTS.index(w)] for i, w in enumerate(chosen)]
    sizes = [len(y) for y in label_rows]
    print("weight chosen on the other groups, and the group's misreads then: "
          + ", ".join(f"group {i + 1}: {w:g}, {n} ({100 * (1 - n / s):.2f} %)"
                      for i, (w, n, s) in enumerate(zip(chosen, held_out, sizes)))
          + f"; {sum(held_out)} in all ({100 * (1 - sum(held_out) / sum(sizes)):.2f} %), "
            f"the picture alone {total[0]} ({100 * (1 - total[0] / sum(sizes)):.2f} %)")
    if args.save_groups:
        from digits.nets import kinds_in
        for number, (reader, w) in enumerate(zip(readers, chosen), 1):
            folder = os.path.join(args.save_groups, f"group{number}")
            kinds = kinds_in(folder)
            reader.weight, reader.network = w, kinds[0] if len(kinds) == 1 else None
            print(f"group {number}'s reader: {reader.save(folder)}")
    weight = best_weight(wrong, range(k))
    at = WEIGHTS.index(weight)
    if args.non_digits:
        print(f"unseen writers' digits called 'not a digit': the picture alone {sum(r[0] for r in refused)}, "
              f"joined at weight {weight:g} {sum(r[2][at] for r in refused)} (of {len(group_of)})")
    joined = [r[at] for r in joined_rows]
    for percent in sorted({99.5, 99.7, 99.8, 99.9, args.sure_accuracy}):
        line, share, per_group = sure_lines(joined, label_rows, percent / 100)
        print(f"joined at weight {weight:g}, sure where right {percent:g} % of the time: not sure below {line:.3f} "
              f"({100 * (1 - share):.1f} % of readings); by group, with the line chosen on the other groups, "
              "readings sure / of those wrong: " + ", ".join(f"{100 * s:.1f} % / {100 * w:.2f} %" for s, w in per_group))
    sure_above = sure_lines(joined, label_rows, args.sure_accuracy / 100)[0] if args.joined_line else None
    if args.save:
        from digits.nets import load_network
        own = load_network(args.save).sure_above
        sure = [at_line(r, y, own) for r, y in zip(joined, label_rows)]
        print(f"joined at weight {weight:g}, at the line of the network in {args.save} ({own:.3f}): by group, readings "
              "sure / of those wrong: " + ", ".join(f"{100 * s:.1f} % / {100 * w:.2f} %" for s, w in sure))
    if args.save_readings:
        np.savez(args.save_readings, joined=np.concatenate(joined), labels=np.concatenate(label_rows),
                 group=np.concatenate([np.full(len(y), i) for i, y in enumerate(label_rows)]), weight=weight)
        print(f"Joined readings saved to {args.save_readings}")
    if args.save:
        start = time.perf_counter()
        reader = trajectory.TrajectoryReader.train(digits, args.seed, args.copies, args.epochs,
                                                   non_digits=args.non_digits)
        reader.weight, reader.sure_above = weight, sure_above
        reader.network = load_network(args.save).kind      # joined with that network only
        path = reader.save(args.save)
        print(f"Stroke reader trained on all {len(digits)} pen digits in {time.perf_counter() - start:.0f} s, "
              f"weight {weight:g}, not sure below "
              + (f"{sure_above:.3f}" if sure_above is not None else "the network's own line") + f": {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
