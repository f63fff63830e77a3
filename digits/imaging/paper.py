"""Photos of a number written on paper, rendered from its strokes (for tests and benchmarks).

`photograph(strokes, width, height, rng, size)` draws the strokes of a canvas as ballpoint ink
on paper and photographs it the way a phone does: paper of some colour, light falling
unevenly (a gradient and a darker corner), blue or black ink of a thin pen, a slight blur,
sensor noise, the page turned a few degrees, JPEG compression, and, with ruled=True, the light
blue lines of ruled paper the digits are written on. Returns the JPEG file's bytes.
"""
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

PAPERS = [(240, 238, 232), (250, 250, 250), (238, 228, 190), (214, 226, 236), (225, 225, 225)]
INKS = [(25, 45, 150), (30, 30, 35), (20, 30, 110)]
LINE_BLUE = np.array([150, 180, 225], dtype=np.float32)    # the light blue of ruled paper's lines


def ink_mask(strokes, width, height, size, rng):
    """The strokes drawn as a thin pen's ink, 'L' mode at photo `size`, the canvas filling
    60-90 % of the photo's width at a random place; the pen 4-8 % of the canvas height thick."""
    scale = rng.uniform(0.6, 0.9) * size[0] / width
    scale = min(scale, 0.9 * size[1] / height)
    offset = (rng.uniform(0, size[0] - width * scale), rng.uniform(0, size[1] - height * scale))
    pen = max(1, int(round(rng.uniform(0.025, 0.05) * height * scale)))
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for s in strokes:
        points = [(x * scale + offset[0], y * scale + offset[1]) for x, y in np.asarray(s, dtype=float)]
        if len(points) > 1:
            draw.line(points, fill=255, width=pen, joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255)
    return mask


def lighting(size, rng):
    """(h, w) factors in (0, 1]: a gradient across the page and a darker corner."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * x / w + np.sin(angle) * y / h)
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
    corner = np.hypot(x / w - rng.integers(2), y / h - rng.integers(2))
    light = 1 - rng.uniform(0.15, 0.4) * ramp - rng.uniform(0.0, 0.25) * np.exp(-3 * corner)
    return np.clip(light, 0.3, 1)


def ruled_lines(ink, rng):
    """'L' mode lines of ruled paper at the size of `ink` (an `ink_mask`, not yet turned): across
    the whole page, 0.6-1.2 of the digits' height apart, one near the digits' foot (written on
    the line), 1-3 pixels thick at 1600 pixels wide."""
    lines = Image.new("L", ink.size, 0)
    rows = np.flatnonzero(np.asarray(ink).any(axis=1))
    height = rows[-1] - rows[0] + 1 if rows.size else ink.size[1] / 8
    foot = (rows[-1] if rows.size else ink.size[1] / 2) + rng.uniform(-0.1, 0.1) * height
    gap = rng.uniform(0.6, 1.2) * height
    thick = max(1, int(round(rng.uniform(1, 3) * ink.size[0] / 1600)))
    draw = ImageDraw.Draw(lines)
    for y in foot + gap * np.arange(-int(foot // gap) - 1, int((ink.size[1] - foot) // gap) + 2):
        draw.line([(0, y), (ink.size[0], y)], fill=255, width=thick)
    return lines


def photograph(strokes, width, height, rng, size=(1600, 1200), quality=None, ruled=False):
    """JPEG bytes of a photo of `strokes` (canvas pixels of a width x height canvas) on paper;
    `ruled`: on ruled paper, light blue lines (`ruled_lines`) the digits are written on."""
    mask = ink_mask(strokes, width, height, size, rng)
    lines = ruled_lines(mask, rng) if ruled else None
    turn = rng.uniform(-4, 4)
    mask = mask.rotate(turn, resample=Image.BILINEAR)
    alpha = np.asarray(mask.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.4) * size[0] / 1600)),
                       dtype=np.float32)[..., None] / 255 * rng.uniform(0.75, 1.0)
    paper = np.array(PAPERS[rng.integers(len(PAPERS))], dtype=np.float32)
    ink = np.array(INKS[rng.integers(len(INKS))], dtype=np.float32)
    if ruled:
        lines = np.asarray(lines.rotate(turn, resample=Image.BILINEAR).filter(ImageFilter.GaussianBlur(1.0)),
                           dtype=np.float32)[..., None] / 255 * rng.uniform(0.4, 0.8)
        paper = paper * (1 - lines) + LINE_BLUE * lines
    picture = (paper * (1 - alpha) + ink * alpha) * lighting(size, rng)[..., None]
    picture += rng.normal(0, rng.uniform(2, 6), size=picture.shape[:2])[..., None].astype(np.float32)
    out = io.BytesIO()
    Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(
        out, "JPEG", quality=int(quality or rng.integers(60, 92)))
    return out.getvalue()
