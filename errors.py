"""Errors the command-line tools report as one line (no traceback) before exiting non-zero."""


class DataError(Exception):
    """A data file is missing, unreadable or not what it should be; the message says what to do."""
