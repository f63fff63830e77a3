"""Benchmark: a personal stroke reader, fine-tuned on a writer's own samples, by writer groups.

    python -m benchmarks.personal_paths --readings R.npz --readers DIR [--samples 20]

Each pendigits writer plays a user, as in `benchmarks.personal`: their first `--samples` digits
are the samples they gave; the rest are what they write next. The stroke reader is the one of
the writer's group trained without the group (DIR/group1/strokes.npz, ... as
`benchmarks.stroke_reader_groups --save-groups DIR` writes them), fine-tuned on the samples as
`python main.py --fine-tune DIR --samples FILE` fine-tunes it (`TrajectoryReader.fine_tune`).
The picture's readings of the rest are the committee's trained without the group (the readings
file of `pen_writer_groups --save-readings`, same groups), so what is measured is the path's part
alone: the picture network is not fine-tuned here. Printed per writer and in all: the rest of
their digits misread by the path alone and joined, before and after; and what the fine-tuning
may cost: 1,000 fresh drawings that are not digits, the share the path calls "not a digit", and
a fifth of the other groups' digits read by the path alone.
"""
import argparse
import copy
import os
import sys
import time

import numpy as np

from benchmarks.pen_drawings import load_pen_digits
from benchmarks.pen_writer_groups import writer_groups
from digits.errors import WeightsError
from digits.imaging.strokes import CANVAS_HEIGHT, CANVAS_WIDTH, fit_to_canvas
from digits.nets import trajectory
from digits.recognise import NOT_A_DIGIT_ABOVE


def placed(digits, seed):
    """Path features of pen digits placed on the app's canvas (the features do not depend on the place)."""
    rng = np.random.default_rng(seed)
    return trajectory.features_of([fit_to_canvas(d.strokes, CANVAS_WIDTH, CANVAS_HEIGHT, rng) for d in digits])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readings", metavar="FILE", required=True,
                        help="the picture network's readings of each group (pen_writer_groups --save-readings)")
    parser.add_argument("--readers", metavar="DIR", required=True,
                        help="DIR/group<i>/strokes.npz: each group's reader, trained without it")
    parser.add_argument("--samples", type=int, default=20, help="samples each user gave (default 20)")
    parser.add_argument("--writers", type=int, default=None, metavar="K",
                        help="only the first K writers of each group play users (default all)")
    parser.add_argument("--pen-digits", metavar="FILE", help="pendigits-orig.tra or its folder (default ../shared/pendigits)")
    args = parser.parse_args(argv)
    with np.load(args.readings) as saved:
        group_of, shares, labels = saved["group"], saved["before"], saved["labels"]
        nones = saved["none"] if "none" in saved.files else np.zeros(len(labels))
    digits = load_pen_digits(args.pen_digits)
    k = len(np.unique(group_of))
    groups = writer_groups(k, max(d.writer for d in digits))
    non_digits = trajectory.non_digit_paths(1000, 99)
    print(f"{args.samples} samples per writer; each group's reader from {args.readers}, fine-tuned with "
          f"{trajectory.PERSONAL_COPIES} bent copies of each sample and {trajectory.PERSONAL_NON_DIGITS} drawings "
          f"that are none, {trajectory.PERSONAL_EPOCHS} epochs at {trajectory.PERSONAL_LR:g}")
    print("writer: the rest of their digits misread by the path alone, joined (before -> after); fine-tuning time")
    totals = np.zeros(5)
    costs = []
    for number, group in enumerate(groups, 1):
        folder = os.path.join(args.readers, f"group{number}")
        try:
            base = trajectory.TrajectoryReader.load(folder, f"write it with stroke_reader_groups --save-groups {args.readers}")
        except WeightsError as e:   # a missing or damaged reader: one line
            parser.error(str(e))
        unseen = [d for d in digits if d.writer in group]
        p, p_none = shares[group_of == number - 1], nones[group_of == number - 1]
        if len(p) != len(unseen) or not np.array_equal(labels[group_of == number - 1], [d.label for d in unseen]):
            parser.error(f"{args.readings}: group {number}'s readings are not of its {len(unseen)} pen digits in file order")
        others = [d for d in digits if d.writer not in group][::5]
        F_others, y_others = placed(others, 7), np.array([d.label for d in others])
        users = group[:args.writers] if args.writers else group
        for writer in users:
            rows = [i for i, d in enumerate(unseen) if d.writer == writer]
            given, rest = rows[:args.samples], rows[args.samples:]
            F, y = placed([unseen[i] for i in rest], 100 + writer), labels[group_of == number - 1][rest]
            start = time.perf_counter()
            mine = copy.deepcopy(base).fine_tune([unseen[i] for i in given], seed=writer)
            seconds = time.perf_counter() - start
            row = []
            for reader in (base, mine):
                q = reader.predict_proba(F)
                joined, _ = reader.joined(p[rest], p_none[rest], F)
                row += [int(np.sum(q.argmax(axis=1) != y)), int(np.sum(joined.argmax(axis=1) != y))]
            totals += row + [len(rest)]
            _, none = mine.probabilities_and_none(non_digits)
            costs.append((float(np.mean(none > NOT_A_DIGIT_ABOVE)),
                          float(np.mean(mine.predict_proba(F_others).argmax(axis=1) == y_others))))
            print(f"  writer {writer:2d} ({len(rest)} digits): path {row[0]} -> {row[2]}, joined {row[1]} -> {row[3]}; "
                  f"{seconds:.1f} s", flush=True)
        _, none = base.probabilities_and_none(non_digits)
        costs.append((float(np.mean(none > NOT_A_DIGIT_ABOVE)),
                      float(np.mean(base.predict_proba(F_others).argmax(axis=1) == y_others))))
        print(f"group {number}: before, not-a-digit drawings called so {100 * costs[-1][0]:.1f} %, other writers' "
              f"digits read by the path {100 * costs[-1][1]:.2f} %; after, per writer "
              f"{100 * min(c[0] for c in costs[-1 - len(users):-1]):.1f}-{100 * max(c[0] for c in costs[-1 - len(users):-1]):.1f} % "
              f"and {100 * min(c[1] for c in costs[-1 - len(users):-1]):.2f}-{100 * max(c[1] for c in costs[-1 - len(users):-1]):.2f} %",
              flush=True)
    n = int(totals[4])
    print(f"all writers, {n} digits after their samples: misread by the path "
          f"alone {int(totals[0])} -> {int(totals[2])}, joined {int(totals[1])} -> {int(totals[3])} "
          f"({100 * (1 - totals[1] / n):.2f} % -> {100 * (1 - totals[3] / n):.2f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
