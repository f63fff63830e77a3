"""Strokes (lists of points) drawn into a Pillow image exactly as the drawing apps draw them.

The desktop app, the web page's server and the pen-digit training data all draw strokes
with `draw_segment` / `render`, so a drawing reads the same wherever it was made.
"""
import numpy as np
from PIL import Image, ImageDraw

BRUSH = 16                                  # the apps' stroke width in canvas pixels
CANVAS_WIDTH, CANVAS_HEIGHT = 350, 290      # the reference's canvas


def draw_segment(draw, x0, y0, x1, y1, width=BRUSH):
    """Draw a round-ended line of `width` into a Pillow ImageDraw, as Tk draws it on screen."""
    r = width / 2
    if (x0, y0) != (x1, y1):
        draw.line((x0, y0, x1, y1), fill=255, width=width)
    # Round caps at both ends give the round joins a pen leaves between segments.
    draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=255)
    draw.ellipse((x1 - r, y1 - r, x1 + r, y1 + r), fill=255)


def render(strokes, width=CANVAS_WIDTH, height=CANVAS_HEIGHT, brush=BRUSH):
    """A Pillow image (mode L, white ink on black) of `strokes`, each a sequence of (x, y)
    canvas pixels, drawn segment by segment as the app draws them while the mouse moves."""
    image = Image.new("L", (int(width), int(height)), 0)
    draw = ImageDraw.Draw(image)
    for s in strokes:
        draw_segment(draw, *s[0], *s[0], brush)
        for (x0, y0), (x1, y1) in zip(s[:-1], s[1:]):
            draw_segment(draw, x0, y0, x1, y1, brush)
    return image


def segments_cross(a, b):
    """Whether polyline `a` ((n, 2) points) crosses polyline `b` ((m, 2)): some segment of
    one properly intersects some segment of the other."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 2), np.asarray(b, dtype=np.float64).reshape(-1, 2)
    if len(a) < 2 or len(b) < 2:
        return False
    p, r = a[:-1, None, :], (a[1:] - a[:-1])[:, None, :]          # (n-1, 1, 2)
    q, s = b[None, :-1, :], (b[1:] - b[:-1])[None, :, :]          # (1, m-1, 2)

    def cross(u, v):
        return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    denominator = cross(r, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = cross(q - p, s) / denominator
        u = cross(q - p, r) / denominator
    return bool(np.any((denominator != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)))


def part_box(strokes, width, height, brush=BRUSH):
    """The whole-pixel box (x0, y0, x1, y1), end-exclusive, holding `strokes` as drawn with
    `brush` on a width x height canvas, with a pixel to spare, clipped to the canvas."""
    points = np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes])
    lo = np.floor(points.min(axis=0) - brush / 2 - 2).astype(int)
    hi = np.ceil(points.max(axis=0) + brush / 2 + 2).astype(int)
    return max(lo[0], 0), max(lo[1], 0), min(hi[0], int(width)), min(hi[1], int(height))


def render_part(strokes, width=CANVAS_WIDTH, height=CANVAS_HEIGHT, brush=BRUSH):
    """The part of `render(strokes, width, height, brush)` that holds the ink, drawn alone
    (much faster than the whole canvas when the strokes are one digit of a number). The ink's
    pixels are the same as the whole canvas's: the strokes are moved by whole pixels only."""
    x0, y0, x1, y1 = part_box(strokes, width, height, brush)
    moved = [np.asarray(s, dtype=np.float64).reshape(-1, 2) - (x0, y0) for s in strokes]
    return render([[tuple(p) for p in s] for s in moved], max(x1 - x0, 1), max(y1 - y0, 1), brush)


def fit_to_canvas(strokes, width, height, rng, size_range=(0.45, 0.8), margin=12):
    """Strokes in tablet coordinates (y upwards) scaled and moved onto a width x height canvas
    (y downwards), at random: the digit's height becomes a random fraction `size_range` of the
    canvas height (less if it would then be too wide), its place random, `margin` pixels clear
    of the edges. Returns integer (n, 2) arrays of canvas pixels."""
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
