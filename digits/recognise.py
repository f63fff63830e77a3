"""The one recognition path: a picture and a network -> the answer.

    picture (drawing, strokes or image file) --prepare--> 28x28 input --network--> Reading
    number (strokes or image) --segment--> pieces of one digit each --> NumberReading

A number is cut into digits by `digits.imaging.segment` (every candidate piece read by the
network, the best path kept); each digit is then prepared and read exactly as a single drawn
digit, so a one-digit drawing reads the same through `read_number_strokes` as `read_strokes`.

The desktop app (`gui.py`), the image command (`prediction.py`) and the web server all read
digits through these functions, so the same drawing gets the same answer everywhere.
"""
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from PIL import Image

from digits.constants import SIDE
from digits.errors import EmptyImageError, WeightsError
from digits.imaging import image_files, ink_pieces, segment, strokes as stroke_drawing
from digits.imaging.prepare import INK_LEVEL, MIN_EXTENT, prepare_array, prepare_image, prepare_views, to_array
from digits.nets import trajectory

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
    box: object = None      # where the digit lies on the picture, (x0, y0, x1, y1), when read in a number


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


def recognise(x, network, picture=None, not_a_digit_above=NOT_A_DIGIT_ABOVE, strokes=None,
              brush=stroke_drawing.BRUSH):
    """Read a prepared input `x` (784 floats in [0, 1]) with `network`. `x` may also be several
    inputs (k, 784) prepared from one picture in different ways: the network reads each, and
    their shares and their probabilities of none of the digits are averaged (test-time
    augmentation); the Reading's `image` is the first.

    `picture`: the whole picture `x` was prepared from (see likely_cause), for the advice of
    a reading that is not sure (default: `x` itself). Pieces side by side make a reading
    unsure whatever the network's confidence: that is more than one digit.
    `not_a_digit_above`: above this probability that it is none of the digits, the reading
    says "Not a digit" (its digit None, its shares kept).
    `strokes`: the strokes the picture was drawn from (canvas pixels, in the order drawn, drawn
    with `brush`), or None: where the network has a stroke reader (digits.nets.trajectory), the
    ten shares and the probability of none of the digits are the picture's joined with the path's,
    and "sure" is the reader's line for them.

    Raises WeightsError when the network answers with NaN or infinity (weights so large that
    its sums overflow): such an answer is never shown or sent."""
    views = np.asarray(x, dtype=np.float64).reshape(1, -1, SIDE * SIDE)
    x = views[0, :1]
    probabilities, none = views_answer(views, network)
    probabilities, none = probabilities[0], float(none[0])
    picture_none = none
    probabilities, none, sure_above = trajectory.shares(network, probabilities, none, strokes, brush)
    best = int(np.argmax(probabilities))
    confidence = float(probabilities[best])
    cause = likely_cause(x.reshape(SIDE, SIDE) if picture is None else picture)
    if none > not_a_digit_above >= picture_none and cause == "several":
        # Pieces side by side that only the path calls none of the digits: the path of two digits
        # (a "17") is the path of a drawing that is none; the advice to read it as a number says more.
        none = picture_none
    if none > not_a_digit_above:
        message = (f"Not a digit: this looks like none of 0-9 ({none:.0%}). "
                   "Write one digit, 0 to 9, or clear and try again.")
        return Reading(None, probabilities, confidence, x.reshape(SIDE, SIDE), network.describe(), message,
                       False, none)
    sure = confidence >= sure_above and cause not in ("several", "not a digit")
    message = (f"It is a {best} ({confidence:.0%} sure)." if sure else
               f"Not sure: perhaps a {best} ({confidence:.0%}). {ADVICE[cause]}")
    return Reading(best, probabilities, confidence, x.reshape(SIDE, SIDE), network.describe(), message, sure, none)


def network_answer(X, network):
    """(the shares (m, 10), the probabilities of none of the digits (m,)) `network` gives inputs
    X (m, 784). Raises WeightsError when it answers with NaN or infinity (weights so large that
    its sums overflow): such an answer is never shown or sent."""
    with np.errstate(all="ignore"):     # overflow is checked for below, not printed
        probabilities, none = network.probabilities_and_none(X)     # one forward pass, not two
        probabilities = np.asarray(probabilities, dtype=np.float64)
        none = np.asarray(none, dtype=np.float64).reshape(len(probabilities))
    if not (np.all(np.isfinite(probabilities)) and np.all(np.isfinite(none))):
        raise WeightsError(f"the network {network.describe()} gave no answer for this picture (not a number): "
                           "its weights are damaged; read with another network, or restore or retrain this one")
    return probabilities, none


def views_answer(views, network):
    """`network_answer` for m pictures each prepared k ways, `views` (m, k, 784): the shares (m, 10)
    and probabilities of none of the digits (m,) of each picture's views, averaged."""
    m, k = views.shape[:2]
    probabilities, none = network_answer(views.reshape(m * k, SIDE * SIDE), network)
    return probabilities.reshape(m, k, -1).mean(axis=1), none.reshape(m, k).mean(axis=1)


def nothing_read(error, network):
    """The Reading of a picture without a digit: `error` (an EmptyImageError) as the message."""
    message = str(error)
    return Reading(None, None, None, None, network.describe(), message[:1].upper() + message[1:] + ".")


def read_drawing(image, network, strokes=None, brush=stroke_drawing.BRUSH):
    """Read a Pillow image of a light digit on a dark background (a drawing canvas); `strokes`:
    the strokes it was drawn from with `brush`, if known (see `recognise`).

    An empty drawing or a lone dot is not an error here: the Reading's digit is None.
    """
    try:
        x = prepare_image(image)
    except EmptyImageError as e:
        return nothing_read(e, network)
    return recognise(x, network, image, strokes=strokes, brush=brush)


def read_strokes(strokes, width, height, network, brush=stroke_drawing.BRUSH):
    """Read strokes (sequences of (x, y) canvas pixels) drawn on a width x height canvas,
    drawn exactly as the desktop app draws them, and their path where the network has a stroke
    reader."""
    return read_drawing(stroke_drawing.render(strokes, width, height, brush), network, strokes, brush)


def read_file(path, network, name=None, number=None):
    """Read the digit in an image file (any size, either polarity: see digits.imaging.image_files).

    A picture no larger than a digit's box (`digit_sized`: a scanned digit) is prepared two
    ways, its strokes evened as a drawing's and as they are (as MNIST's were:
    `prepare.prepare_views`), and the network's shares of the two averaged: a small, thick scan
    loses its loops when its strokes are evened.

    A larger picture (a photo, a screenshot) is read two ways: whole, its paper's level taken
    from its border (`image_files.light_on_dark`), and as a number is read (`read_number_image`:
    ink found against the paper's light where it lies, specks left out). When the number
    reading finds one digit and is at least as sure of it, that is the reading: under uneven
    light the whole picture's "ink" takes in the shadows, while the paper's light found locally
    misses the inside of strokes too thick for it (a marker, a bold font). `number`: that
    NumberReading of this file if already made (prediction.py makes it first).

    Measured with the shipped CNN on 1,000 files of each kind (python -m benchmarks.image_files;
    README, "Predict digits in image files"): MNIST digits scanned at 14-24 px 94.7 % read right
    with even strokes alone, 96.2 % both ways; at 16 px 92.4 % and 95.3 %; photos of one pen
    digit 84.7 % whole, 99.1 % now; photos of MNIST digits 90.6 % and 97.0 %.

    `path` may also be a binary file object (an upload); `name` is what messages call it.
    Raises ImageFileError when the file cannot be read and EmptyImageError when it holds no ink.
    """
    if digit_sized(path):
        picture = image_files.light_on_dark(image_files.read_grey(path, name))
        return recognise(prepare_views(picture), network, picture, FILE_NOT_A_DIGIT_ABOVE)
    position = path.tell() if hasattr(path, "tell") else None
    if number is None:
        number = read_number_image(path, network, name)
        if position is not None:
            path.seek(position)
    try:
        picture = image_files.light_on_dark(image_files.read_grey(path, name))
        # Its specks are kept, as the number reading keeps them: wiped, the whole picture of two
        # digits (a 71) read as one more surely, and prediction.py took it for a single digit.
        whole = recognise(prepare_image(picture, wipe_dots=False), network, picture, FILE_NOT_A_DIGIT_ABOVE)
    except EmptyImageError:
        if len(number.digits) != 1:
            raise
        return number.digits[0]
    if len(number.digits) == 1 and number.digits[0].confidence >= whole.confidence:
        return number.digits[0]
    return whole


# Numbers ------------------------------------------------------------------------------------------

CROSSING = 1.5      # the cost of reading two strokes that cross each other as two digits
CROSS_POINTS = 200  # strokes are thinned to this many points to find where they cross
SEARCH_PATHS = True     # the search reads each run of strokes by its picture and its path (a stroke reader);
                        # False: only the digits it finds (as before; benchmarks.bench_numbers compares both)
ONE_DIGIT_WIDTH = 0.8   # ink no wider than this many times its height is one digit (to prediction.py)
SURE_ONE_DIGIT_WIDTH = 1.3  # ...and ink no wider than this read surely as one digit is one too
DIGIT_BOX = 160         # a picture at most this many pixels long, and no wider than
DIGIT_BOX_WIDTH = 1.5   # this many times its height, is one digit (a scanned digit's box)
IMAGE_PIECES = 8    # an image's digit may be more pieces than a drawn one where forced cuts cut it
VALLEY_PIECES = 4   # finely (ink_pieces.FILL_STEP); else (broken lines, valleys) this many

@dataclass
class NumberReading:
    """What a network read in a picture of a number.

    number: the digits read, left to right, as a string ("" when there are none).
    digits: one Reading per digit, left to right, each with its `box` on the picture.
    left_out: boxes (x0, y0, x1, y1) of the marks read as no digit (a dot, a dash).
    message: one sentence for a person.
    """
    number: str
    digits: list
    left_out: list
    message: str

    @property
    def sure(self):
        """Whether every digit is read surely (and there is at least one)."""
        return bool(self.digits) and all(d.sure for d in self.digits)


def number_message(digits, left_out):
    """The sentence a NumberReading shows."""
    if not digits and left_out:
        return (f"No digits: {len(left_out)} mark{'s' if len(left_out) > 1 else ''} left out (not digits). "
                "Write a number, with digits 0 to 9 large enough to read.")
    if not digits:
        return "Nothing to read: write a number, with digits large enough to read."
    number = "".join(str(d.digit) for d in digits)
    unsure = [i + 1 for i, d in enumerate(digits) if not d.sure]
    text = f"It reads {number}"
    if unsure:
        text += f"; not sure of digit{'s' if len(unsure) > 1 else ''} {', '.join(map(str, unsure))}"
    if left_out:
        text += f"; {len(left_out)} mark{'s' if len(left_out) > 1 else ''} left out (not digits)"
    return text + "."


def read_pieces(boxes, orders, prepare_run, network, not_a_digit_above=NOT_A_DIGIT_ABOVE, run_strokes=None,
                brush=stroke_drawing.BRUSH, **search):
    """Read a number whose ink is in pieces: the search of `digits.imaging.segment` with
    `prepare_run(run)` (a sorted tuple of piece indices -> the 784 input, or EmptyImageError);
    `search`: more arguments of `segment.best_reading` (max_pieces, links, joined, min_size, side).
    `run_strokes(run)`: the strokes of a run (drawn with `brush`), or None for ink without
    strokes: where the network has a stroke reader, the search reads every run by its picture and
    its path joined (SEARCH_PATHS), and each digit found is read as `recognise` reads a drawing
    with its strokes.

    A run the network calls none of the digits (`not_a_digit` above `not_a_digit_above`) is no
    digit to the search, and every other run's shares count for (1 - not_a_digit) of
    themselves: what is not a digit is left out, never read as one.
    Returns a NumberReading with each digit's box the union of its pieces' boxes.
    """
    prepared = {}
    path_reader = getattr(network, "stroke_reader", None) if run_strokes is not None and SEARCH_PATHS else None

    def read(runs):
        for run in runs:
            try:
                prepared[run] = prepare_run(run)
            except EmptyImageError:
                prepared[run] = None
        rows = [i for i, run in enumerate(runs) if prepared[run] is not None]
        shares = np.full((len(runs), 10), np.nan)
        if rows:
            found, none = network_answer(np.stack([prepared[runs[i]] for i in rows]), network)
            if path_reader is not None:
                F = trajectory.features_of([run_strokes(runs[i]) for i in rows], brush)
                found, none = path_reader.joined(found, none, F)
            found = found * (1.0 - none)[:, None]
            found[none > not_a_digit_above] = np.nan
            shares[rows] = found
        return shares

    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if path_reader is not None:
        search.setdefault("side", segment.SIDE_WITH_PATHS)
    found = segment.best_reading(boxes, orders, read, **search)
    digits, left_out = [], [boxes[i] for i in found.left_out]
    for run in found.runs:
        box = segment.union_box(boxes[list(run)])
        reading = recognise(prepared[run], network, not_a_digit_above=not_a_digit_above,    # as a single digit
                            strokes=run_strokes(run) if run_strokes else None, brush=brush)
        if reading.digit is None:
            left_out.append(box)
            continue
        reading.box = whole_box(box)
        digits.append(reading)
    left_out = sorted(whole_box(box) for box in left_out)
    return NumberReading("".join(str(d.digit) for d in digits), digits, left_out, number_message(digits, left_out))


def whole_box(box):
    """A box (x0, y0, x1, y1) in whole pixels: a tuple of ints."""
    return tuple(int(round(v)) for v in box)


def stroke_boxes(strokes, width, height, brush=stroke_drawing.BRUSH):
    """(n, 4) boxes of strokes as drawn with `brush` on a width x height canvas (clipped to it)."""
    boxes = []
    for s in strokes:
        p = np.asarray(s, dtype=np.float64).reshape(-1, 2)
        lo, hi = p.min(axis=0) - brush / 2, p.max(axis=0) + brush / 2
        boxes.append([max(lo[0], 0), max(lo[1], 0), min(hi[0], width), min(hi[1], height)])
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def read_number_strokes(strokes, width, height, network, brush=stroke_drawing.BRUSH):
    """Read a number written as strokes (sequences of (x, y) canvas pixels) on a width x height
    canvas. Each digit is the strokes the search groups, drawn and read as `read_strokes` does."""
    strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    boxes = stroke_boxes(strokes, width, height, brush)
    # Strokes off the canvas, or reduced to nothing by it, are not ink.
    keep = [i for i, b in enumerate(boxes) if b[2] > b[0] and b[3] > b[1]]
    strokes, boxes = [strokes[i] for i in keep], boxes[keep]

    def prepare_run(run):
        return prepare_image(stroke_drawing.render_part([strokes[i] for i in run], width, height, brush),
                             wipe_dots=False)     # the search leaves dots out itself

    if one_digit(boxes) or not len(boxes):
        reading = read_strokes(strokes, width, height, network, brush)
        box = whole_box(segment.union_box(boxes)) if len(boxes) else None
        if reading.digit is None:       # empty, a dot or not a digit: said as a single digit's drawing says it
            return NumberReading("", [], [box] if reading.probabilities is not None else [], reading.message)
        reading.box = box
        return NumberReading(str(reading.digit), [reading], [], number_message([reading], []))
    by_x = sorted(range(len(strokes)), key=lambda i: (boxes[i, 0] + boxes[i, 2], i))
    # A mark smaller than a single digit's drawing may be (on the app's usual canvas) is a dot.
    min_size = MIN_EXTENT * min(max(width, height), stroke_drawing.CANVAS_WIDTH)
    number = read_pieces(boxes, [list(range(len(strokes))), by_x], prepare_run, network,
                         run_strokes=lambda run: [strokes[i] for i in run], brush=brush,
                         links=crossing_links(strokes, boxes), min_size=min_size)
    if not number.digits:               # only dots: said as a single digit's drawing says it
        single = read_strokes(strokes, width, height, network, brush)
        number.message = single.message if single.digit is None else number.message
    return number


def one_digit(boxes):
    """Whether pieces with `boxes` (n, 4) are one digit whatever the search would say: they all
    overlap in x (one x-overlap group) and are no wider than ONE_DIGIT_WIDTH times their height.
    Then the drawing is read exactly as a single digit always was (a 4 in two strokes stays a 4)."""
    if len(boxes) == 0 or len(segment.overlap_groups(boxes)) > 1:
        return False
    x0, y0, x1, y1 = segment.union_box(boxes)
    return x1 - x0 <= ONE_DIGIT_WIDTH * (y1 - y0)


def crossing_links(strokes, boxes):
    """(n, n) `CROSSING` where two strokes cross each other (a 4's two strokes, a 7's bar): parting
    them into two digits costs that much. Only strokes whose boxes overlap are compared."""
    n = len(strokes)
    links = np.zeros((n, n))
    # At most CROSS_POINTS points a stroke: the test compares every segment with every other.
    strokes = [s if len(s) <= CROSS_POINTS else np.vstack((s[::-(-len(s) // CROSS_POINTS)], s[-1:])) for s in strokes]
    for i in range(n):
        for j in range(i + 1, n):
            if boxes[i, 0] < boxes[j, 2] and boxes[j, 0] < boxes[i, 2] and boxes[i, 1] < boxes[j, 3] \
                    and boxes[j, 1] < boxes[i, 3] and stroke_drawing.segments_cross(strokes[i], strokes[j]):
                links[i, j] = links[j, i] = CROSSING
    return links


def ink_aspect(number):
    """Width / height of the box holding all the ink a NumberReading found (0 without any)."""
    boxes = [d.box for d in number.digits] + list(number.left_out)
    if not boxes:
        return 0.0
    x0, y0, x1, y1 = segment.union_box(boxes)
    return (x1 - x0) / max(y1 - y0, 1)


def read_number_image(source, network, name=None):
    """Read a number in a picture: an image file's path, a binary file object (an upload,
    called `name` in messages) or a Pillow image; a photo of paper or a canvas alike (see
    `digits.imaging.ink_pieces`). Boxes are in the picture's own pixels.

    Raises ImageFileError when the file cannot be read as an image.
    """
    try:
        mask, scale = ink_pieces.read_ink(source, name)
        labels, boxes, joined, links, forced = ink_pieces.components(mask)
    except EmptyImageError:
        return NumberReading("", [], [], number_message([], []))

    def prepare_run(run):
        x0, y0, x1, y1 = segment.union_box(boxes[list(run)]).astype(int)
        crop = np.isin(labels[y0:y1, x0:x1], [i + 1 for i in run])
        return prepare_array(crop.astype(np.float64), wipe_dots=False)

    by_x = sorted(range(len(boxes)), key=lambda i: (boxes[i, 0] + boxes[i, 2], i))
    reading = read_pieces(boxes, [by_x], prepare_run, network, FILE_NOT_A_DIGIT_ABOVE,
                          max_pieces=IMAGE_PIECES if forced else VALLEY_PIECES,
                          joined=joined, links=links)
    reading.left_out = [scaled(box, scale) for box in reading.left_out]
    for digit in reading.digits:
        digit.box = scaled(digit.box, scale)
    return reading


def digit_sized(source):
    """Whether image file `source` (a path or a binary file object) is no larger than a box
    around one digit: at most DIGIT_BOX pixels on its longer side and no wider than
    DIGIT_BOX_WIDTH times its height (a scanned digit, an MNIST-sized picture). Its
    ink is too few pixels to cut into digits; a photo of a number is far larger. False when
    it cannot be read (reading it then says why)."""
    try:
        position = source.tell() if hasattr(source, "tell") else None
        with Image.open(source) as image:
            width, height = image.size
        if position is not None:
            source.seek(position)
    except (OSError, ValueError):
        return False
    return max(width, height) <= DIGIT_BOX and width <= DIGIT_BOX_WIDTH * height


def scaled(box, scale):
    """A box (x0, y0, x1, y1) of a shrunken picture in the picture's own pixels."""
    return tuple(int(round(v * scale)) for v in box)
