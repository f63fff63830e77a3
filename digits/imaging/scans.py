"""Digits that look scanned: MNIST digits made to look like the small, thick, size-normalised
digits scanned from envelopes and forms, and the same as network inputs to train on.

    page = scanned_page(pixels, rng)                    # uint8 (h, w): dark ink on grey paper
    X, y = scan_training_images(X_train, y_train, 20000, rng)

A scan of a digit differs from the app's drawings and from MNIST: the digit was written with
whatever pen was at hand, then size-normalised into a box of 14-24 px (16 px for the US postal
service's envelopes), so its strokes are thick for its size, blurred, and it often touches its
box. `python prediction.py scan.png` reads such a file (digits.recognise.read_file) by preparing
it two ways, strokes evened and as they are (digits.imaging.prepare.prepare_views); the
training images here are prepared one of those ways at random, so that a network learns what
both look like after a scan.
"""
import io

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from digits.constants import PIXELS, SIDE
from digits.errors import EmptyImageError

# How scans vary, as (low, high) ranges: the thickening (grey dilation, px at 28x28, 1 = none),
# the longer side of the scanned digit (px), the blur (Gaussian radius, px), the paper's grey
# level, the ink's darkness as a share of the paper's, the noise (standard deviation, grey levels).
SCAN = {"dilate": (1, 3), "side": (14, 23), "blur": (0.3, 0.9), "paper": (170, 240), "ink": (0.6, 0.9), "noise": 6}
# Wider ranges to train on than the benchmarks measure with (benchmarks/image_files.py), so that
# the network is not taught the benchmark's one kind of scan.
TRAINING_SCAN = {"dilate": (1, 3), "side": (13, 26), "blur": (0.2, 1.0), "paper": (150, 250), "ink": (0.5, 0.95),
                 "noise": 8}


def scanned_page(pixels, rng, scan=SCAN):
    """An MNIST digit (uint8 784) scanned: thicker, size-normalised so that its longer side is
    scan["side"] px, blurred, darker than grey paper with noise, a one-pixel margin of paper
    around it: uint8 (h, w), dark ink on light paper (a blank image gives a blank page)."""
    dilation = int(rng.integers(scan["dilate"][0], scan["dilate"][1] + 1))
    ink = ndimage.grey_dilation(np.asarray(pixels).reshape(SIDE, SIDE), size=(dilation, dilation))
    ys, xs = np.nonzero(ink > 40)
    if ys.size == 0:
        ys, xs = np.array([0, SIDE - 1]), np.array([0, SIDE - 1])
    box = Image.fromarray(ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.uint8))
    side = int(rng.integers(scan["side"][0], scan["side"][1] + 1))
    box = box.resize((max(4, int(side * box.width / max(box.size))), max(4, int(side * box.height / max(box.size)))),
                     Image.BILINEAR).filter(ImageFilter.GaussianBlur(rng.uniform(*scan["blur"])))
    paper = rng.uniform(*scan["paper"])
    page = np.full((box.height + 2, box.width + 2), paper)
    page[1:-1, 1:-1] -= np.asarray(box, dtype=np.float64) / 255 * rng.uniform(*scan["ink"]) * paper
    page += rng.normal(0, scan["noise"], page.shape)
    return np.clip(page, 0, 255).astype(np.uint8)


def jpeg_bytes(page, quality):
    """The grey page (uint8 (h, w)) as the bytes of a JPEG file of that quality."""
    out = io.BytesIO()
    Image.fromarray(page).save(out, format="JPEG", quality=int(quality))
    return out.getvalue()


def scan_training_images(images, labels, count, rng, scan=TRAINING_SCAN):
    """`count` MNIST digits chosen at random from `images` (uint8 (m, 784)) with their `labels`,
    each scanned (`scanned_page`, half of them saved as JPEG and read back) and prepared as
    `prediction.py` prepares a small image file, one of its two ways at random:
    (uint8 (n, 784), labels (n,)), n <= count (a scan with no ink left is left out)."""
    from digits.imaging.image_files import light_on_dark, read_grey
    from digits.imaging.prepare import STROKE, prepare_array, to_array
    images, labels = np.asarray(images), np.asarray(labels)
    # written into one array as made (one small array per scan fragmented the heap: see drawn_inputs)
    out, kept = np.empty((int(count), PIXELS), np.uint8), []
    for i in rng.choice(images.shape[0], int(count), replace=images.shape[0] < count):
        page = scanned_page(images[i], rng, scan)
        if rng.random() < 0.5:
            grey = read_grey(io.BytesIO(jpeg_bytes(page, rng.integers(40, 95))), "scan")
        else:
            grey = Image.fromarray(page)
        as_they_are = rng.random() < 0.5
        try:
            a = to_array(light_on_dark(grey))
            x = prepare_array(a, stroke=None if as_they_are else STROKE, wipe_dots=False)   # as files are read
        except EmptyImageError:
            continue
        out[len(kept)] = np.round(x.reshape(-1) * 255)
        kept.append(i)
    return out[:len(kept)], labels[np.array(kept, dtype=np.int64)]
