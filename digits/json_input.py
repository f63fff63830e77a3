"""Reading JSON that anyone may have written (a request body, a calibration file).

`parse` turns every way such text can be wrong -- not JSON, not UTF-8, nested 100,000 deep
(a RecursionError in Python's parser), a whole number of thousands of digits (Python refuses
to convert more than 4,300, with a message about `sys.set_int_max_str_digits()`) -- into one
JSONInputError whose message completes the sentence "the body ..." or "the file ...".
"""
import json

MAX_DIGITS = 400        # digits of a whole number; more is never a coordinate or a setting


class JSONInputError(ValueError):
    """Text that cannot be read as JSON; the message says why, as "is not valid JSON (...)"."""


def _whole_number(text):
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise JSONInputError(f"holds a whole number of {digits} digits (at most {MAX_DIGITS} are read)")
    return int(text)


def parse(text):
    """The value of JSON `text` (str, or UTF-8 bytes); JSONInputError saying what is wrong."""
    try:
        return json.loads(text, parse_int=_whole_number)
    except JSONInputError:
        raise
    except RecursionError:
        raise JSONInputError("is nested too deeply") from None
    except UnicodeDecodeError:
        raise JSONInputError("is not UTF-8 text") from None
    except ValueError as e:
        raise JSONInputError(f"is not valid JSON ({e})") from None
