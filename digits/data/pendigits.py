"""Real pen-written digits (UCI pendigits, UNIPEN format) and replaying them as drawings.

The file `pendigits-orig.tra` holds 7,494 digits from 30 writers, each a list of strokes
sampled from a tablet: integer (x, y) points in a 500x500 box with y growing upwards.
`load` reads them; `fit_to_canvas` puts one at a random place and size on a canvas
(y growing downwards, as on screen); `replay` draws it through a DigitApp's own mouse
handlers with real Tk events, the way a person's mouse would. `training_images` makes
network inputs of pen digits for training (writers 1-15 for the shipped weights, so that
writers 16-30 stay a fair test).
"""
import os
from dataclasses import dataclass

import numpy as np

REPO = os.path.dirname(os.path.abspath(__file__))
FILENAME = "pendigits-orig.tra"


class PendigitsError(Exception):
    """The pendigits file is missing or not in the expected format."""


@dataclass
class PenDigit:
    label: int
    writer: int
    strokes: list          # of (n, 2) float arrays of tablet (x, y), y upwards


def default_dir():
    """$PENDIGITS_DIR, else ../shared/pendigits beside the repository."""
    return os.environ.get("PENDIGITS_DIR") or os.path.join(REPO, "..", "shared", "pendigits")


def load(path=None):
    """All digits of `pendigits-orig.tra` (a file, or the directory holding it), in file order."""
    path = path or default_dir()
    if os.path.isdir(path):
        path = os.path.join(path, FILENAME)
    if not os.path.isfile(path):
        raise PendigitsError(f"{path} not found; set PENDIGITS_DIR to the folder holding {FILENAME}")
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


def fit_to_canvas(strokes, width, height, rng, size_range=(0.45, 0.8), margin=12):
    """Strokes scaled and moved onto a width x height canvas (y downwards), at random.

    The digit's height becomes a random fraction `size_range` of the canvas height (less if
    it would then be too wide) and its place is random, `margin` pixels clear of the edges.
    """
    allpts = np.concatenate(strokes)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    extent = np.maximum(hi - lo, 1.0)
    scale = rng.uniform(*size_range) * height / extent[1]
    scale = min(scale, (width - 2 * margin) / extent[0], (height - 2 * margin) / extent[1])
    size = extent * scale
    x0 = rng.uniform(margin, max(margin, width - margin - size[0]))    # max(): float rounding
    y0 = rng.uniform(margin, max(margin, height - margin - size[1]))
    placed = []
    for s in strokes:
        x = x0 + (s[:, 0] - lo[0]) * scale
        y = y0 + (hi[1] - s[:, 1]) * scale          # flip: tablet y grows upwards
        placed.append(np.round(np.column_stack((x, y))).astype(int))
    return placed


def replay(app, strokes, update=False):
    """Draw `strokes` (canvas pixels) on `app.canvas` with real press, motion and release events.

    Tk delivers event_generate events synchronously to the bound handlers; `update` also
    redraws the window after each stroke (for watching it, or a screenshot).
    """
    canvas = app.canvas
    for s in strokes:
        x, y = s[0]
        canvas.event_generate("<Button-1>", x=x, y=y)
        for x, y in s[1:]:
            canvas.event_generate("<B1-Motion>", x=x, y=y, state=0x100)   # Button1Mask held
        canvas.event_generate("<ButtonRelease-1>", x=x, y=y, state=0x100)
        if update:
            canvas.update()


def distort(strokes, rng, max_rotation=np.radians(12), max_shear=0.25, stretch=(0.8, 1.2)):
    """The strokes rotated, slanted and stretched at random about their centre (tablet coordinates)."""
    angle = rng.uniform(-max_rotation, max_rotation)
    c, s = np.cos(angle), np.sin(angle)
    matrix = np.diag(rng.uniform(*stretch, size=2)) @ np.array([[1, rng.uniform(-max_shear, max_shear)], [0, 1]]) \
        @ np.array([[c, -s], [s, c]])
    centre = np.concatenate(strokes).mean(axis=0)
    return [(p - centre) @ matrix.T + centre for p in strokes]


def render(strokes, width, height, brush):
    """A Pillow image of `strokes` (canvas pixels) drawn exactly as the app draws into its image."""
    from PIL import Image, ImageDraw
    from gui import draw_segment
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    for s in strokes:
        draw_segment(draw, *s[0], *s[0], brush)
        for (x0, y0), (x1, y1) in zip(s[:-1], s[1:]):
            draw_segment(draw, x0, y0, x1, y1, brush)
    return image


def training_images(digits, copies, rng, width=350, height=290, brushes=(8, 30)):
    """Pen digits as network inputs, `copies` random drawings of each: (uint8 (n, 784), labels (n,)).

    Each copy is distorted (`distort`), placed at a random size (20-90 % of the canvas height)
    and drawn with a random brush, then prepared by `preprocess` as the app prepares a drawing.
    Train only on writers you do not measure on: the benchmark's figures are otherwise worthless.
    """
    from preprocess import EmptyImageError, preprocess
    images, labels = [], []
    for _ in range(copies):
        for d in digits:
            strokes = fit_to_canvas(distort(d.strokes, rng), width, height, rng, size_range=(0.2, 0.9))
            try:
                x = preprocess(render(strokes, width, height, int(rng.integers(*brushes))))
            except EmptyImageError:
                continue
            images.append(np.round(x * 255).astype(np.uint8))
            labels.append(d.label)
    return np.array(images).reshape(-1, 784), np.array(labels, dtype=np.int64)
