"""A training recipe on the command line: which kind of network, its options, the data.

    parser = argparse.ArgumentParser(...)
    add_recipe_arguments(parser)          # --model, --data, --lambda, --seed, each kind's options, ...
    args = parse_recipe(parser, argv)     # args.kind (the class), args.options (its options, parsed), args.lamb

Every kind in digits.nets.KINDS brings its own OPTIONS (digits/nets/training.py); they are
offered here under one flag each, with each kind's meaning and default in --help, and an
option of another kind than the one chosen is refused, not silently ignored. Used by main.py
and by the benchmarks that train a recipe (benchmarks/pen_writer_groups.py).
"""
import argparse

import numpy as np

from digits.cli import whole_number
from digits.nets import KINDS


def non_negative_float(text):
    """An argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}") from None
    if not np.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


MAX_PEN_ELASTIC = 0.2    # --pen-elastic: more than a fifth of the digit's size turns a 9 into a 3

# What is added to the training images, and from where: (flag, type, default, metavar, help).
DATA_OPTIONS = (
    ("--augment", whole_number(0), 0, "N",
     "add N distorted copies of every training image (rotated, slanted, stretched, thicker or thinner "
     "strokes: how drawings differ from MNIST); default 0"),
    ("--scans", whole_number(0), 0, "N",
     "add N of the training images made to look scanned (thick, size-normalised into 13-26 px, blurred, "
     "on grey paper, as digits scanned from envelopes and forms are), prepared as an image file is read; "
     "default 0"),
    ("--pen-digits", None, None, "FILE",
     "also train on real pen-written digits (UCI pendigits-orig.tra), each drawn the way the drawing app "
     "draws strokes"),
    ("--pen-writers", whole_number(1), 15, "N",
     "with --pen-digits: use writers 1..N only, so the others stay a fair test (default 15)"),
    ("--pen-copies", whole_number(1), 8, "K",
     "with --pen-digits: K drawings of each pen digit, at random places, sizes, slants and brush widths "
     "(default 8)"),
    ("--pen-per-epoch", whole_number(1), None, "K",
     "with --pen-digits: train each epoch on K of the --pen-copies drawings of each pen digit (on "
     "average), a fresh choice every epoch: 16 drawings, 8 an epoch, give more varied drawings than 8 "
     "without a larger share of the training or longer epochs (kinds trained by epochs: "
     + ", ".join(k for k, cls in KINDS.items() if cls.TRAINS_BY_EPOCH) + "); default: all of them"),
    ("--pen-elastic", non_negative_float, 0.0, "A",
     "with --pen-digits: also bend each drawing by a smooth random field of about A x the digit's size "
     "(an elastic distortion of the pen strokes: loops open or close, tails lengthen, strokes meet "
     "elsewhere), such as 0.05; default 0, none"),
    ("--fine-tune", None, None, "DIR",
     "go on training the network saved in DIR (of the --model kind) instead of starting from random "
     "weights: with --samples, a few epochs make it yours"),
    ("--samples", None, None, "FILE",
     "also train on your own handwriting: the samples the apps kept when you said what a digit was "
     "(python -m digits.samples count shows them)"),
    ("--samples-copies", whole_number(1), 50, "K",
     "with --samples: each sample counts K times, so that a few dozen weigh against 60,000 MNIST images "
     "(default 50)"),
    ("--non-digits", whole_number(0), 0, "N",
     "also train on N drawings that are not digits (letters, symbols, scribbles, digits written over each "
     "other, dashes), so that the network can say 'not a digit' (kinds that can learn it: "
     + ", ".join(k for k, cls in KINDS.items() if cls.LEARNS_NOT_A_DIGIT) + "); default 0"),
)


def fraction(text):
    """An argparse type: a number strictly between 0 and 1, such as 0.2 or 1/7."""
    try:
        numerator, _, denominator = text.partition("/")
        value = float(numerator) / float(denominator) if denominator else float(numerator)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1 such as 0.2 or 1/7, got {text}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def kind_options():
    """{option name: [(kind, Option), ...]}: every training option of every kind, in order."""
    options = {}
    for kind, cls in KINDS.items():
        for option in cls.OPTIONS:
            options.setdefault(option.name, []).append((kind, option))
    return options


def _shown(value):
    return ",".join(map(str, value)) if isinstance(value, tuple) else value


def add_recipe_arguments(parser, default_model="mlp"):
    """The recipe's options: the kind, the data and what is added to it, and each kind's own."""
    parser.add_argument("--model", choices=tuple(KINDS), default=default_model,
                        help="which kind of network: mlp, the tutorial's 784-100-10 sigmoid network trained by "
                             "L-BFGS-B (default); cnn, the convolutional network; deep, the course's ReLU MLP "
                             "(both trained by minibatch Adam); committee, --members CNNs whose shares are averaged")
    parser.add_argument("--data", metavar="PATH",
                        help="mnist-original.mat, a folder with the four MNIST IDX files, or a Kaggle "
                             "Digit Recognizer train.csv (default: data/mnist-original.mat, downloaded "
                             "and made if missing)")
    parser.add_argument("--test-fraction", type=fraction, default=1 / 7, metavar="F",
                        help="the last F of the images are held out for testing (default 1/7: MNIST's 10,000 of 70,000)")
    parser.add_argument("--lambda", dest="lamb", type=non_negative_float, default=None, metavar="L",
                        help="regularisation strength lambda (default: "
                             + ", ".join(f"{cls.LAMBDA} for --model {kind}" for kind, cls in KINDS.items()) + ")")
    parser.add_argument("--seed", type=whole_number(0), default=0, metavar="N",
                        help="seed of the random initial weights (default 0)")
    group = parser.add_argument_group("training options of each kind (--model); another kind's are refused")
    for name, owners in kind_options().items():
        group.add_argument(owners[0][1].flag, dest=name, metavar=owners[0][1].metavar, default=None,
                           help="; ".join(f"{kind}: {option.help} (default {_shown(option.default)})"
                                          for kind, option in owners))
    for flag, kind, default, metavar, help_text in DATA_OPTIONS:
        parser.add_argument(flag, type=kind, default=default, metavar=metavar, help=help_text)


def parse_recipe(parser, argv, known_only=False):
    """Parse `argv`; the namespace also gets `kind` (the network class), `options` (its training
    options by name, parsed, defaults filled in) and `lamb` (the kind's default if not given).
    known_only: leave options this parser does not know in `args.rest` (parse_known_args)."""
    if known_only:
        args, args.rest = parser.parse_known_args(argv)
    else:
        args = parser.parse_args(argv)
    args.kind = KINDS[args.model]
    args.options = _own_options(parser, args)
    if args.non_digits and not args.kind.LEARNS_NOT_A_DIGIT:
        parser.error(f"--non-digits: --model {args.model} cannot learn 'not a digit'; choose "
                     + " or ".join(f"--model {k}" for k, cls in KINDS.items() if cls.LEARNS_NOT_A_DIGIT))
    if args.pen_per_epoch is not None:
        if not args.pen_digits:
            parser.error("--pen-per-epoch takes turns among the pen digits' drawings: give --pen-digits FILE too")
        if not args.kind.TRAINS_BY_EPOCH:
            parser.error(f"--pen-per-epoch: --model {args.model} trains on every image at every step; choose "
                         + " or ".join(f"--model {k}" for k, cls in KINDS.items() if cls.TRAINS_BY_EPOCH))
        if args.pen_per_epoch > args.pen_copies:
            parser.error(f"--pen-per-epoch {args.pen_per_epoch} is more than the {args.pen_copies} drawings of "
                         f"each pen digit (--pen-copies); use at most {args.pen_copies}")
    if args.pen_elastic and not args.pen_digits:
        parser.error("--pen-elastic bends the pen digits' strokes: give --pen-digits FILE too")
    if args.pen_elastic > MAX_PEN_ELASTIC:
        parser.error(f"--pen-elastic {args.pen_elastic:g} would bend digits out of shape: use at most "
                     f"{MAX_PEN_ELASTIC:g} (0.05 is a good start)")
    if args.lamb is None:
        args.lamb = args.kind.LAMBDA
    return args


def _own_options(parser, args):
    """The chosen kind's training options, parsed, defaults filled in; another kind's refused."""
    own = {option.name: option for option in args.kind.OPTIONS}
    options = {}
    for name, owners in kind_options().items():
        text = getattr(args, name)
        if name not in own:
            if text is not None:
                kinds = " or ".join(f"--model {kind}" for kind, _ in owners)
                parser.error(f"{owners[0][1].flag} is an option of {kinds}, not of --model {args.model}")
            continue
        option = own[name]
        if text is None:
            options[name] = option.default
            continue
        try:
            options[name] = option.parse(text)
        except argparse.ArgumentTypeError as e:
            parser.error(f"argument {option.flag}: {e}")
        except ValueError:
            parser.error(f"argument {option.flag}: invalid value {text!r}")
    return options
