"""Reading a picture of a digit from an image file, ready for the network.

A file may hold a scan or photo (dark ink on light paper) or a screenshot of the drawing
canvas (light ink on dark), in any size and colour. `load_digit(path)` makes it look like
the canvas -- grey, light ink on a black background -- and then prepares it exactly as the
drawing app does, with `prepare.prepare_image`. The file may also be an open binary file
object (the web API's uploads), with a `name` to show in messages instead of a path.
"""
import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digits.errors import EmptyImageError, ImageFileError
from digits.files import open_input
from digits.imaging import prepare

MAX_SIDE = 1024     # larger photos are shrunk first: strokes survive, and it is much faster
# Larger images are refused before they are decoded (16 megapixels decode to at most 64 MB).
# A JPEG counts at the reduced scale it is decoded at (`Image.draft`): a 48-megapixel phone
# photo decodes at half size, 12 megapixels.
MAX_PIXELS = 16_000_000
# The only formats opened. Pillow knows many more; some (EPS) would write the file to disk and
# run a program (Ghostscript) on it.
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")
FORMAT_NAMES = "PNG, JPEG, BMP, GIF, WebP or TIFF"
ORIENTATION = 0x0112    # the EXIF tag saying how the camera was turned
MIN_CONTRAST = 32   # ink must differ from the paper by this many grey levels (of 255)
BORDER = 0.05       # the outer 5% of each side is taken to be paper


def load_digit(path, name=None):
    """The digit in image file `path` as the network's input: float64 (784,) in [0, 1].

    `path` may also be a binary file object; `name` is what messages call it (default: path).
    Raises ImageFileError when the file cannot be read as an image and
    EmptyImageError when it holds no ink.
    """
    return prepare.prepare_image(light_on_dark(read_grey(path, name)))


def read_grey(path, name=None, max_side=MAX_SIDE, draft=False):
    """The image in `path` (a path or a binary file object, called `name` in messages) as a
    greyscale (mode 'L') Pillow image; transparency composited away; shrunk so its longer side
    is at most `max_side`. draft=True lets a JPEG decoder shrink it to about `max_side` while
    decoding (much faster for phone photos). The image's `info["scale"]` is the file's pixels
    per returned pixel.

    A path must name a regular file (a FIFO or a device is refused before any read). Only the
    formats in FORMATS are opened, and the size in the file's header is checked against
    MAX_PIXELS before anything is decoded (large JPEGs are decoded at a reduced scale first).
    """
    label = path if name is None else name
    if not isinstance(path, (str, bytes, os.PathLike)):
        return _decode(path, label, max_side, draft)
    source = open_input(path, ImageFileError, "give an image file", name=label)
    with source:
        return _decode(source, label, max_side, draft)


def check_size(source, name):
    """ImageFileError unless binary file object `source` (called `name`) holds an image of a
    format this reads and of at most MAX_PIXELS, as its header says: nothing is decoded, so
    this is quick whatever the file. `source` is closed."""
    _open(source, name)[0].close()


def _open(source, path, max_side=MAX_SIDE, draft=False):
    """(the image in open file `source` (called `path` in messages), its (width, height) in the
    file): its header read, a JPEG set to decode at a reduced scale (to about `max_side`, in
    grey, when `draft`), its size checked against MAX_PIXELS; nothing decoded yet.
    Raises ImageFileError."""
    with warnings.catch_warnings():
        # Pillow warns of large images (sized up below) and of damaged tags ("Tag data larger
        # than file"): what matters is said in one line, or the image is read.
        warnings.simplefilter("ignore")
        try:
            image = Image.open(source, formats=FORMATS)
        except UnidentifiedImageError:
            raise ImageFileError(f"{path}: not an image file this reads (use {FORMAT_NAMES})") from None
        except Image.DecompressionBombError:
            raise ImageFileError(f"{path}: the image is too large; this reads images of up to "
                                 f"{MAX_PIXELS // 1_000_000} megapixels: shrink it first") from None
        except (OSError, ValueError, SyntaxError, EOFError) as e:
            raise ImageFileError(f"{path}: cannot read the image ({e})") from None
        full_size = image.size
        try:
            if draft and image.format == "JPEG" and image.mode in ("L", "RGB"):
                image.draft("L", (max_side, max_side))
            else:
                image.draft(image.mode, (MAX_SIDE, MAX_SIDE))   # a JPEG: decode at 1/2, 1/4 or 1/8 scale
        except (OSError, ValueError, SyntaxError, EOFError) as e:
            image.close()
            raise ImageFileError(f"{path}: cannot read the image ({e})") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise ImageFileError(f"{path}: the image is too large ({width} x {height} pixels); this reads "
                             f"images of up to {MAX_PIXELS // 1_000_000} megapixels: shrink it first")
    return image, full_size


def _decode(source, path, max_side=MAX_SIDE, draft=False):
    """read_grey for an open binary file `source`, called `path` in messages."""
    image, full_size = _open(source, path, max_side, draft)
    try:
        with image, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.seek(0)                        # an animated GIF: its first frame
            image.load()
            if image.getexif().get(ORIENTATION, 1) != 1:    # a photo taken with the phone turned
                image = ImageOps.exif_transpose(image)      # (a copy: only when it must turn)
            if max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.LANCZOS)
            grey = _flatten(image)
            grey.info["scale"] = max(full_size) / max(grey.size)
            return grey
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as e:
        # Truncated or corrupt data, unreadable file, absurd dimensions...
        raise ImageFileError(f"{path}: cannot read the image ({e})") from None


def _flatten(image):
    """Greyscale version of `image`, with transparent parts filled with the paper's colour."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        grey = rgba.convert("L")
        opaque = np.asarray(grey)[alpha > 127]
        # The transparent part is the paper: make it contrast with what is drawn on it
        # (white behind dark strokes, black behind light ones).
        paper = 255 if opaque.size and np.median(opaque) < 128 else 0
        background = Image.new("L", image.size, paper)
        background.paste(grey, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit or float greys: Pillow's own conversion to 8 bits clips rather than scales.
        a = np.asarray(image, dtype=np.float64)
        if not np.isfinite(a).all():
            raise ValueError("some pixels are NaN or infinite: save it without them")
        top = 1.0 if image.mode == "F" and a.max(initial=0) <= 1 else 255.0 if a.max(initial=0) <= 255 else 65535.0
        return Image.fromarray(np.clip(np.round(a * (255 / top)), 0, 255).astype(np.uint8))
    return image.convert("L")


def paper_and_ink(a):
    """(the paper's grey level, whether the ink is darker than the paper) of grey array `a`.

    The paper's level is the median of the border; the ink is dark if more pixels are much
    darker than the paper than much lighter.
    """
    h, w = a.shape
    bh, bw = max(1, round(h * BORDER)), max(1, round(w * BORDER))
    border = np.concatenate([a[:bh].ravel(), a[-bh:].ravel(), a[:, :bw].ravel(), a[:, -bw:].ravel()])
    paper = np.median(border)
    darker = np.count_nonzero(a < paper - MIN_CONTRAST)
    lighter = np.count_nonzero(a > paper + MIN_CONTRAST)
    return paper, darker > lighter


def light_on_dark(grey):
    """Turn a grey image into the canvas's look: light ink on black, ink stretched to white.

    The paper's level is the median of the border; the ink is whatever differs from it. If
    more pixels are much darker than the paper than much lighter, the ink is dark and the
    image is inverted. Raises EmptyImageError when nothing stands out.
    """
    a = np.asarray(grey, dtype=np.float64)
    paper, dark = paper_and_ink(a)
    ink = paper - a if dark else a - paper
    # Levels: the paper (and the grain or JPEG noise just around its level) becomes black.
    ink = np.clip(ink - MIN_CONTRAST / 2, 0, None)
    peak = ink.max(initial=0.0)
    if peak < MIN_CONTRAST / 2:
        raise EmptyImageError("the image is empty: there is no digit to recognise")
    return Image.fromarray(np.round(ink * (255 / peak)).astype(np.uint8))
