"""Join saved CNNs and committees into one committee.

    python -m digits.join_committee OUT IN [IN ...]          # IN: FOLDER, or FOLDER:1,2,3 (those members)
    python -m digits.join_committee --rotations 0,10,-10 OUT IN ...   # each picture also read turned +-10 degrees

Each IN is a folder holding a CNN (`cnn.npz`) or a committee (`committee.npz`), optionally
followed by `:` and the members to take from it (counted from 1); every network taken becomes a
member of one committee, written to OUT/committee.npz (all or nothing). This
is how Ciresan, Meier and Schmidhuber built theirs: members trained on differently prepared
data (there, differently normalised digits; here, for example, one `main.py --model committee`
run with `--pen-elastic` and one without) disagree more than members trained alike, and a
committee gains from their disagreement. The members must share one architecture.

The joined committee reads with its members' shares averaged and has no calibration of its
own (`--rotations`: averaged over each picture turned by those angles as well, see
digits.nets.committee): OUT must not already hold a network or a calibration (nothing is overwritten). Fit one
from readings of writers the members never saw (benchmarks.pen_writer_groups --readings FILE
--calibrate OUT).
"""
import argparse
import os
import sys

from digits.cli import run_reporting_errors
from digits.errors import OutputError, WeightsError
from digits.nets import KINDS, kinds_in, load_network
from digits.nets.calibration import FILE as CALIBRATION_FILE
from digits.nets.cnn import CNN
from digits.nets.committee import MAX_MEMBERS, MAX_TURN, Committee, check_rotations


def rotations(text):
    """'0,10,-10' -> (0, 10, -10), for argparse (its error: one line naming the rule)."""
    try:
        angles = [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"rotations are whole degrees separated by commas, such as 0,10,-10, "
                                         f"not {text!r}") from None
    try:
        return check_rotations(angles)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{e}; for example 0,10,-10") from None


def split_pick(source):
    """'FOLDER' -> (FOLDER, None); 'FOLDER:1,3' -> (FOLDER, [1, 3]) unless FOLDER:1,3 is itself a folder."""
    folder, colon, picked = source.rpartition(":")
    if not colon or os.path.isdir(source):
        return source, None
    try:
        numbers = [int(n) for n in picked.split(",")]
    except ValueError:
        raise WeightsError(f"{source}: after the folder, ':' takes the members to keep, such as {folder}:1,2,3") from None
    if any(n < 1 for n in numbers) or len(set(numbers)) != len(numbers):
        raise WeightsError(f"{source}: members are counted from 1, each named once, such as {folder}:1,2,3")
    return folder, numbers


def members_of(source):
    """The CNNs saved in `source` (FOLDER or FOLDER:members): [the CNN], or a committee's members
    (those picked). WeightsError otherwise."""
    folder, picked = split_pick(source)
    net = load_network(folder)
    if isinstance(net, Committee):
        members = list(net.members)
    elif isinstance(net, CNN):
        members = [net]
    else:
        raise WeightsError(f"{folder} holds a {net.kind} network; only CNNs and committees of CNNs can join a committee")
    if picked is None:
        return members
    if max(picked) > len(members):
        raise WeightsError(f"{source}: {folder} holds {len(members)} network{'s' if len(members) > 1 else ''}, "
                           f"no member {max(picked)}")
    return [members[n - 1] for n in picked]


def join(folders, rotations=(0,)):
    """One committee of every CNN in `folders` (in order), uncalibrated, reading each picture
    turned by each of `rotations` (degrees)."""
    found = [members_of(folder) for folder in folders]
    members = [m for nets in found for m in nets]
    if len(members) > MAX_MEMBERS:
        raise WeightsError(f"{', '.join(folders)} hold {len(members)} networks; a committee has at most {MAX_MEMBERS}")
    if len({repr(m.architecture()) for m in members}) != 1:
        shapes = "; ".join(f"{folder}: {nets[0].describe()}" for folder, nets in zip(folders, found))
        raise WeightsError(f"the networks differ in architecture ({shapes}); a committee's members share one")
    for m in members:            # a member's own calibration does not carry over to the committee
        m.temperature, m.sure_above = None, 0.0
    return Committee(members, rotations)


def check_out(out, folders):
    """OUT must not hold a network or calibration already (nor be one of the inputs)."""
    if any(os.path.abspath(out) == os.path.abspath(split_pick(f)[0]) for f in folders):
        raise OutputError(f"{out} is one of the folders to join; write the committee into a new folder")
    taken = [" and ".join(KINDS[kind].FILES) for kind in kinds_in(out)]       # any kind: two networks in one folder
    taken += [CALIBRATION_FILE] if os.path.exists(os.path.join(out, CALIBRATION_FILE)) else []
    if taken:
        raise OutputError(f"{out} already holds {', '.join(taken)}; write the committee into a new folder "
                          "(nothing is overwritten)")


def run(args):
    check_out(args.out, args.folders)
    committee = join(args.folders, args.rotations)
    path = committee.save(args.out)
    print(f"{committee.describe()} written to {path}; not calibrated: fit its calibration with "
          f"python -m benchmarks.pen_writer_groups --readings FILE --calibrate {args.out}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m digits.join_committee",
                                     description=__doc__.strip().split("\n")[0])
    parser.add_argument("out", metavar="OUT", help="the new committee's folder (created if needed)")
    parser.add_argument("folders", metavar="IN", nargs="+",
                        help="a folder holding a CNN or a committee, or FOLDER:1,2,3 for some of its members")
    parser.add_argument("--rotations", metavar="DEGREES", type=rotations, default=(0,),
                        help="read each picture turned by each of these angles too, averaged: whole degrees "
                             f"within +-{MAX_TURN}, such as 0,10,-10 (default 0: as given)")
    return run_reporting_errors(run, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
