"""How long one reading takes in the drawing app, preparation included, for each network.

    python -m benchmarks.bench_predict [--drawings 500] [--weights-dir DIR ...]

The app reads its off-screen canvas image when a stroke ends: prepare it (crop, even the
strokes, scale, centre: digits.imaging.prepare), run the network, calibrate the shares. This
times exactly that call (`digits.recognise.read_drawing`) on real pen digits of UCI pendigits
drawn as the app draws them, one at a time as a person draws, and prints the median, the 95th
percentile and the slowest, with the network's own part timed alone beside it. The networks
are the shipped ones (or the folders given), timed in turn on the same drawings. A network with a
stroke reader (digits.nets.trajectory) is timed again reading each drawing with its strokes, as
the apps and the API read a drawing, with the reader alone beside it.
"""
import argparse
import os
import platform
import sys
import time

import numpy as np

from benchmarks.bench_cnn import numpy_simd
from benchmarks.pen_drawings import canvas_strokes, load_pen_digits
from digits import nets
from digits.imaging.prepare import prepare_image
from digits.imaging.strokes import BRUSH, CANVAS_HEIGHT, CANVAS_WIDTH, render
from digits.recognise import read_drawing


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def percentiles(seconds):
    ms = 1000 * np.asarray(seconds)
    return f"median {np.median(ms):6.2f} ms, 95th percentile {np.percentile(ms, 95):6.2f} ms, slowest {ms.max():6.2f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drawings", type=int, default=500, help="how many pen digits to read (default 500)")
    parser.add_argument("--pen-digits", default=None, help="pendigits-orig.tra or its folder (default ../shared/pendigits)")
    parser.add_argument("--weights-dir", action="append", metavar="DIR",
                        help="a network folder to time (repeatable; default: every shipped network)")
    args = parser.parse_args(argv)
    digits = load_pen_digits(args.pen_digits)
    rng = np.random.default_rng(0)
    picks = rng.choice(len(digits), size=min(args.drawings, len(digits)), replace=False)
    drawn = canvas_strokes([digits[i] for i in picks], rng)
    images = [render(s, CANVAS_WIDTH, CANVAS_HEIGHT, BRUSH) for s in drawn]
    labels = np.array([digits[i].label for i in picks])
    folders = args.weights_dir or [nets.pretrained_dir(k) for k in nets.shipped_kinds()]
    networks = [nets.load_network(folder) for folder in folders]
    print(f"CPU: {cpu_name()}, {os.cpu_count()} logical CPUs; NumPy SIMD: {numpy_simd()}")
    print(f"{len(images)} pen digits drawn as the app draws "
          f"them ({CANVAS_WIDTH}x{CANVAS_HEIGHT} canvas, {BRUSH} px brush), read one at a time")

    inputs = [prepare_image(image) for image in images]      # also warms up the preparation
    prepare_times = []
    for image in images:
        start = time.perf_counter()
        prepare_image(image)
        prepare_times.append(time.perf_counter() - start)
    print(f"  preparation alone:           {percentiles(prepare_times)}")
    for folder, net in zip(folders, networks):
        read_drawing(images[0], net)                        # first call: caches, BLAS threads
        totals, alone, right = [], [], 0
        for image, x, label in zip(images, inputs, labels):
            start = time.perf_counter()
            reading = read_drawing(image, net)
            totals.append(time.perf_counter() - start)
            start = time.perf_counter()
            net.predict_proba(x.reshape(1, -1))
            alone.append(time.perf_counter() - start)
            right += reading.digit == label
        print(f"{net.describe()} ({folder}):")
        print(f"  the network alone:           {percentiles(alone)}")
        print(f"  one reading, as in the app:  {percentiles(totals)}; {100 * right / len(images):.2f} % right")
        reader = getattr(net, "stroke_reader", None)
        if reader is None:
            continue
        totals, alone, right = [], [], 0
        for image, strokes, label in zip(images, drawn, labels):
            start = time.perf_counter()
            reading = read_drawing(image, net, strokes)
            totals.append(time.perf_counter() - start)
            start = time.perf_counter()
            reader.read(strokes)
            alone.append(time.perf_counter() - start)
            right += reading.digit == label
        print(f"  the stroke reader alone:     {percentiles(alone)}")
        print(f"  with the strokes joined:     {percentiles(totals)}; {100 * right / len(images):.2f} % right "
              "(the reader trained on these writers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
