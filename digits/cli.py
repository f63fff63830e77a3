"""What the command-line tools share: argument types, and errors shown as one line."""
import argparse
import sys

from errors import DataError
from weights import WeightsError


def whole_number(minimum):
    """An argparse type: an integer >= minimum."""
    def parse(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text}")
        return value
    parse.__name__ = "whole number"  # argparse names the type in its "invalid ... value" message
    return parse


def run_reporting_errors(run, args, expected=(DataError, WeightsError)):
    """run(args), turning the errors a user can cause into one `error:` line and an exit code."""
    try:
        return run(args)
    except expected as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # e.g. a folder that cannot be written
        print(f"error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
