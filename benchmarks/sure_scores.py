"""Benchmark: which score of a committee's reading best tells the sure readings from the rest.

Each writer group's committee (saved by `pen_writer_groups --save-networks`, or joined from
such networks by digits.join_committee) reads its group's unseen pen digits, drawn as
`pen_writer_groups` draws them, member by member. The readings are ranked by each score and
the most confident share of them kept as sure; printed: how many of those are wrong.

    python -m benchmarks.sure_scores --networks DIR [--groups 3] [--sure 99,98.3,97.5] [--pen-digits DIR]

The scores: the members' mean share of the answer (what the apps show and the "not sure" line
is drawn on), the least share any member gives the answer, the mean minus the members' standard
deviation, the number of members that agree (ties by the mean), and the margin between the
first two digits of the mean.
"""
import argparse
import os
import sys

import numpy as np

from benchmarks.pen_drawings import app_inputs, load_pen_digits
from benchmarks.pen_writer_groups import writer_groups
from digits import nets
from digits.cli import run_reporting_errors


def member_shares(committee, X):
    """(k members, m, 10): each member's digit shares of X."""
    members = getattr(committee, "members", [committee])
    return np.stack([m.predict_proba(X) for m in members])


def scores(shares):
    """{name: (m,) score} of the readings whose members' shares are (k, m, 10); higher: surer."""
    mean = shares.mean(axis=0)
    answer = mean.argmax(axis=1)
    of_answer = shares[:, np.arange(mean.shape[0]), answer]            # (k, m)
    top_two = np.sort(mean, axis=1)[:, -2:]
    return {"mean share (shipped)": mean.max(axis=1),
            "least member share": of_answer.min(axis=0),
            "mean - std of members": of_answer.mean(axis=0) - of_answer.std(axis=0),
            "members agreeing": (shares.argmax(axis=2) == answer).sum(axis=0) + mean.max(axis=1),
            "margin of the first two": top_two[:, 1] - top_two[:, 0]}


def wrong_among_surest(score, right, share):
    """How many of the `share` most confident readings by `score` are wrong."""
    keep = np.argsort(-score, kind="stable")[:int(round(share * len(score)))]
    return int(np.count_nonzero(~right[keep]))


def run(args):
    digits = load_pen_digits(args.pen_digits)
    groups = writer_groups(args.groups, max(d.writer for d in digits))
    all_shares, labels = [], []
    for number, group in enumerate(groups, 1):
        unseen = [d for d in digits if d.writer in group]
        committee = nets.load_network(os.path.join(args.networks, f"group{number}"))
        all_shares.append(member_shares(committee, app_inputs(unseen, np.random.default_rng(100 + number))))
        labels.append([d.label for d in unseen])
    shares, labels = np.concatenate(all_shares, axis=1), np.concatenate(labels)
    right = shares.mean(axis=0).argmax(axis=1) == labels
    print(f"{len(labels)} unseen pen digits, {shares.shape[0]} members, {np.count_nonzero(~right)} misread")
    table = scores(shares)
    print("| score | " + " | ".join(f"wrong of the surest {s:g} %" for s in args.sure) + " |")
    print("|---|" + "---|" * len(args.sure))
    for name, score in table.items():
        print(f"| {name} | " + " | ".join(str(wrong_among_surest(score, right, s / 100)) for s in args.sure) + " |")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", required=True, metavar="DIR", help="each group's committee in DIR/group<N>")
    parser.add_argument("--groups", type=int, default=3, help="number of writer groups (default 3)")
    parser.add_argument("--sure", type=lambda t: [float(x) for x in t.split(",")], default=[99, 98.3, 97.5],
                        metavar="P,Q", help="shares of readings kept as sure, in percent (default 99,98.3,97.5)")
    parser.add_argument("--pen-digits", default=None, metavar="DIR", help="the folder of pendigits-orig.tra")
    return run_reporting_errors(run, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
