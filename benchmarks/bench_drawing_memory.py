"""Memory of drawing the training images: one small array kept per drawing (as the project
did until December 2026) against each drawing written into rows of one array (as it does now).

    python -m benchmarks.bench_drawing_memory [--copies 2] [--pen-digits ../shared/pendigits]

Each way runs in a fresh process and draws `--copies` drawings of every pen digit (bent as the
16-drawing recipe bends them, --pen-elastic 0.05), then prints how much its resident memory
grew (the peak, and what is left once the drawings are made) per 1,000 drawings, beside the
784 bytes a drawing needs. The large canvases each drawing is rendered on are freed every time;
a small array kept between them stops the heap from being given back, so the first way holds
several times the memory its drawings need. Peak memory of a whole training run:
`/usr/bin/time -v python main.py ...` (Maximum resident set size).
"""
import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from benchmarks.bench_cnn import cpu_model, numpy_simd


def kb(field):
    """This process's VmRSS or VmHWM in KiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def one_array_each(strokes, rng):
    """The former drawn_inputs: a list of one uint8 array per drawing, stacked at the end."""
    from digits.constants import PIXELS
    from digits.errors import EmptyImageError
    from digits.imaging.distort import fit_to_canvas, prepare_image, render
    images = []
    for s in strokes:
        placed = fit_to_canvas(s, 350, 290, rng, size_range=(0.2, 0.9))
        try:
            x = prepare_image(render(placed, 350, 290, int(rng.integers(8, 30))))
        except EmptyImageError:
            continue
        images.append(np.round(x * 255).astype(np.uint8))
    return np.array(images, dtype=np.uint8).reshape(-1, PIXELS)


def child(way, copies, pen_digits):
    """Draw, then print a JSON line of the memory figures."""
    from digits.data import pendigits
    from digits.imaging import distort
    digits = pendigits.load(pen_digits)
    rng = np.random.default_rng(0)

    def bent():
        for _ in range(copies):
            for d in digits:
                yield distort.elastic_strokes(distort.distort_strokes(d.strokes, rng), rng, 0.05)

    np.zeros(1)                                             # everything imported before the baseline
    distort.drawn_inputs(iter(()), rng)
    before = kb("VmRSS")
    start = time.perf_counter()
    X = one_array_each(bent(), rng) if way == "one array each" else distort.drawn_inputs(bent(), rng)
    print(json.dumps(dict(way=way, n=len(X), seconds=time.perf_counter() - start, data_kb=X.nbytes / 1024,
                          peak_kb=kb("VmHWM") - before, left_kb=kb("VmRSS") - before)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="drawings of each pen digit (default 2)")
    parser.add_argument("--pen-digits", default="../shared/pendigits", help="pendigits file or folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.copies, args.pen_digits)
    print(f"CPU: {cpu_model()}; NumPy {np.__version__}, SIMD: {numpy_simd()}")
    print(f"{args.copies} drawings of each pen digit, bent by 0.05, each way in a fresh process\n")
    print("| way | drawings | their pixels | memory grown, peak | left after | per 1,000 drawings | seconds |")
    print("|---|---|---|---|---|---|---|")
    for way in ("one array each", "rows of one array"):
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_drawing_memory", "--child", way,
                              "--copies", str(args.copies), "--pen-digits", args.pen_digits],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"| {way} | {r['n']:,} | {r['data_kb'] / 1024:.0f} MB | {r['peak_kb'] / 1024:.0f} MB | "
              f"{r['left_kb'] / 1024:.0f} MB | {r['peak_kb'] / r['n'] * 1000 / 1024:.1f} MB | {r['seconds']:.0f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
