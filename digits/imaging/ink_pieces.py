"""The ink of a picture of a number (a photo of paper, a scan, a screenshot) cut into pieces.

    file --read_grey (shrunk while decoding)--> grey --ink_of_photo--> ink mask (ruled lines wiped)
         --components--> ink components, wide ones cut at valleys --> pieces for the search

Ink is found by local contrast, not by one global threshold: the paper's brightness is
estimated everywhere (a grey-level closing on a shrunken copy removes the thin ink and keeps
the light falling on the paper, then a blur), and a pixel is ink where it is darker than its
paper by a fraction of the paper's brightness well above the noise. Uneven light, paper
colour and ink colour then do not matter. The lines of ruled paper are wiped from the mask
(`without_ruled_lines`). The mask's strokes are evened out later, as the canvas's are, by
`digits.imaging.prepare`.

Touching digits make one component; a component wider than a digit is cut at the lowest
valleys of its ink profile (how much ink each column holds) and where its upper outline dips
deep, into more pieces than digits. Digits that overlap leave neither: what is still wider
than half a digit is cut where an outline pinches even a little (one digit's stroke meeting
the other's), then evenly every fifth of a digit height. Parting pieces at such a forced cut
costs the search more than at a valley; the search of `digits.imaging.segment` decides which
pieces are one digit (up to `recognise.IMAGE_PIECES` of them).
"""
from typing import NamedTuple

import numpy as np
from PIL import Image
from scipy import ndimage

from digits.errors import EmptyImageError
from digits.imaging import image_files, prepare

WORK_SIDE = 1280        # a photo is read with its longer side at most this many pixels
POLARITY_SIDE = 320     # which is darker, ink or paper, is decided on a copy this many pixels long
PAPER_SIDE = 96         # the paper's light is estimated on a copy this many pixels long,
PAPER_WINDOW = 7        # ...as the lightest level near each pixel: within this many pixels of that copy
CONTRAST = 0.12         # ink is at least this much darker than its paper, as a fraction of the paper
NOISE = 5.0             # ...and this many times the noise of the paper's grain
MAX_COMPONENTS = 40     # at most this many ink components are read (a number has far fewer)
SPECK = 0.12            # components smaller than this share of the tallest one are specks of dirt
CUT_WIDTH = 0.5         # components wider than this many digit heights are cut at valleys...
CUT_EVERY = 0.2         # ...into pieces at least this many digit heights wide (over-segmentation)
SLANTS = np.linspace(-0.6, 0.6, 13)   # the slants (shears) tried for cutting
VALLEY = 1.5            # ...at columns holding no more ink than this many stroke widths
DIP = 0.25              # ...or where the ink's upper outline dips this many digit heights
TOUCH = 0.35            # ...through no more ink than this many digit heights
FILL = 0.5              # a stretch still wider than this many digit heights (overlapping digits,
FILL_STEP = 0.2         # no valley) is cut every this many digit heights or less, at the column
FILL_NEAR = 0.06        # of least ink within this many digit heights of the even places,
FILL_COMPONENT = 0.8    # (only in components wider than this many digit heights: two digits at least,
FILL_MAX = 4.0          # and no wider than this many: a handful of digits overlapping, not a line)
FILL_BUDGET = 80        # at most about this many pieces made by forced cuts in one picture
PINCH = 0.05            # after the places where an outline pinches by this many digit heights
VALLEY_CUT = 0.8        # what reading two pieces of one piece of ink as two digits costs when
FORCED_CUT = 2.5       # they were parted at a valley or dip, and when the cut was forced (FILL)
LINE_THIN = 8           # ruled lines: runs of ink at most this many pixels high (at WORK_SIDE)...
LINE_GAP = 31           # ...joined along the row across gaps of this many pixels, are a line's stretches
LINE_SPAN = 0.03        # ...if they reach across this share of the picture's width...
LINE_LONG = 15          # ...and are this many times longer than thick; a faint line breaks into many
LINE_COVER = 0.5        # ...and the stretches in line with each other span this share of the width


class Pieces(NamedTuple):
    """The pieces of ink of a picture (see `components`)."""
    labels: np.ndarray      # (h, w) ints: 0 = no ink, piece i is label i + 1
    boxes: np.ndarray       # (n, 4) floats (x0, y0, x1, y1), end-exclusive, left to right
    joined: np.ndarray      # (n, n) bools: pieces cut from one component
    links: np.ndarray       # (n, n) floats: what parting two neighbouring pieces of one component costs
    forced: bool = False    # whether any piece was made by a forced cut (a digit may then be more pieces)


def ink_of_photo(source, name=None):
    """The ink mask of `source` (see `read_ink`)."""
    return read_ink(source, name)[0]


def read_ink(source, name=None):
    """(ink mask (h, w) bools at most WORK_SIDE long, scale: the picture's pixels per mask pixel)
    of `source`: an image file's path, a binary file object (called `name` in messages) or a
    Pillow image. Dark ink on light paper or light ink on dark (a canvas screenshot) alike.
    Raises ImageFileError when the file cannot be read, EmptyImageError when it holds no ink."""
    if isinstance(source, Image.Image):
        grey = source.convert("L")
        scale = max(1.0, max(grey.size) / WORK_SIDE)
        if scale > 1:
            grey = grey.resize((round(grey.size[0] / scale), round(grey.size[1] / scale)), Image.LANCZOS)
    else:
        grey = image_files.read_grey(source, name, max_side=WORK_SIDE, draft=True)
        scale = grey.info.get("scale", 1.0)
    a = np.asarray(grey, dtype=np.float32)
    if not ink_is_dark(a):
        a = 255 - a
    return without_ruled_lines(dark_ink_mask(a)), scale


def shrunk(a, side):
    """Grey array `a` (float32) shrunk by averaging so its longer side is `side` pixels."""
    h, w = a.shape
    factor = min(1.0, side / max(h, w))
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(a).resize(size, Image.BOX))


def ink_is_dark(a):
    """Whether the ink in grey array `a` is darker than its paper: more pixels stand out darker
    than their surroundings (a grey closing fills them) than lighter (an opening wipes them).
    The border's level, which `image_files.light_on_dark` goes by, misleads under uneven light."""
    small = shrunk(a, POLARITY_SIDE)
    darker = ndimage.grey_closing(small, size=(7, 7), mode="nearest") - small
    lighter = small - ndimage.grey_opening(small, size=(7, 7), mode="nearest")
    return np.count_nonzero(darker > image_files.MIN_CONTRAST) >= np.count_nonzero(lighter > image_files.MIN_CONTRAST)


def paper_light(a):
    """The paper's brightness under each pixel of grey array `a` (dark ink on light paper):
    a grey closing (maximum then minimum) on a PAPER_SIDE-long copy wipes out the ink, a blur
    smooths it, and it is scaled back up to `a`'s size. float32 (h, w)."""
    h, w = a.shape
    paper = ndimage.grey_closing(shrunk(a, PAPER_SIDE), size=(PAPER_WINDOW, PAPER_WINDOW), mode="nearest")
    paper = ndimage.uniform_filter(paper, size=5, mode="nearest")
    return np.asarray(Image.fromarray(paper.astype(np.float32)).resize((w, h), Image.BILINEAR))


def dark_ink_mask(a):
    """Where grey array `a` (dark ink on light paper, float32) holds ink: (h, w) bools."""
    paper = np.maximum(paper_light(a), 1.0)
    darkness = (paper - a) / paper
    grain = 1.4826 * np.median(np.abs(darkness - np.median(darkness)))    # the paper's noise (MAD)
    mask = darkness > max(CONTRAST, NOISE * grain)
    return ndimage.binary_opening(mask, structure=np.ones((2, 2))) if mask.sum() > 0 else mask


def without_ruled_lines(mask):
    """Ink mask `mask` (h, w bools) without the ruled lines of lined paper: a copy, or `mask`
    itself if it has none.

    The stretches of a line (between the digits written on it, and where a faint line breaks
    up at the threshold) are thin (runs of ink at most LINE_THIN high), long (LINE_SPAN of the
    picture's width, LINE_LONG times their thickness) and straight. Stretches in line with the
    longest one not yet placed are one line (a straight line fitted to them all by least
    squares) if together they span LINE_COVER of the picture's width, more than any stroke of a
    digit. Each line is followed across the whole picture, and the band it runs in is wiped, but
    where ink lies just above and just below the band: a stroke crossing the line. Without this,
    digits written on a line were read as one piece with it, and its stretches as digits.
    """
    h, w = mask.shape
    runs, n = ndimage.label(mask, structure=[[0, 1, 0], [0, 1, 0], [0, 1, 0]])   # vertical runs
    if n == 0:
        return mask
    length = np.bincount(runs.ravel())
    thin = mask & (length[runs] <= LINE_THIN)
    # Grown along the rows (and a row up and down: a turned line climbs) to join a line's pieces.
    labels, n = ndimage.label(ndimage.maximum_filter(thin.view(np.uint8), size=(3, LINE_GAP)),
                              structure=np.ones((3, 3)))
    stretches = []              # (xs, ys, thickness, width): each stretch's thin pixels
    for i, (rows, cols) in enumerate(ndimage.find_objects(labels)):
        width = cols.stop - cols.start
        if width < LINE_SPAN * w:
            continue
        ys, xs = np.nonzero((labels[rows, cols] == i + 1) & thin[rows, cols])
        columns = len(np.unique(xs))
        thick = len(ys) / max(columns, 1)
        if width >= LINE_LONG * thick and columns >= 0.2 * width:     # ink along it, not a few specks
            stretches.append((xs + cols.start, ys + rows.start, thick, width))
    stretches.sort(key=lambda s: -s[3])
    middles = np.array([(np.median(sx), np.median(sy)) for sx, sy, _, _ in stretches]).reshape(-1, 2)
    out, placed = mask, np.zeros(len(stretches), bool)
    x, y = np.arange(w), np.arange(h)[:, None]
    for k, (xs, ys, thick, _) in enumerate(stretches):
        if placed[k]:
            continue
        line = line_through(xs, ys, thick)
        for _ in range(2):              # gather the stretches in line, fit them all, gather again
            in_line = np.abs(np.polyval(line, middles[:, 0]) - middles[:, 1]) <= thick + 2
            near = [k] + [j for j in np.flatnonzero(in_line & ~placed) if j != k]
            line = line_through(np.concatenate([stretches[j][0] for j in near]),
                                np.concatenate([stretches[j][1] for j in near]), thick)
        span = max(stretches[j][0].max() for j in near) - min(stretches[j][0].min() for j in near)
        if span < LINE_COVER * w:
            continue
        placed[near] = True
        thick = np.median([stretches[j][2] for j in near])
        centre = np.polyval(line, x)
        lo, hi = np.floor(centre - thick / 2 - 1).astype(int), np.ceil(centre + thick / 2 + 1).astype(int)
        inside = (lo >= 2) & (hi <= h - 3)
        lo, hi = np.clip(lo, 0, h - 1), np.clip(hi, 0, h - 1)
        above = mask[np.clip(lo - 1, 0, h - 1), x] | mask[np.clip(lo - 2, 0, h - 1), x]
        below = mask[np.clip(hi + 1, 0, h - 1), x] | mask[np.clip(hi + 2, 0, h - 1), x]
        crossing = above & below & inside                                # a stroke crossing the line
        if out is mask:
            out = mask.copy()
        r0, r1 = lo.min(), hi.max() + 1                                  # the rows the line crosses
        out[r0:r1] &= ~((y[r0:r1] >= lo) & (y[r0:r1] <= hi) & ~crossing)
    return out


def line_through(xs, ys, thick):
    """(slope, offset) of the straight line through pixels (xs, ys) of a ruled line `thick`
    pixels thick, by least squares, fitted again to the pixels near it (not the strokes of a
    digit that touch it)."""
    line = np.polyfit(xs, ys, 1)
    near = np.abs(np.polyval(line, xs) - ys) <= thick + 1
    return np.polyfit(xs[near], ys[near], 1) if len(np.unique(xs[near])) >= 2 else line


def components(mask):
    """The pieces of ink in boolean `mask`, a `Pieces`. Specks are dropped, components wider
    than a digit cut at valleys (and, where digits overlap, at forced cuts); parting two
    neighbouring pieces of one component costs VALLEY_CUT or FORCED_CUT. Raises
    EmptyImageError without ink."""
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n == 0:
        raise EmptyImageError("the image is empty: there is no number to read")
    slices = ndimage.find_objects(labels)
    sides = np.array([max(s[0].stop - s[0].start, s[1].stop - s[1].start) for s in slices])
    heights = np.array([s[0].stop - s[0].start for s in slices])
    keep = [i for i in range(n) if sides[i] >= SPECK * sides.max()]
    keep = sorted(keep, key=lambda i: -sides[i])[:MAX_COMPONENTS]     # a page of text: its largest marks
    height = np.median([heights[i] for i in keep if heights[i] >= 0.5 * heights[keep].max()])
    out = np.zeros_like(labels)
    count, family, parting, shear = 0, [], [], slant(mask)
    # Forced cuts make about one piece every FILL_STEP digit heights of the components wide
    # enough for them: a picture that would need more than FILL_BUDGET such pieces (a page of
    # words) is no number whose digits overlap, and gets none (its reading stays quick).
    widths = np.array([slices[i][1].stop - slices[i][1].start for i in keep]) / height
    fill = np.sum(widths[(widths > FILL_COMPONENT) & (widths <= FILL_MAX)]) / FILL_STEP <= FILL_BUDGET
    for i in sorted(keep, key=lambda i: slices[i][1].start):
        rows, cols = slices[i]
        own = labels[rows, cols] == i + 1
        pieces, costs = cut_at_valleys(own, height, shear, fill)
        for k, piece in enumerate(pieces):
            count += 1
            out[rows, cols][piece] = count
            family.append(i)
            if k:
                parting.append((count - 2, count - 1, costs[k - 1]))
    boxes = np.array([[s[1].start, s[0].start, s[1].stop, s[0].stop] for s in ndimage.find_objects(out)],
                     dtype=np.float64).reshape(-1, 4)
    family = np.array(family)
    links = np.zeros((count, count))
    for a, b, cost in parting:
        links[a, b] = links[b, a] = cost
    return Pieces(out, boxes, family[:, None] == family[None, :], links, bool(np.any(links == FORCED_CUT)))


def slant(mask):
    """The number's slant: the shear s (x' = x - s * y) that makes its strokes most upright, the one under which the columns' ink is most
    concentrated (the sum of squared column counts is largest), among SLANTS."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return 0.0
    ys = ys - ys.mean()

    def sharpness(s):
        columns = np.round(xs - s * ys).astype(int)
        return np.square(np.bincount(columns - columns.min()).astype(np.float64)).sum()
    return max(SLANTS, key=sharpness)


def cut_at_valleys(own, height, shear=0.0, fill=True):
    """A component's mask `own` (h, w) cut into pieces: (list of masks of the same shape, left to
    right; list of what parting each two neighbours costs). Itself, or, when wider than
    CUT_WIDTH digit heights, cut along lines slanted as the number is (`shear`, see `slant`)
    at its valleys: places crossed by no more ink than VALLEY stroke widths, with at least a
    stroke width more ink on both sides within a third of a digit height; the deepest first,
    at least CUT_EVERY digit heights apart; then at dips of its upper outline. Digits that
    overlap leave no valley: a stretch still wider than FILL digit heights is cut evenly, every
    FILL_STEP digit heights or less (at the least inked column near each place). The search
    puts the right pieces back together. `fill`: False for no forced cut."""
    h, w = own.shape
    if w <= CUT_WIDTH * height:
        return [own], []
    ys, xs = np.nonzero(own)
    upright = np.round(xs - shear * (ys - h / 2)).astype(int)
    upright -= upright.min()
    profile = ndimage.uniform_filter1d(np.bincount(upright).astype(np.float64), size=3)
    stroke = prepare.stroke_width(own)
    reach = 2 * max(int(height / 6), 1) + 1       # odd, as the filters' origins need
    # The most ink in profile[c - reach + 1 .. c] and in profile[c .. c + reach - 1]:
    left = ndimage.maximum_filter1d(profile, size=reach, origin=reach // 2, mode="constant")
    right = ndimage.maximum_filter1d(profile, size=reach, origin=-(reach // 2), mode="constant")
    valleys = np.flatnonzero((profile <= VALLEY * stroke) & (np.minimum(left, right) >= profile + stroke))
    # Where the ink's upper outline dips deep between two digits that touch (two 0s side by
    # side), even though the column holds much ink: cut there too, after the valleys.
    top = np.full(len(profile), float(h))
    np.minimum.at(top, upright, ys.astype(np.float64))
    high_left = ndimage.minimum_filter1d(top, size=reach, origin=reach // 2, mode="constant", cval=h)
    high_right = ndimage.minimum_filter1d(top, size=reach, origin=-(reach // 2), mode="constant", cval=h)
    dips = np.flatnonzero((top - np.maximum(high_left, high_right) >= DIP * height) & (profile <= TOUCH * height))
    step = max(int(CUT_EVERY * height), 2)
    cuts = []
    ranked = sorted(valleys, key=lambda c: (profile[c], c)) + sorted(dips, key=lambda c: (-top[c], c))
    for c in ranked:
        if all(abs(c - d) >= step for d in cuts):
            cuts.append(int(c))
    found = set(cuts)
    # Narrower: it may well be one wide digit. Wider than FILL_MAX: a line or a scribble, no
    # run of overlapping digits; forced cuts there would only make hundreds of pieces to read.
    if fill and FILL_COMPONENT * height < len(profile) <= FILL_MAX * height:
        # Where digits overlap, their outlines still pinch where one meets the other, if
        # shallowly: the upper outline dips, or the lower one rises. Such places come first.
        bottom = np.full(len(profile), -1.0)
        np.maximum.at(bottom, upright, ys.astype(np.float64))
        low_left = ndimage.maximum_filter1d(bottom, size=reach, origin=reach // 2, mode="constant", cval=-1)
        low_right = ndimage.maximum_filter1d(bottom, size=reach, origin=-(reach // 2), mode="constant", cval=-1)
        pinch = np.maximum(top - np.maximum(high_left, high_right), np.minimum(low_left, low_right) - bottom)
        cuts += fill_cuts(profile, sorted(cuts), height, pinch)
    pieces, costs = [], []
    for lo, hi in zip([0] + sorted(cuts), sorted(cuts) + [len(profile)]):
        inside = (upright >= lo) & (upright < hi)
        if inside.any():
            piece = np.zeros_like(own)
            piece[ys[inside], xs[inside]] = True
            if pieces:
                costs.append(VALLEY_CUT if lo in found else FORCED_CUT)
            pieces.append(piece)
    return pieces, costs


def fill_cuts(profile, cuts, height, pinch):
    """More cuts where the stretches between `cuts` (sorted columns of `profile`, a component's
    ink per column) are wider than FILL digit heights: first where the outlines pinch
    (`pinch`, per column, at least PINCH digit heights; the deepest first), then evenly, at most
    FILL_STEP digit heights apart, each at the least inked column within FILL_NEAR digit
    heights of its even place."""
    more, near, step = [], max(int(FILL_NEAR * height), 1), max(int(FILL_STEP * height), 2)
    for lo, hi in zip([0] + cuts, cuts + [len(profile)]):
        if hi - lo <= FILL * height:
            continue
        inside = [c for c in range(lo + step // 2, hi - step // 2) if pinch[c] >= PINCH * height]
        placed = []
        for c in sorted(inside, key=lambda c: (-pinch[c], c)):
            if all(abs(c - d) >= step for d in placed):
                placed.append(c)
        bounds = [lo] + sorted(placed) + [hi]
        for a, b in zip(bounds[:-1], bounds[1:]):
            parts = int(np.ceil((b - a) / (FILL_STEP * height)))
            for j in range(1, parts):
                place = a + round(j * (b - a) / parts)
                window = np.arange(max(a + 1, place - near), min(b - 1, place + near) + 1)
                if len(window):
                    placed.append(int(window[np.lexsort((np.abs(window - place), profile[window]))[0]]))
        more += placed
    return more
