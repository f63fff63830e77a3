"""The one recognition path: a picture and a network -> the answer.

    picture (drawing, strokes or image file) --prepare--> 28x28 input --network--> Reading

The desktop app (`gui.py`), the image command (`prediction.py`) and the web server all read
digits through these functions, so the same drawing gets the same answer everywhere.
"""
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digits.constants import SIDE
from digits.errors import EmptyImageError, WeightsError
from digits.imaging import image_files, strokes as stroke_drawing
from digits.imaging.prepare import INK_LEVEL, prepare_image, to_array

# Why a reading may be unsure, and what to do: the advice under "Not sure" (see likely_cause).
ADVICE = {
    "several": "It looks like more than one digit: write one digit, or read it as a number.",
    "small": "It is small: write it larger, filling most of the box.",
    "not a digit": "It does not look like a digit: write one of 0 to 9.",
    "unclear": "Try writing it more clearly.",
}
SMALL = 0.25            # ink box below this fraction of the picture's height and width: small
PIECE = 0.3             # a piece of ink at least this fraction of the ink's height counts as a piece
TOO_WIDE = 3.0          # ink wider than this many times its height is no digit (a line, a word)


@dataclass
class Reading:
    """What a network read in a picture.

    digit: the answer, or None when the picture holds no digit (then `message` says why): an
    empty picture, or one the network reads as none of the ten digits (`not_a_digit`).
    probabilities: the ten shares (10,) summing to 1 (never NaN), or None (nothing drawn).
    confidence: the most probable digit's share. not_a_digit: the probability that it is none
    of the digits (a letter, a symbol, a scribble; 0 for a network that never learnt the difference).
    image: the 28x28 input (floats in [0, 1]) the network actually read, or None.
    network: which network read it (its `describe()`).
    sure: whether the confidence reaches the network's `sure_above` threshold (chosen by
    measurement on held-out data: see digits.nets.calibration); below it the answer is shown
    as a guess ("Not sure").
    """
    digit: object
    probabilities: object
    confidence: object
    image: object
    network: str
    message: str
    sure: bool = False
    not_a_digit: float = 0.0


# A network more sure than this that a picture is none of the digits says so. Drawings: 0.5.
# Image files (scans, photos) look unlike anything the network trained on, so it doubts real
# digits there more: measured on 2,000 MNIST test digits made to look scanned
# (benchmarks.pen_drawings.scanned_like), 3.5 % went above 0.5 and 0.5 % above 0.95, while
# 82-84 % of letters and symbols drawn on the canvas do (README, "Not a digit").
NOT_A_DIGIT_ABOVE = 0.5
FILE_NOT_A_DIGIT_ABOVE = 0.95


def likely_cause(picture):
    """Why a picture may be read badly: "several" (pieces of ink side by side with a gap
    between them, as the digits of a number are), "not a digit" (ink far wider than tall),
    "small" (ink in a small part of the picture), or "unclear". `picture`: the whole picture
    read (2-D array in [0, 1] or a Pillow image, light ink on dark, any size: the canvas, or an
    image file made light on dark). Measured on 2,498 pen digits drawn as the app draws them:
    4 (all 4s written in two pieces) are "several"; 200 of 200 pairs of them side by side are.
    """
    a = to_array(picture) if not isinstance(picture, np.ndarray) else picture
    ink = a >= INK_LEVEL * a.max(initial=0.0)
    if not ink.any():
        return "unclear"
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    pieces = [p for p in ndimage.find_objects(ndimage.label(ink, structure=np.ones((3, 3)))[0])
              if p[0].stop - p[0].start >= PIECE * height]
    spans = sorted((p[1].start, p[1].stop) for p in pieces)
    if any(left > max(right for _, right in spans[:i]) for i, (left, _) in enumerate(spans) if i):
        return "several"            # a column of no ink between pieces: side by side
    if width > TOO_WIDE * height:
        return "not a digit"
    if height < SMALL * a.shape[0] and width < SMALL * a.shape[1]:
        return "small"
    return "unclear"


def recognise(x, network, picture=None, not_a_digit_above=NOT_A_DIGIT_ABOVE):
    """Read a prepared input `x` (784 floats in [0, 1]) with `network`.

    `picture`: the whole picture `x` was prepared from (see likely_cause), for the advice of
    a reading that is not sure (default: `x` itself). Pieces side by side make a reading
    unsure whatever the network's confidence: that is more than one digit.
    `not_a_digit_above`: above this probability that it is none of the digits, the reading
    says "Not a digit" (its digit None, its shares kept).

    Raises WeightsError when the network answers with NaN or infinity (weights so large that
    its sums overflow): such an answer is never shown or sent."""
    x = np.asarray(x, dtype=np.float64).reshape(1, SIDE * SIDE)
    with np.errstate(all="ignore"):     # overflow is checked for below, not printed
        probabilities = network.predict_proba(x)[0]
        none = float(network.not_a_digit(x)[0])
    if not (np.all(np.isfinite(probabilities)) and np.isfinite(none)):
        raise WeightsError(f"the network {network.describe()} gave no answer for this picture (not a number): "
                           "its weights are damaged; read with another network, or restore or retrain this one")
    best = int(np.argmax(probabilities))
    confidence = float(probabilities[best])
    if none > not_a_digit_above:
        message = (f"Not a digit: this looks like none of 0-9 ({none:.0%}). "
                   "Write one digit, 0 to 9, or clear and try again.")
        return Reading(None, probabilities, confidence, x.reshape(SIDE, SIDE), network.describe(), message,
                       False, none)
    cause = likely_cause(x.reshape(SIDE, SIDE) if picture is None else picture)
    sure = confidence >= network.sure_above and cause not in ("several", "not a digit")
    message = (f"It is a {best} ({confidence:.0%} sure)." if sure else
               f"Not sure: perhaps a {best} ({confidence:.0%}). {ADVICE[cause]}")
    return Reading(best, probabilities, confidence, x.reshape(SIDE, SIDE), network.describe(), message, sure, none)


def nothing_read(error, network):
    """The Reading of a picture without a digit: `error` (an EmptyImageError) as the message."""
    message = str(error)
    return Reading(None, None, None, None, network.describe(), message[:1].upper() + message[1:] + ".")


def read_drawing(image, network):
    """Read a Pillow image of a light digit on a dark background (a drawing canvas).

    An empty drawing or a lone dot is not an error here: the Reading's digit is None.
    """
    try:
        x = prepare_image(image)
    except EmptyImageError as e:
        return nothing_read(e, network)
    return recognise(x, network, image)


def read_strokes(strokes, width, height, network, brush=stroke_drawing.BRUSH):
    """Read strokes (sequences of (x, y) canvas pixels) drawn on a width x height canvas,
    drawn exactly as the desktop app draws them."""
    return read_drawing(stroke_drawing.render(strokes, width, height, brush), network)


def read_file(path, network, name=None):
    """Read the digit in an image file (any size, either polarity: see digits.imaging.image_files).

    `path` may also be a binary file object (an upload); `name` is what messages call it.
    Raises ImageFileError when the file cannot be read and EmptyImageError when it holds no ink.
    """
    picture = image_files.light_on_dark(image_files.read_grey(path, name))
    return recognise(prepare_image(picture), network, picture, FILE_NOT_A_DIGIT_ABOVE)
