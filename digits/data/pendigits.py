"""Real pen-written digits: UCI pendigits (UNIPEN format).

The file `pendigits-orig.tra` holds 7,494 digits from 30 writers, each a list of strokes
sampled from a tablet: integer (x, y) points in a 500x500 box with y growing upwards.
`load` reads them. To draw them: `digits.imaging.strokes`; to replay them through the
desktop app: `tests/helpers/replay.py`; to train on them: `digits.imaging.distort`.
"""
import os
from dataclasses import dataclass

import numpy as np

from digits.constants import REPO
from digits.errors import PendigitsError

FILENAME = "pendigits-orig.tra"


@dataclass
class PenDigit:
    label: int
    writer: int
    strokes: list          # of (n, 2) float arrays of tablet (x, y), y upwards


def default_dir():
    """$PENDIGITS_DIR, else ../shared/pendigits beside the repository."""
    return os.environ.get("PENDIGITS_DIR") or os.path.join(REPO, "..", "shared", "pendigits")


def check_path(path, option="--pen-digits"):
    """The path of `pendigits-orig.tra` given it or its folder; PendigitsError if it is not there.

    `option` is how the user named the path, for the error message.
    """
    if os.path.isdir(path):
        path = os.path.join(path, FILENAME)
    if not os.path.isfile(path):
        raise PendigitsError(f"{path} not found; {option} takes UCI's {FILENAME} or the folder holding it "
                             "(from the UCI Machine Learning Repository, 'Pen-Based Recognition of Handwritten Digits')")
    if not os.access(path, os.R_OK):
        raise PendigitsError(f"{path}: permission denied; make it readable")
    return path


def load(path=None, option="--pen-digits"):
    """All digits of `pendigits-orig.tra` (a file, or the directory holding it), in file order."""
    path = check_path(path or default_dir(), option)
    digits, strokes, points = [], None, None
    with open(path, encoding="ascii", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            word = line.split()
            if not word:
                continue
            if word[0] == ".SEGMENT":
                # .SEGMENT DIGIT 6-7 ? "4"  (the label follows on .COMMENT as well)
                strokes = []
            elif word[0] == ".COMMENT" and strokes is not None:
                # .COMMENT <label> <writer> <sample>
                digits.append(PenDigit(int(word[1]), int(word[2]), strokes))
            elif word[0] == ".PEN_DOWN":
                points = []
            elif word[0] == ".PEN_UP":
                if points is None or strokes is None:
                    raise PendigitsError(f"{path}:{lineno}: .PEN_UP without .PEN_DOWN")
                if points:
                    strokes.append(np.array(points, dtype=np.float64))
                points = None
            elif points is not None:
                try:
                    points.append((float(word[0]), float(word[1])))
                except (ValueError, IndexError):
                    raise PendigitsError(f"{path}:{lineno}: expected two coordinates, got {line.strip()!r}") from None
    digits = [d for d in digits if d.strokes]
    if not digits:
        raise PendigitsError(f"{path} holds no digits")
    return digits
