"""`python -m digits.samples`: see and export the samples the apps collected, without a GUI.

    python -m digits.samples count [--samples FILE]
    python -m digits.samples export [--samples FILE] [--idx DIR] [--csv FILE] [--picture FILE]
"""
import argparse
import os
import sys

from digits.cli import run_reporting_errors
from digits.errors import SamplesError
from digits.samples.store import SampleStore, default_path


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m digits.samples",
                                     description="The samples of your handwriting that gui.py and web.py kept.")
    parser.add_argument("--samples", metavar="FILE", default=None,
                        help=f"the samples file (default: {default_path()})")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("count", help="how many samples there are, per digit")
    export = commands.add_parser("export", help="write the samples as IDX files, a CSV and/or a picture")
    export.add_argument("--idx", metavar="DIR", help="write samples-images-idx3-ubyte.gz and "
                                                     "samples-labels-idx1-ubyte.gz in DIR")
    export.add_argument("--no-gzip", action="store_true", help="with --idx: write the IDX files uncompressed")
    export.add_argument("--csv", metavar="FILE", help="write a Kaggle-style train.csv (label,pixel0..pixel783)")
    export.add_argument("--picture", metavar="FILE", help="write a PNG page of thumbnails, one row per digit")
    args = parser.parse_args(argv)
    if args.command == "export" and not (args.idx or args.csv or args.picture):
        parser.error("export needs at least one of --idx DIR, --csv FILE, --picture FILE")
    return args


def run(args):
    path = args.samples or default_path()
    if not os.path.exists(path):    # do not make an empty file just to say it is empty
        raise SamplesError(f"no samples file at {path} yet: correct or confirm a reading in gui.py "
                           "or on the page (web.py --samples FILE) first, or give --samples FILE")
    store = SampleStore(path)
    if args.command == "count":
        counts = store.counts_by_label()
        print(f"{sum(counts.values())} samples in {store.path}")
        print("  ".join(f"{digit}: {n}" for digit, n in counts.items()))
        if sum(counts.values()):
            print(f"To make the apps' network read your way (both its pictures and its pen paths): python main.py "
                  f"--model committee --fine-tune weights/pretrained/committee --samples {store.path} --epochs 1 "
                  "--lr 0.0005")
        return 0
    if args.idx:
        for written in store.export_idx(args.idx, compress=not args.no_gzip):
            print(f"wrote {written}")
    if args.csv:
        print(f"wrote {store.export_csv(args.csv)}")
    if args.picture:
        print(f"wrote {store.thumbnails(args.picture)}")
    return 0


def main(argv=None):
    return run_reporting_errors(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
