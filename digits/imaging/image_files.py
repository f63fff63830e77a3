"""Reading a picture of a digit from an image file, ready for the network.

A file may hold a scan or photo (dark ink on light paper) or a screenshot of the drawing
canvas (light ink on dark), in any size and colour. `load_digit(path)` makes it look like
the canvas -- grey, light ink on a black background -- and then prepares it exactly as the
drawing app does, with `prepare.prepare_image`. The file may also be an open binary file
object (the web API's uploads), with a `name` to show in messages instead of a path.
"""
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digits.errors import EmptyImageError, ImageFileError
from digits.imaging import prepare

MAX_SIDE = 1024     # larger photos are shrunk first: strokes survive, and it is much faster
MAX_PIXELS = 50_000_000     # larger images are refused (a 50-megapixel photo decodes to 150 MB)
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
    is at most `max_side`. draft=True lets a JPEG decoder shrink it while decoding (much faster
    for phone photos). The image's `info["scale"]` is the file's pixels per returned pixel."""
    source, path = path, (path if name is None else name)     # from here on `path` names it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)   # sized up below
            image = Image.open(source)
    except FileNotFoundError:
        raise ImageFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageFileError(f"{path}: is a folder, not an image file") from None
    except PermissionError:
        raise ImageFileError(f"{path}: permission denied; make it readable") from None
    except UnidentifiedImageError:
        raise ImageFileError(f"{path}: not an image file Pillow can read "
                             "(use PNG, JPEG, BMP or GIF)") from None
    except Image.DecompressionBombError:
        raise ImageFileError(f"{path}: the image is too large; this reads images of up to "
                             f"{MAX_PIXELS // 1_000_000} megapixels: shrink it first") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise ImageFileError(f"{path}: cannot read the image ({e})") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise ImageFileError(f"{path}: the image is too large ({width} x {height} pixels); this reads "
                             f"images of up to {MAX_PIXELS // 1_000_000} megapixels: shrink it first")
    try:
        with image, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.seek(0)                        # an animated GIF: its first frame
            if draft and image.format == "JPEG" and image.mode in ("L", "RGB"):
                image.draft("L", (max_side, max_side))
            image = ImageOps.exif_transpose(image)   # photos taken with the phone turned
            image.load()
            if max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.LANCZOS)
            grey = _flatten(image)
            grey.info["scale"] = max(width, height) / max(grey.size)
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
