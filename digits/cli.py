"""What the command-line tools share: argument types, signals, and errors shown as one line."""
import argparse
import contextlib
import signal
import sys

from digits.errors import UserInputError


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would raise KeyboardInterrupt, so both stop work the same way."""


def _raise_terminated(signum, frame):
    raise Terminated()


def exit_code(interruption):
    """130 for Ctrl-C, 143 for SIGTERM (the shell's 128 + signal number)."""
    return 128 + (signal.SIGTERM if isinstance(interruption, Terminated) else signal.SIGINT)


def whole_number(minimum, maximum=None):
    """An argparse type: an integer >= minimum (and <= maximum, if given)."""
    def parse(text):
        value = int(text)
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, got {text}")
        return value
    parse.__name__ = "whole number"  # argparse names the type in its "invalid ... value" message
    return parse


def positive_float(text):
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def run_reporting_errors(run, args):
    """run(args), turning the errors a user can cause into one `error:` line and an exit code.

    SIGTERM is turned into `Terminated` (a KeyboardInterrupt) for the duration, so that the
    commands stop on it as they stop on Ctrl-C: what is finished is saved, nothing half-written.
    """
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return run(args)
    except UserInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print("Terminated." if isinstance(e, Terminated) else "Interrupted.", file=sys.stderr)
        return exit_code(e)
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def signals_held():
    """Ctrl-C and SIGTERM held back for the duration (work that must not be cut short, such as
    saving a network that took minutes to train); one that arrived meanwhile is raised at the
    end, as KeyboardInterrupt or Terminated."""
    arrived = []
    previous = {s: signal.signal(s, lambda signum, frame: arrived.append(signum))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield arrived
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if arrived:
        raise Terminated() if arrived[0] == signal.SIGTERM else KeyboardInterrupt()


def interrupted_import(error):
    """Whether `error` (raised while the libraries load) is Ctrl-C in disguise: a C extension
    whose initialisation a KeyboardInterrupt cut short raises ImportError from it."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
    return False
