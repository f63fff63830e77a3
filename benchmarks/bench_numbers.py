"""How well whole numbers are read: strokes on the canvas and photos of paper.

    python -m benchmarks.bench_numbers [--numbers 100] [--groups 5] [--photos 40] [--ruled-photos 40]
                                       [--keep-lines] [--weights-dir DIR | --networks DIR]

Numbers of 2-6 digits are composed from the real pen-written digits of UCI pendigits
(`../shared/pendigits`), each number by one writer (`digits.imaging.compose`: natural spacing,
a quarter of neighbours touching or overlapping, sizes, slant and baseline varying). The 30
writers are split into groups; each group's numbers are scored on their own and the mean and
the worst group are printed, so a figure does not rest on one lucky set of writers.

Strokes are read on a 1000x290 canvas through `digits.recognise.read_number_strokes` (what
`POST /api/read` calls); photos are rendered from the same strokes (`digits.imaging.paper`:
paper colour, uneven light, ballpoint ink, blur, noise, a small rotation, JPEG) and read by
`prediction.read_image` (what `python prediction.py photo.jpg` answers). Beside each: the naive
baseline, pieces grouped by overlapping x-extents and each group read as a single digit.
Then the same numbers photographed on ruled paper (`paper.photograph(ruled=True)`: light blue
lines, the digits written on one), read the same way; --keep-lines reads them as the reader did
before it wiped ruled lines (`ink_pieces.without_ruled_lines`), to compare.

With --networks DIR, each group's numbers are read by the network in DIR/group1, DIR/group2, ...
(as `benchmarks.pen_writer_groups --save-networks DIR` writes them, with the same --groups: each
trained without that group's writers, `stroke_reader_groups --save-groups DIR` adding the stroke
reader), so that the figures are for writers the networks never saw; where a network has a stroke
reader, its numbers from strokes are also read by the picture network alone, beside.

Scores: exact-number rate, and digit error rate = edit distance / number of digits.
Time: per number from strokes (and for 6-digit numbers alone), per photo, per 12-megapixel photo.
"""
import argparse
import io
import os
import time

import numpy as np

from benchmarks.bench_cnn import numpy_simd
from benchmarks.bench_predict import cpu_name
from benchmarks.pen_drawings import load_pen_digits
from digits import nets, recognise
from digits.imaging import compose, paper, segment

PHOTO = (1600, 1200)        # the photos scored (they are shrunk to 1024 pixels on reading anyway)
BIG_PHOTO = (4000, 3000)    # the photos timed: a 12-megapixel phone camera


def edit_distance(a, b):
    """Levenshtein distance between strings `a` and `b`."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def naive_strokes(strokes, width, height, network):
    """The baseline: strokes grouped by overlapping x-extents, each group read as one digit."""
    boxes = recognise.stroke_boxes(strokes, width, height)
    digits = [recognise.read_strokes([strokes[i] for i in group], width, height, network).digit
              for group in segment.overlap_groups(boxes)]
    return "".join(str(d) for d in digits if d is not None)


def naive_image(path, network):
    """The baseline for photos: ink components grouped by overlapping x-extents, each read alone."""
    from digits.imaging import ink_pieces
    from digits.imaging.prepare import prepare_array
    from digits.errors import EmptyImageError
    ink = ink_pieces.ink_of_photo(path)
    labels, boxes = ink_pieces.components(ink)[:2]
    found = ""
    for group in segment.overlap_groups(boxes):
        try:
            x = prepare_array(np.isin(labels, [i + 1 for i in group]).astype(np.float64), wipe_dots=False)
        except EmptyImageError:
            continue
        found += str(int(np.argmax(network.predict_proba(x.reshape(1, -1)))))
    return found


def as_prediction_reads(picture, network):
    """What `python prediction.py photo.jpg` answers: the number, or the one digit where it
    decides the picture holds one (`prediction.read_image`)."""
    import prediction
    number, single = prediction.read_image(picture, network)
    return number.number if single is None else ("" if single.digit is None else str(single.digit))


def score(pairs):
    """(exact-number rate, digit error rate) of (read, truth) string pairs."""
    exact = np.mean([read == truth for read, truth in pairs])
    errors = sum(edit_distance(read, truth) for read, truth in pairs) / sum(len(truth) for _, truth in pairs)
    return exact, errors


def report(name, by_group):
    """Print one line per method: each group's exact rate and digit errors, the mean and the worst."""
    scores = [score(pairs) for pairs in by_group]
    cells = "  ".join(f"{e:6.1%} {d:5.2%}" for e, d in scores)
    exact, errors = np.array(scores).T
    print(f"  {name:<24} {cells}   mean {exact.mean():6.1%} exact, {errors.mean():5.2%} digit errors;"
          f" worst group {exact.min():6.1%}, {errors.max():5.2%}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=100, help="numbers per writer group (default 100)")
    parser.add_argument("--groups", type=int, default=5, help="writer groups (default 5)")
    parser.add_argument("--photos", type=int, default=40, help="photos per writer group (default 40; 0: none)")
    parser.add_argument("--big-photos", type=int, default=5, help="12-megapixel photos timed (default 5)")
    parser.add_argument("--ruled-photos", type=int, default=40,
                        help="photos on ruled paper per writer group (default 40; 0: none)")
    parser.add_argument("--keep-lines", action="store_true",
                        help="read the ruled paper's lines as ink (the reader before lines were wiped), to compare")
    parser.add_argument("--pen-digits", default=None, help="pendigits-orig.tra or its folder (default ../shared/pendigits)")
    parser.add_argument("--weights-dir", default=None, help="the network folder (default: the shipped best one)")
    parser.add_argument("--networks", metavar="DIR", default=None,
                        help="read group i's numbers with the network in DIR/group<i> (trained without its writers)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    digits = load_pen_digits(args.pen_digits)
    if args.networks and args.weights_dir:
        parser.error("give --weights-dir or --networks, not both")
    writers = sorted({d.writer for d in digits})
    groups = np.array_split(np.array(writers), args.groups)
    if args.networks:
        folders = [os.path.join(args.networks, f"group{i}") for i in range(1, args.groups + 1)]
        missing = [f for f in folders if not os.path.isdir(f)]
        if missing:
            parser.error(f"no network folder {missing[0]}: --networks needs one per group (--groups {args.groups})")
        group_networks = [nets.load_network(f) for f in folders]
    else:
        group_networks = [nets.load_network(args.weights_dir) if args.weights_dir else nets.load_pretrained()] \
            * args.groups
    network = group_networks[0]
    rng = np.random.default_rng(args.seed)
    width, height = compose.CANVAS
    print(f"CPU: {cpu_name()}, {os.cpu_count()} logical CPUs; NumPy SIMD: {numpy_simd()}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"{network.describe()}{' (one per group, from ' + args.networks + ')' if args.networks else ''}"
          f"{', with a stroke reader' if getattr(network, 'stroke_reader', None) else ''}; {args.numbers} numbers of 2-6 digits per group of writers, "
          f"{width}x{height} canvas, seed {args.seed}")
    print("  groups: " + ", ".join(f"writers {g[0]}-{g[-1]}" for g in groups))
    numbers = [compose.writer_numbers(digits, list(g), args.numbers, rng) for g in groups]
    recognise.read_number_strokes(numbers[0][0][0], width, height, network)     # warm up

    strokes_read, final_read, alone_read, naive_read, times, six, final_times = [], [], [], [], [], [], []
    for group, network in zip(numbers, group_networks):
        strokes_read.append([]), final_read.append([]), alone_read.append([]), naive_read.append([])
        reader = getattr(network, "stroke_reader", None)
        for strokes, truth, _ in group:
            start = time.perf_counter()
            found = recognise.read_number_strokes(strokes, width, height, network).number
            times.append(time.perf_counter() - start)
            if len(truth) == 6:
                six.append(times[-1])
            strokes_read[-1].append((found, truth))
            if reader is not None:
                recognise.SEARCH_PATHS = False
                start = time.perf_counter()
                final_read[-1].append((recognise.read_number_strokes(strokes, width, height, network).number, truth))
                final_times.append(time.perf_counter() - start)
                recognise.SEARCH_PATHS = True
                network.stroke_reader = None
                alone_read[-1].append((recognise.read_number_strokes(strokes, width, height, network).number, truth))
                network.stroke_reader = reader
            naive_read[-1].append((naive_strokes(strokes, width, height, network), truth))
    print("strokes (exact-number rate, digit error rate per group):")
    report("number reading", strokes_read)
    if all(alone_read):
        report("paths for the digits found", final_read)
        report("the picture alone", alone_read)
    report("naive x-overlap groups", naive_read)
    ms = 1000 * np.array(times)
    sixes = (f" 6-digit numbers: median {1000 * np.median(six):.1f} ms, slowest {1000 * max(six):.1f} ms"
             if six else " no 6-digit number in this run")
    print(f"  time per number: median {np.median(ms):.1f} ms, 95th percentile {np.percentile(ms, 95):.1f} ms;" + sixes)
    if final_times:
        print(f"  the same numbers, the search reading pictures only (right after each): median "
              f"{1000 * np.median(final_times):.1f} ms, 95th percentile {1000 * np.percentile(final_times, 95):.1f} ms")

    if args.photos:
        photos_read, naive_photos, photo_times = [], [], []
        for group, network in zip(numbers, group_networks):
            photos_read.append([]), naive_photos.append([])
            for strokes, truth, _ in group[:args.photos]:
                jpeg = io.BytesIO(paper.photograph(strokes, width, height, rng, PHOTO))
                start = time.perf_counter()
                found = as_prediction_reads(jpeg, network)
                photo_times.append(time.perf_counter() - start)
                photos_read[-1].append((found, truth))
                jpeg.seek(0)
                naive_photos[-1].append((naive_image(jpeg, network), truth))
        print(f"photos of {PHOTO[0]}x{PHOTO[1]} pixels (exact-number rate, digit error rate per group):")
        report("number reading", photos_read)
        report("naive x-overlap groups", naive_photos)
        print(f"  time per photo: median {1000 * np.median(photo_times):.0f} ms")
    if args.ruled_photos:
        if args.keep_lines:
            from digits.imaging import ink_pieces
            ink_pieces.without_ruled_lines = lambda mask: mask      # the way before, side by side
        ruled_read = []
        for group, network in zip(numbers, group_networks):
            ruled_read.append([])
            for strokes, truth, _ in group[:args.ruled_photos]:
                jpeg = io.BytesIO(paper.photograph(strokes, width, height, rng, PHOTO, ruled=True))
                ruled_read[-1].append((as_prediction_reads(jpeg, network), truth))
        print(f"photos on ruled paper{' (its lines read as ink)' if args.keep_lines else ''}:")
        report("number reading", ruled_read)
    big_times, network = [], group_networks[0]
    for strokes, truth, _ in numbers[0][:args.big_photos]:
        jpeg = io.BytesIO(paper.photograph(strokes, width, height, rng, BIG_PHOTO))
        start = time.perf_counter()
        recognise.read_number_image(jpeg, network)
        big_times.append(time.perf_counter() - start)
    if big_times:
        print(f"  {BIG_PHOTO[0]}x{BIG_PHOTO[1]} photos (12 megapixels, JPEG): median "
              f"{1000 * np.median(big_times):.0f} ms, slowest {1000 * max(big_times):.0f} ms")


if __name__ == "__main__":
    main()
