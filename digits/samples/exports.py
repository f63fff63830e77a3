"""Samples written out: MNIST IDX files, a Kaggle-style CSV, a page of thumbnails.

Every file is written whole or not at all (`digits.files.atomic_write`), and each format is
the one this project already reads: `digits.data.idx.read_idx` and
`digits.data.kaggle_csv.read_train_csv`.
"""
import gzip
import os

from PIL import Image, ImageDraw, ImageFont

from digits.constants import NUM_LABELS, PIXEL_MAX, SIDE
from digits.data.idx import idx_bytes
from digits.data.kaggle_csv import TRAIN_HEADER
from digits.files import atomic_write, check_output_file, make_output_dir

IMAGES_NAME = "samples-images-idx3-ubyte"
LABELS_NAME = "samples-labels-idx1-ubyte"
THUMB_ZOOM = 2              # thumbnails are 56x56
PER_ROW = 20                # at most this many thumbnails per digit (the newest); the rest counted
GAP, LABEL_WIDTH = 4, 72
PAPER, INK = 255, 0         # thumbnails as on paper: dark ink on white


def export_idx(images, labels, folder, compress=True):
    """Write uint8 (n, 784) images and (n,) labels as MNIST IDX files in `folder` (made if
    needed): images idx3 (n, 28, 28) and labels idx1 (n,), named
    samples-images-idx3-ubyte[.gz] and samples-labels-idx1-ubyte[.gz]. Returns the two paths."""
    make_output_dir(folder, "the IDX folder")
    suffix = ".gz" if compress else ""
    paths = []
    for name, array in ((IMAGES_NAME, images.reshape(-1, SIDE, SIDE)), (LABELS_NAME, labels)):
        path = check_output_file(os.path.join(folder, name + suffix), what="the IDX file")
        data = idx_bytes(array)
        with atomic_write(path) as f:
            f.write(gzip.compress(data, mtime=0) if compress else data)
        paths.append(path)
    return paths


def export_csv(images, labels, path):
    """Write images and labels as a Kaggle train.csv (`label,pixel0,...,pixel783`). Returns the path."""
    check_output_file(path, what="the CSV file")
    lines = [",".join(TRAIN_HEADER)]
    lines += [",".join(map(str, [label, *row])) for label, row in zip(labels.tolist(), images.tolist())]
    with atomic_write(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def thumbnails(images, labels, path):
    """Write a PNG page of the images: one row per digit, its count, then its newest
    samples (at most PER_ROW) as the network read them, in dark ink on white. Returns the path."""
    check_output_file(path, what="the picture")
    page = thumbnail_page(images, labels)
    with atomic_write(path) as f:
        page.save(f, format="PNG")
    return path


def thumbnail_page(images, labels):
    """The Pillow image (mode L) that `thumbnails` saves, for uint8 (n, 784) images and (n,) labels."""
    side = SIDE * THUMB_ZOOM
    width = LABEL_WIDTH + PER_ROW * (side + GAP) + GAP
    page = Image.new("L", (width, NUM_LABELS * (side + GAP) + GAP), PAPER)
    draw = ImageDraw.Draw(page)
    big, small = _font(26), _font(11)
    for digit in range(NUM_LABELS):
        top = GAP + digit * (side + GAP)
        mine = images[labels == digit][::-1]            # newest first
        draw.text((GAP, top), f"{digit}", fill=INK, font=big)
        draw.text((GAP, top + side - 14), f"{len(mine)} sample{'s' * (len(mine) != 1)}", fill=INK, font=small)
        for i, pixels in enumerate(mine[:PER_ROW]):
            thumb = Image.fromarray(PIXEL_MAX - pixels.reshape(SIDE, SIDE)).resize((side, side), Image.NEAREST)
            page.paste(thumb, (LABEL_WIDTH + i * (side + GAP), top))
        if len(mine):
            draw.rectangle((LABEL_WIDTH - 1, top - 1, LABEL_WIDTH + min(len(mine), PER_ROW) * (side + GAP) - GAP,
                            top + side), outline=160)
    return page


def _font(size):
    """Pillow's own font at `size` pixels (Pillow >= 10.1), else its small bitmap font."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()
