"""Distortions of training images, all in one place, with one set of limits.

Two uses, one model of how drawn digits differ from MNIST's (rotated, slanted, narrower or
wider, larger or smaller, off-centre, a thicker or thinner pen):

* on the fly, per batch (`distort_batch`, `random_distortions` + `warp`): each image of a
  minibatch rotated, scaled and shifted at random, bilinear, vectorised over the batch (the
  minibatch trainer, digits/nets/minibatch.py);
* copies made once (`augment`, `variant`): rotated, slanted and stretched, then prepared as a
  drawing is, strokes redrawn at a random width (the MLP's `--augment`);
* pen-written digits drawn as the apps draw them (`pen_training_images`).

People drawing with a mouse or pen slant and rotate their digits, make them narrow or
wide, and use a pen that is thick or thin for the digit's size. Each copy of an MNIST
image gets a random rotation, shear and stretch, and is then prepared exactly as a
drawing is (`prepare.prepare_array`: crop, even strokes of a random width, scale to 20
pixels, centre by mass), so the network trains on what it will be shown.
"""
import numpy as np
from scipy import ndimage

from digits.constants import PIXEL_MAX, PIXELS, SIDE
from digits.errors import EmptyImageError
from digits.imaging.prepare import prepare_array, prepare_image
from digits.imaging.strokes import fit_to_canvas, render

# The limits, for every distortion here:
MAX_ROTATION = np.radians(12)   # rotation: up to +-12 degrees
MAX_SCALE = 0.10                # per batch: size changed by up to +-10 % (each axis separately)
MAX_SHIFT = 2.0                 # per batch: shifted by up to +-2 pixels in each direction
MAX_SHEAR = 0.3                 # copies: slant
STRETCH = (0.75, 1.25)          # copies: independent x and y scale, narrow and wide digits
STROKES = (0.09, 0.18)          # copies: stroke width / digit size, around MNIST's 0.13
WORK = 84                       # copies: redrawing size for even strokes, enough for 28-pixel sources
PEN_SHEAR = 0.25                # pen strokes: slant, and independent x and y scale (a little less than
PEN_STRETCH = (0.8, 1.2)        #   the copies': the pretrained networks were trained with these)


def distort_batch(X, rng, max_rotation=MAX_ROTATION, max_scale=MAX_SCALE, max_shift=MAX_SHIFT):
    """Each image of X (B, 784) rotated, scaled and shifted at random about its centre.

    Bilinear interpolation, zeros outside the image; the whole batch in a few array operations
    (four gathers of B*784 values). Returns float32 (B, 784).
    """
    return warp(X, random_distortions(rng, np.shape(X)[0], max_rotation, max_scale, max_shift))


def random_distortions(rng, n, max_rotation=MAX_ROTATION, max_scale=MAX_SCALE, max_shift=MAX_SHIFT):
    """(n, 5) random distortions, one row per image: angle, y scale, x scale, y shift, x shift."""
    angle = rng.uniform(-max_rotation, max_rotation, n)
    sy, sx = rng.uniform(1 - max_scale, 1 + max_scale, (2, n))
    dy, dx = rng.uniform(-max_shift, max_shift, (2, n))
    return np.stack([angle, sy, sx, dy, dx], axis=1)


def warp(X, distortions, shift=None):
    """Images X (B, 784) warped by `distortions` (B, 5) (see random_distortions): float32 (B, 784).
    shift: None, or (B, 2, 784) displacements (rows, columns) added to each output pixel's
    source point after the affine map (an elastic field: digits.nets.elastic)."""
    X = np.asarray(X, dtype=np.float32)
    B = X.shape[0]
    angle, sy, sx, dy, dx = np.asarray(distortions, dtype=np.float64).T
    # Inverse map, output pixel -> source point: unshift, unrotate, unscale (about the centre).
    cos, sin = np.cos(angle), np.sin(angle)
    centre = (SIDE - 1) / 2
    r = np.arange(SIDE, dtype=np.float32) - centre
    rr, cc = np.repeat(r, SIDE), np.tile(r, SIDE)                  # (784,) each
    ry = rr[None, :] - dy[:, None].astype(np.float32)              # (B, 784)
    cx = cc[None, :] - dx[:, None].astype(np.float32)
    src_r = ((cos / sy)[:, None].astype(np.float32) * ry + (sin / sy)[:, None].astype(np.float32) * cx) + centre
    src_c = ((-sin / sx)[:, None].astype(np.float32) * ry + (cos / sx)[:, None].astype(np.float32) * cx) + centre
    if shift is not None:
        src_r += shift[:, 0]
        src_c += shift[:, 1]
    # A 2-pixel zero border: every clipped point then reads zeros, every inside point 4 pixels.
    P, S = 2, SIDE + 4
    np.clip(src_r, -P, SIDE + P - 1.001, out=src_r)
    np.clip(src_c, -P, SIDE + P - 1.001, out=src_c)
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = src_r - r0, src_c - c0
    index = (r0.astype(np.intp) + P) * S + (c0.astype(np.intp) + P)
    index += (np.arange(B) * (S * S))[:, None]
    padded = np.zeros((B, S, S), dtype=np.float32)
    padded[:, P:P + SIDE, P:P + SIDE] = X.reshape(B, SIDE, SIDE)
    flat = padded.reshape(-1)
    top = flat[index] * (1 - fc) + flat[index + 1] * fc
    bottom = flat[index + S] * (1 - fc) + flat[index + S + 1] * fc
    return (top * (1 - fr) + bottom * fr).astype(np.float32, copy=False)


def distort_image(image, rng):
    """One random rotation + shear + stretch of a 28x28 float image about its centre."""
    angle = rng.uniform(-MAX_ROTATION, MAX_ROTATION)
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR)
    sy, sx = rng.uniform(*STRETCH, size=2)
    c, s = np.cos(angle), np.sin(angle)
    # Forward map in (row, col): rotate, then shear columns by rows, then stretch.
    forward = np.diag([sy, sx]) @ np.array([[1, 0], [shear, 1]]) @ np.array([[c, -s], [s, c]])
    inverse = np.linalg.inv(forward)
    # Output is larger than 28x28 so that nothing is cut off; prepare() crops to the ink anyway.
    out = 2 * SIDE
    centre_in, centre_out = np.array([SIDE / 2, SIDE / 2]), np.array([out / 2, out / 2])
    offset = centre_in - inverse @ centre_out
    return ndimage.affine_transform(image, inverse, offset=offset, output_shape=(out, out), order=1)


def augment(images, labels, copies, rng):
    """The images followed by `copies` distorted versions of each, and their labels.

    images: uint8 (m, 784) MNIST-style pixels 0..255; labels: (m,); copies: whole number >= 0;
    rng: a numpy Generator. Returns (uint8 (m * (1 + copies), 784), labels of the same length):
    the m originals unchanged first, then copy 1 of every image, then copy 2, ... .
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != SIDE * SIDE:
        raise ValueError(f"images have shape {images.shape}, expected (m, {SIDE * SIDE})")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"{images.shape[0]} images but labels have shape {labels.shape}")
    if copies < 0 or int(copies) != copies:
        raise ValueError(f"copies must be a whole number >= 0, got {copies}")
    m = images.shape[0]
    out = np.empty((m * (1 + int(copies)), SIDE * SIDE), dtype=np.uint8)
    out[:m] = images
    for k in range(int(copies)):
        for i in range(m):
            out[(k + 1) * m + i] = variant(images[i], rng)
    return out, np.tile(labels, 1 + int(copies))


def variant(pixels, rng):
    """One distorted, drawing-style copy of a uint8 784-pixel image (the original if it fails)."""
    image = pixels.reshape(SIDE, SIDE).astype(np.float64) / PIXEL_MAX
    try:
        x = prepare_array(distort_image(image, rng), stroke=rng.uniform(*STROKES), work=WORK)
    except EmptyImageError:     # a blank or dot-sized source image: keep it as it is
        return pixels
    return np.round(x * 255).astype(np.uint8)


def pen_training_images(digits, copies, rng, width=350, height=290, brushes=(8, 30), elastic=0.0):
    """Pen digits as network inputs, `copies` random drawings of each: (uint8 (n, 784), labels (n,)).

    Each copy is distorted (`distort_strokes`, then `elastic_strokes` if `elastic` > 0), placed at
    a random size (20-90 % of the canvas height) and drawn with a random brush, then prepared by
    `prepare_image` as the app prepares a drawing. Train only on writers you do not measure on:
    the benchmark's figures are otherwise worthless.
    """
    labels = [d.label for _ in range(copies) for d in digits]

    def distorted(strokes):
        strokes = distort_strokes(strokes, rng)
        return elastic_strokes(strokes, rng, elastic) if elastic > 0 else strokes

    return drawn_inputs((distorted(d.strokes) for _ in range(copies) for d in digits), rng,   # drawn as made
                        width, height, brushes, labels)


DRAWN_BLOCK = 4096              # drawn_inputs: rows per block of its result when their number is not known


def drawn_inputs(strokes, rng, width=350, height=290, brushes=(8, 30), labels=None):
    """Drawings (an iterable, each a list of strokes in tablet coordinates, y up) placed at a random size (20-90 %
    of the canvas height) and place, drawn with a random brush and prepared as the app prepares a
    drawing: uint8 (n, 784), leaving out any the app would refuse (a dot); with `labels`, also
    the labels of those kept."""
    # Each drawing is written into a block of rows as it is made. (Kept as one small array each,
    # between the large canvases freed every time, they left the heap so fragmented that memory
    # grew by 5 KB per 784-byte drawing: 600 MB for 16 drawings of each pen digit.)
    blocks, kept, filled = [np.empty((len(labels) if labels is not None else DRAWN_BLOCK, PIXELS), np.uint8)], [], 0
    for i, s in enumerate(strokes):
        placed = fit_to_canvas(s, width, height, rng, size_range=(0.2, 0.9))
        try:
            x = prepare_image(render(placed, width, height, int(rng.integers(*brushes))))
        except EmptyImageError:
            continue
        if filled == len(blocks[-1]):
            blocks.append(np.empty((DRAWN_BLOCK, PIXELS), np.uint8))
            filled = 0
        blocks[-1][filled] = np.round(x.reshape(-1) * 255)
        filled += 1
        kept.append(i)
    blocks[-1] = blocks[-1][:filled]
    # With labels the one block was sized for every drawing; otherwise copy, so that a few drawings
    # do not hold a whole block of DRAWN_BLOCK rows alive
    X = blocks[0] if labels is not None and len(blocks) == 1 else np.concatenate(blocks)
    return X if labels is None else (X, np.array(labels, dtype=np.int64)[kept])


def distort_strokes(strokes, rng, max_rotation=MAX_ROTATION, max_shear=PEN_SHEAR, stretch=PEN_STRETCH):
    """The strokes rotated, slanted and stretched at random about their centre (tablet coordinates)."""
    angle = rng.uniform(-max_rotation, max_rotation)
    c, s = np.cos(angle), np.sin(angle)
    matrix = np.diag(rng.uniform(*stretch, size=2)) @ np.array([[1, rng.uniform(-max_shear, max_shear)], [0, 1]]) \
        @ np.array([[c, -s], [s, c]])
    centre = np.concatenate(strokes).mean(axis=0)
    return [(p - centre) @ matrix.T + centre for p in strokes]


ELASTIC_GRID = 4                # pen strokes, elastic: a 4x4 grid of random displacements over the digit


def elastic_strokes(strokes, rng, amount):
    """The strokes bent by a smooth random field, and moved a little apart from each other.

    The pen-trajectory form of Simard, Steinkraus and Platt's elastic distortion (2003): a
    displacement is drawn for each point of an ELASTIC_GRID x ELASTIC_GRID grid over the digit's
    box, normal with standard deviation `amount` x the digit's size, and every pen point moves by
    the bilinear blend of its four grid neighbours' displacements, so curves bend, loops open or
    close, tails lengthen. Each stroke is then shifted as a whole by half that amount (where the
    strokes of a 4, 5 or 7 meet differs between writers). Tablet coordinates in and out.
    """
    points = np.concatenate(strokes)
    lo, hi = points.min(axis=0), points.max(axis=0)
    size = max(float(np.max(hi - lo)), 1.0)
    field = rng.normal(0.0, amount * size, (ELASTIC_GRID, ELASTIC_GRID, 2))
    shifts = rng.normal(0.0, 0.5 * amount * size, (len(strokes), 2))
    cells = ELASTIC_GRID - 1
    bent = []
    for stroke, shift in zip(strokes, shifts):
        u = (stroke - lo) / np.maximum(hi - lo, 1.0) * cells          # grid coordinates, 0..cells
        i = np.clip(np.floor(u).astype(int), 0, cells - 1)
        f = u - i
        fx, fy = f[:, :1], f[:, 1:]
        d = (field[i[:, 0], i[:, 1]] * (1 - fx) * (1 - fy) + field[i[:, 0] + 1, i[:, 1]] * fx * (1 - fy)
             + field[i[:, 0], i[:, 1] + 1] * (1 - fx) * fy + field[i[:, 0] + 1, i[:, 1] + 1] * fx * fy)
        bent.append(stroke + d + shift)
    return bent
