"""Extra training images: MNIST digits distorted the ways drawn digits differ from them, and
pen-written digits drawn as the apps draw them.

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
from digits.imaging.strokes import distort_strokes, fit_to_canvas, render

MAX_ROTATION = np.radians(15)   # pen digits lean by up to about this much
MAX_SHEAR = 0.3                 # slant
STRETCH = (0.75, 1.25)          # independent x and y scale: narrow and wide digits
STROKES = (0.09, 0.18)          # stroke width / digit size, around MNIST's 0.13
WORK = 84                       # redrawing size for even strokes: enough for 28-pixel sources


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


def pen_training_images(digits, copies, rng, width=350, height=290, brushes=(8, 30)):
    """Pen digits as network inputs, `copies` random drawings of each: (uint8 (n, 784), labels (n,)).

    Each copy is distorted (`distort_strokes`), placed at a random size (20-90 % of the canvas height)
    and drawn with a random brush, then prepared by `prepare_image` as the app prepares a drawing.
    Train only on writers you do not measure on: the benchmark's figures are otherwise worthless.
    """
    images, labels = [], []
    for _ in range(copies):
        for d in digits:
            strokes = fit_to_canvas(distort_strokes(d.strokes, rng), width, height, rng, size_range=(0.2, 0.9))
            try:
                x = prepare_image(render(strokes, width, height, int(rng.integers(*brushes))))
            except EmptyImageError:
                continue
            images.append(np.round(x * 255).astype(np.uint8))
            labels.append(d.label)
    return np.array(images).reshape(-1, PIXELS), np.array(labels, dtype=np.int64)
