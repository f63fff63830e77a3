"""The one family of errors that mean "the user's input or files are wrong".

The commands catch `UserInputError` and show its message as one `error:` line with a non-zero
exit code (a 4xx answer in the web API). Anything else is a bug and keeps its traceback.
Every message says what is wrong and what to do about it.
"""


class UserInputError(Exception):
    """Base: something the user gave (an option, a file, a drawing) cannot be used as it is."""


class DataError(UserInputError):
    """A data file is missing, unreadable or not what it should be."""


class PendigitsError(DataError):
    """The pen-digits file is missing or not in the UCI pendigits format."""


class WeightsError(UserInputError):
    """A saved network is missing, damaged or not a network this project can read."""


class ImageFileError(UserInputError):
    """An image file cannot be read as an image."""


class EmptyImageError(UserInputError):
    """A drawing or picture holds no digit: no ink, or only a mark too small to read."""


class OutputError(UserInputError):
    """An output location (folder or file) cannot be written, or would overwrite an input."""


class SamplesError(UserInputError):
    """The samples file cannot be used: not a samples database, damaged, busy or unwritable."""
