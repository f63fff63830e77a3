"""Turn a picture of one digit into the 784-pixel input the network was trained on.

MNIST digits were prepared like this: crop to the ink, scale so the longer side is 20
pixels (keeping the aspect ratio, anti-aliased), and place the result in a 28x28 field so
that its centre of mass lies at the centre. A drawing must go through the same steps,
or the network sees a digit of a size and place it never met in training.

Drawings need one step more: a brush has a fixed width, so a small digit gets fat strokes
and a large one thin strokes, whereas MNIST's strokes are about 14 % of the digit's size
whatever its size. `even_strokes` redraws the ink with that stroke width before scaling.

`prepare_image(image)` takes a Pillow image of a light digit on a dark background, of any
size and mode, and returns a float64 vector of 784 values in [0, 1] (row-major 28x28).
It raises EmptyImageError when there is no digit: no ink, or just a dot. A dot beside the
digit (a tap of the pen) is wiped first (`without_dots`).

A scan was written with a real pen, whose strokes are what MNIST's were: evening them loses
what a small, thick scan still shows (a loop filled in at the threshold). So a scanned digit's
file is read both ways (`prepare_views`: strokes evened, and MNIST's own preparation), and the
network's shares of the two are averaged (digits.recognise.read_file).
"""
import numpy as np
from PIL import Image
from scipy import ndimage

from digits.constants import PIXEL_MAX, SIDE
from digits.errors import EmptyImageError

BOX = 20             # MNIST scaled each digit so its longer side is BOX pixels
CENTRE = 14.0        # where MNIST's centres of mass lie (mean over the training set: 13.99, 14.00)
INK_LEVEL = 0.25     # a pixel at least this bright (relative to the brightest) counts as ink
MIN_PEAK = 0.2       # an image whose brightest pixel is darker than this has no ink at all
MIN_EXTENT = 0.08    # a mark smaller than this fraction of the image's longer side is a dot, not a digit
DOT = 2.0            # a separate mark no longer than this many stroke widths is a dot (a tap of the pen) ...
DOT_SHARE = 0.4      # ... when it is also no longer than this share of the largest mark's longer side
WORK = 200           # the ink is redrawn at this size (longer side) to even out stroke widths
STROKE = 0.14        # stroke width / digit's longer side: MNIST's median (10th-90th percentile 0.10-0.18)


def to_array(image):
    """Grey levels of a Pillow image as a float64 2-D array in [0, 1]."""
    if not isinstance(image, Image.Image):
        raise TypeError(f"expected a Pillow image, got {type(image).__name__}")
    if image.mode != "L":
        image = image.convert("L")
    return np.asarray(image, dtype=np.float64) / PIXEL_MAX


def ink_box(a):
    """(top, bottom, left, right) bounds, end-exclusive, of the ink in grey array `a`.

    Raises EmptyImageError when there is no ink or only a dot.
    """
    peak = a.max(initial=0.0)
    if peak < MIN_PEAK:
        raise EmptyImageError("the image is empty: there is no digit to recognise")
    rows = np.flatnonzero((a >= INK_LEVEL * peak).any(axis=1))
    cols = np.flatnonzero((a >= INK_LEVEL * peak).any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if max(bottom - top, right - left) < MIN_EXTENT * max(a.shape):
        raise EmptyImageError("the mark is too small to be a digit: draw it larger")
    return top, bottom, left, right


def without_dots(a):
    """Grey array `a` with the dots beside its digit wiped out: a copy, or `a` itself if it has none.

    A pen set down and lifted leaves a dot (one writer of pendigits' 30 dotted his 1s and 5s; a
    tapped mouse does the same). A dot far from a small digit enlarges the ink's box and shrinks
    the digit in its 20 px, off centre. A dot is a separate mark (8-connected, at INK_LEVEL) no
    longer than DOT times the ink's stroke width and DOT_SHARE of the largest mark's longer
    side: a stroke, however short (a 7's bar, a 5's flag), is longer than it is wide.
    """
    peak = a.max(initial=0.0)
    if peak < MIN_PEAK:
        return a
    mask = a >= INK_LEVEL * peak
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n < 2:
        return a
    sides = np.array([max(r.stop - r.start, c.stop - c.start) for r, c in ndimage.find_objects(labels)])
    dots = np.flatnonzero((sides <= DOT * stroke_width(mask)) & (sides <= DOT_SHARE * sides.max())) + 1
    if dots.size == 0:
        return a
    dot = np.isin(labels, dots)
    # Its faint edge too (below INK_LEVEL), but nothing of the other marks.
    wipe = ndimage.binary_dilation(dot, iterations=2) & ~(mask & ~dot)
    return np.where(wipe, 0.0, a)


def stroke_width(mask):
    """Mean width in pixels of the strokes in boolean array `mask`: 2 * area / perimeter.

    For a stroke of length l and width w the area is l*w and the outline about 2*l long.
    """
    inner = ndimage.binary_erosion(mask)
    perimeter = np.count_nonzero(mask & ~inner)
    return 2 * np.count_nonzero(mask) / max(perimeter, 1)


def even_strokes(crop, target=STROKE, work=WORK):
    """The ink of grey array `crop` as a 0/1 array whose strokes are `target` of its longer side thick.

    A fixed-width pen is thick on a small digit and thin on a large one; MNIST's strokes are
    about the same width relative to the digit, so the drawing's strokes are made so too:
    the ink is thresholded at `work` pixels and grown or shrunk by a distance transform.
    """
    h, w = crop.shape
    factor = work / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    big = np.asarray(Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.BILINEAR))
    mask = big >= 0.5 * big.max()
    width = stroke_width(mask)
    # Growing by r adds 2r to both the stroke width and the digit's size: solve w + 2r = t (L + 2r).
    r = (target * work - width) / (2 * (1 - target))
    if r > 0:
        mask = np.pad(mask, int(np.ceil(r)) + 1)    # room to grow into
        mask = ndimage.distance_transform_edt(~mask) <= r
    elif r < 0:
        thinner = ndimage.distance_transform_edt(mask) > -r
        mask = thinner if thinner.any() else mask    # never erase the digit altogether
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float64)


def scale_to_box(crop, box=BOX):
    """Resize grey array `crop` so its longer side is `box` pixels, keeping the aspect ratio."""
    h, w = crop.shape
    factor = box / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    # LANCZOS averages over the source pixels when shrinking: that is the anti-aliasing.
    small = Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.LANCZOS)
    return np.clip(np.asarray(small, dtype=np.float64), 0.0, 1.0)


def centre_by_mass(patch, side=SIDE, centre=CENTRE):
    """Place `patch` in a side x side field with its centre of mass at (centre, centre).

    The whole-pixel part of the move is a copy; the remaining fraction of a pixel is a
    linear interpolation, so that a digit's input does not jump by a pixel when its
    centre of mass crosses a half-pixel.
    """
    h, w = patch.shape
    total = patch.sum()
    rows, cols = np.indices(patch.shape)
    com_r, com_c = (rows * patch).sum() / total, (cols * patch).sum() / total
    dr, dc = centre - com_r, centre - com_c
    top, left = int(np.floor(dr)), int(np.floor(dc))
    field = np.zeros((side + 1, side + 1))     # one spare row and column for the fraction
    # Copy the part of the patch that falls inside the field (all of it, but for odd shapes).
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, side + 1), min(left + w, side + 1)
    field[r0:r1, c0:c1] = patch[r0 - top:r1 - top, c0 - left:c1 - left]
    fr, fc = dr - top, dc - left                # fractions in [0, 1)
    field = ndimage.shift(field, (fr, fc), order=1, mode="constant")
    return field[:side, :side]


def prepare_image(image, wipe_dots=True):
    """A light-on-dark Pillow image of one digit -> float64 array (784,) in [0, 1].

    Raises EmptyImageError when the image has no ink or only a dot. `wipe_dots` as in
    `prepare_array`.
    """
    return prepare_array(to_array(image), wipe_dots=wipe_dots)


def prepare_views(image):
    """A light-on-dark Pillow image of one scanned digit prepared two ways, float64 (2, 784) in
    [0, 1]: strokes evened as a drawing's are (`prepare_image`), and as MNIST was prepared, its
    strokes as they are (stroke=None). Its dots are kept: in a scan a few pixels high, the
    pieces of a broken thin stroke look like dots (wiped, 16 px scans of MNIST digits read 5 in
    10,000 worse). Raises EmptyImageError when it has no ink or only a dot."""
    a = to_array(image)
    return np.stack([prepare_array(a, wipe_dots=False), prepare_array(a, stroke=None, wipe_dots=False)])


def prepare_array(a, stroke=STROKE, work=WORK, wipe_dots=True):
    """`prepare_image` for a grey array `a` in [0, 1]; `stroke`, `work` as in `even_strokes`.

    stroke=None leaves the strokes as drawn (the plain MNIST preparation). wipe_dots=False
    keeps the dots beside the digit (`without_dots`), as image files and the number reader's
    pieces are read: a small scan's broken strokes look like dots, and the number reader's
    search chooses the pieces of each digit itself, leaving out dots at a cost.
    """
    if wipe_dots:
        a = without_dots(a)
    top, bottom, left, right = ink_box(a)
    crop = a[top:bottom, left:right]
    if stroke is not None:
        crop = even_strokes(crop, stroke, work)
    patch = scale_to_box(crop)
    if patch.sum() <= 0:
        raise EmptyImageError("the image is empty: there is no digit to recognise")
    return centre_by_mass(patch).ravel()
