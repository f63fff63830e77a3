"""Benchmark: how well single-digit image files are read, each way a file can be prepared.

    python -m benchmarks.image_files [--weights-dir DIR] [--count 1000] [--seed 0]

Files of one digit, as people have them:
* scans of MNIST test digits (`pen_drawings.scanned_like`: thickened, size-normalised into a
  small box, blurred, grey paper, JPEG), at 14-24 px and at 16 px (as envelopes were scanned);
* MNIST test digits as the envelopes' digits were kept (`boxed_file`): filling a 16x16 box,
  touching its edges, sharp, PNG (made by other code than the training's scans);
* phone photos (digits.imaging.paper: uneven light, paper and ink colours, noise, JPEG) of pen
  digits written with a thin pen, and of MNIST test digits (strokes as thick as MNIST's).
Each is read four ways: the whole picture with its strokes evened (as every file was read
before), as its strokes are (MNIST's own preparation), both averaged, and as
`digits.recognise.read_file` reads it now (small pictures both ways; larger ones also as a
number's one digit, the surer reading kept). Printed for each: the share of
the files read right, read surely but wrong, and not sure. The pen digits are of pendigits' writers, whom the shipped
CNN trained on: its figures there flatter it, but the ways compare fairly.
"""
import argparse
import io

import numpy as np
from PIL import Image, ImageFilter

from benchmarks.pen_drawings import add_reading_options, load_pen_digits, mnist_dir, reading_network, scanned_file
from digits import recognise
from digits.data import mnist
from digits.errors import EmptyImageError
from digits.imaging import image_files, paper, prepare
from digits.imaging.strokes import fit_to_canvas


def photographed_mnist(pixels, rng):
    """JPEG bytes: an MNIST digit (uint8 784) as ink on paper photographed as digits.imaging.paper does,
    the digit 60-400 px on a page 1.2-2 times its size."""
    side = int(rng.integers(60, 400))
    digit = Image.fromarray(np.asarray(pixels, dtype=np.uint8).reshape(28, 28)).resize((side, side), Image.BILINEAR)
    size = (int(side * rng.uniform(1.2, 2)), int(side * rng.uniform(1.2, 2)))
    mask = Image.new("L", size, 0)
    mask.paste(digit, (int(rng.uniform(0, size[0] - side)), int(rng.uniform(0, size[1] - side))))
    alpha = np.asarray(mask.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5))), dtype=np.float32)[..., None] \
        / 255 * rng.uniform(0.75, 1.0)
    page = np.array(paper.PAPERS[rng.integers(len(paper.PAPERS))], dtype=np.float32)
    ink = np.array(paper.INKS[rng.integers(len(paper.INKS))], dtype=np.float32)
    picture = (page * (1 - alpha) + ink * alpha) * paper.lighting(size, rng)[..., None]
    picture += rng.normal(0, rng.uniform(2, 6), size=picture.shape[:2])[..., None]
    out = io.BytesIO()
    Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=int(rng.integers(60, 92)))
    return out.getvalue()


def scan_files(images, rng, sides):
    """JPEG bytes of each MNIST digit scanned as scanned_like scans, `sides` (low, high) px on its longer side."""
    return [scanned_file(pixels, rng, sides) for pixels in images]


def boxed_file(pixels, side=16):
    """PNG bytes of an MNIST digit (uint8 784) as the envelopes' digits were kept: its ink box
    size-normalised to fill a `side` x `side` box (aspect kept, touching the box's edges), dark
    on white, no blur, no noise."""
    a = np.asarray(pixels, dtype=np.uint8).reshape(28, 28)
    ys, xs = np.nonzero(a > 30)
    box = Image.fromarray(a[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
    scale = side / max(box.size)
    w, h = max(1, round(box.width * scale)), max(1, round(box.height * scale))
    page = Image.new("L", (side, side), 0)
    page.paste(box.resize((w, h), Image.BILINEAR), ((side - w) // 2, (side - h) // 2))
    out = io.BytesIO()
    Image.fromarray(255 - np.asarray(page)).save(out, "PNG")
    return out.getvalue()


def ways(data, network):
    """{way: Reading} of one file's bytes."""
    picture = image_files.light_on_dark(image_files.read_grey(io.BytesIO(data)))
    views = prepare.prepare_views(picture)
    above = recognise.FILE_NOT_A_DIGIT_ABOVE
    return {"whole, strokes evened (before)": recognise.recognise(views[0], network, picture, above),
            "whole, strokes as they are": recognise.recognise(views[1], network, picture, above),
            "whole, both averaged": recognise.recognise(views, network, picture, above),
            "read_file (now)": recognise.read_file(io.BytesIO(data), network)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="files of each kind (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    add_reading_options(parser)
    args = parser.parse_args(argv)
    network = reading_network(args.weights_dir)
    X, y = mnist.load_mnist(mnist_dir(args.data))
    pen = load_pen_digits(args.pen_digits)
    rng = np.random.default_rng(args.seed)
    chosen = rng.choice(10000, args.count, replace=False) + 60000
    pens = [pen[i] for i in rng.choice(len(pen), args.count, replace=False)]
    kinds = {
        "scans, 14-24 px": (scan_files(X[chosen], rng, (14, 24)), y[chosen]),
        "scans, 16 px": (scan_files(X[chosen], rng, (16, 16)), y[chosen]),
        "photos of pen digits (thin pen)": (
            [paper.photograph(fit_to_canvas(d.strokes, 350, 290, rng, size_range=(0.45, 0.8)), 350, 290, rng,
                              size=(800, 600)) for d in pens], np.array([d.label for d in pens])),
        "photos of MNIST digits": ([photographed_mnist(X[i], rng) for i in chosen], y[chosen]),
        "scans filling a 16x16 box (sharp, PNG)": ([boxed_file(X[i]) for i in chosen], y[chosen]),
    }
    print(f"{network.describe()}; {args.count} files of each kind, seed {args.seed}; "
          "each cell: right % / read surely but wrong % / not sure % (of all the files)")
    names = None
    for kind, (files, labels) in kinds.items():
        readings = []
        for data in files:
            try:
                readings.append(ways(data, network))
            except EmptyImageError:
                readings.append(None)
        names = names or next(r for r in readings if r)
        if kind == next(iter(kinds)):
            print("| files | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
        cells = []
        for way in names:
            got = [r[way] if r else None for r in readings]
            right = np.mean([g is not None and g.digit == t for g, t in zip(got, labels)])
            sure_wrong = np.mean([g is not None and g.sure and g.digit != t for g, t in zip(got, labels)])
            unsure = np.mean([g is None or not g.sure for g in got])
            cells.append(f"{100 * right:.1f} / {100 * sure_wrong:.2f} / {100 * unsure:.1f}")
        print(f"| {kind} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
