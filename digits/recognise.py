"""The one recognition path: a picture and a network -> the answer.

    picture (drawing, strokes or image file) --prepare--> 28x28 input --network--> Reading

The desktop app (`gui.py`), the image command (`prediction.py`) and the web server all read
digits through these functions, so the same drawing gets the same answer everywhere.
"""
from dataclasses import dataclass

import numpy as np

from digits.constants import SIDE
from digits.errors import EmptyImageError, WeightsError
from digits.imaging import image_files, strokes as stroke_drawing
from digits.imaging.prepare import prepare_image


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


NOT_A_DIGIT_ABOVE = 0.5    # a network more sure than this that a drawing is none of the digits says so


def recognise(x, network):
    """Read a prepared input `x` (784 floats in [0, 1]) with `network`.

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
    if none > NOT_A_DIGIT_ABOVE:
        message = (f"Not a digit: this looks like none of 0-9 ({none:.0%}). "
                   "Write one digit, 0 to 9, or clear and try again.")
        return Reading(None, probabilities, confidence, x.reshape(SIDE, SIDE), network.describe(), message,
                       False, none)
    sure = confidence >= network.sure_above
    message = (f"It is a {best} ({confidence:.0%} sure)." if sure else
               f"Not sure: perhaps a {best} ({confidence:.0%}). Try writing it larger or more clearly.")
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
    return recognise(x, network)


def read_strokes(strokes, width, height, network, brush=stroke_drawing.BRUSH):
    """Read strokes (sequences of (x, y) canvas pixels) drawn on a width x height canvas,
    drawn exactly as the desktop app draws them."""
    return read_drawing(stroke_drawing.render(strokes, width, height, brush), network)


def read_file(path, network, name=None):
    """Read the digit in an image file (any size, either polarity: see digits.imaging.image_files).

    `path` may also be a binary file object (an upload); `name` is what messages call it.
    Raises ImageFileError when the file cannot be read and EmptyImageError when it holds no ink.
    """
    return recognise(image_files.load_digit(path, name), network)
