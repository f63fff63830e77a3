"""What every kind's training has in common: its options, and what a training run returns.

A kind of network (digits/nets/<kind>.py) declares its recipe as class attributes of the
contract (digits/nets/base.py):

    OPTIONS = (Option("maxiter", whole_number(1), 100, "L-BFGS-B iterations"), ...)
    LAMBDA = 0.1                      # its default regularisation strength
    UNIT = "iteration"                # what one step of its training is called

and its trainer as `Kind.train(images, labels, lamb=..., seed=..., **options)`, which returns
the trained network and a `TrainingResult`. `main.py` builds its command line from the
OPTIONS of every kind in `digits.nets.KINDS` and never asks which kind it trains.
"""
import argparse
import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Option:
    """One training option of a kind: `--name` on the command line.

    parse(text) -> value turns the command line's text into the value (raising ValueError or
    argparse.ArgumentTypeError with a message for a bad one); default is that value when the
    option is not given; metavar and help are what `--help` shows.
    """
    name: str
    parse: object
    default: object
    help: str
    metavar: str = "N"

    @property
    def flag(self):
        return "--" + self.name.replace("_", "-")


@dataclass
class TrainingResult:
    """What a trainer returns beside the network.

    unit: "iteration" or "epoch"; history: per-step lists, always "loss" (the cost after each
    finished step), and what else the trainer records ("train_accuracy", "validation_accuracy",
    "seconds"); seconds: the whole training time.
    interruption: the KeyboardInterrupt (Ctrl-C; digits.cli.Terminated for SIGTERM) that
    stopped it early, or None. diverged: why training was abandoned as hopeless (non-finite
    cost or parameters), or None. Either way the network holds the parameters of the last
    finished step (its initial ones if none finished).
    """
    unit: str
    history: dict = field(default_factory=lambda: {"loss": []})
    seconds: float = 0.0
    interruption: BaseException = None
    diverged: str = None

    @property
    def steps(self):
        """How many steps (iterations or epochs) finished."""
        return len(self.history["loss"])

    @property
    def stopped_early(self):
        return self.interruption is not None or self.diverged is not None

    @property
    def why(self):
        """One phrase: why training stopped."""
        if self.diverged:
            return f"diverged: {self.diverged}"
        if self.interruption is not None:
            from digits.cli import Terminated
            return "terminated (SIGTERM)" if isinstance(self.interruption, Terminated) else "interrupted (Ctrl-C)"
        return "finished"


def not_finite(cost, params):
    """Why training cannot go on from here (a phrase), or None: a cost or parameter that is not
    finite means the steps were too large (a learning rate or lambda far too big)."""
    if not math.isfinite(cost):
        return f"the cost became {cost}"
    for name, p in params.items():
        if not np.all(np.isfinite(p)):
            return f"the parameters ({name}) became infinite or nan"
    return None


def hidden_widths(text):
    """An option type: hidden layer widths such as '25,15' -> (25, 15)."""
    try:
        widths = tuple(int(part) for part in str(text).split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be whole numbers separated by commas, such as 25,15; got {text}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"each layer needs at least 1 unit, got {text}")
    return widths


def filter_counts(text):
    """An option type: the filters of each convolution, such as '16,32' -> (16, 32): 1 to 3
    whole numbers >= 1 (each convolution's pooling halves the 28x28 image)."""
    try:
        counts = tuple(int(part) for part in str(text).split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be whole numbers separated by commas, such as 32,64; got {text}") from None
    if not 1 <= len(counts) <= 3 or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"give 1 to 3 filter counts, each at least 1 (each convolution halves the "
                                         f"28x28 image), such as 32,64; got {text}")
    return counts


def dropout_share(text):
    """An option type: a share of units to drop, at least 0 and below 1, such as 0.5."""
    try:
        share = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 up to (not including) 1, such as 0.5; got {text}") from None
    if not 0 <= share < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1 (1 would drop every unit), such as 0.5; got {text}")
    return share
