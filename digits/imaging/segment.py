"""Cutting a written number into digits: over-segmentation plus a best-path search.

The ink of a number arrives as *pieces*: the strokes of a drawing, or the connected ink
components of an image (wide ones already cut at valleys of their ink profile, see
`digits.imaging.ink_pieces`). A digit is one or more consecutive pieces (a 4 or 5 written in
two strokes, a 7 with a crossbar, a broken ballpoint line); a piece too small to be a digit
on its own (a dot, a dash) may also be left out. Which pieces make which digit is decided as
LeCun et al. (1998) read cheque amounts: every run of up to `MAX_PIECES` consecutive pieces
that could be a digit is read by the network, and dynamic programming picks the way of
covering the pieces whose summed score is highest:

    score(run)  = log(network's top share) + BONUS - penalties (gaps inside the run, too wide or short a run)
    score(skip) = -SKIP                     (a piece too small to be a digit; -SKIP_LARGE for others)
    score(cut)  = -cut_cost(left run, right run)   (neighbouring digits overlapping much in x,
                                                    or staggered, one lower than the other)

The pieces are taken in one or more orders (for strokes: the order they were drawn in, and
left to right); the order whose best path scores highest wins.

Everything here works on boxes (x0, y0, x1, y1) and on a `read` function given by the caller,
so the same search serves strokes and images: `best_reading(boxes, orders, read)`.
"""
from dataclasses import dataclass

import numpy as np

MAX_PIECES = 3        # a digit is at most this many pieces (pen digits have at most 3 strokes)
PRUNE = 3.0           # runs whose prior cost alone is this high are not worth reading
MIN_HEIGHT = 0.4      # a digit is at least this fraction of the number's usual digit height
TALL = 0.5            # groups this fraction of the tallest one set the usual digit height
BONUS = 0.3           # what reading one more digit gains (else merging two digits into one would pay)
SKIP = 0.7            # the cost of leaving a small mark out (natural-log units, like a share's log)
SKIP_LARGE = 8.0      # the cost of leaving out a mark large enough to be a digit (only when no run can hold it)
GAP = 4.0             # cost per digit height of blank space between the pieces of one digit
MAX_GAP = 0.45        # pieces further apart than this (in digit heights) are never one digit
WIDE = 0.9            # a digit wider than this many digit heights costs...
WIDE_COST = 4.0       # ...this much per digit height beyond it
MAX_WIDTH = 2.0       # and one wider than this is never a digit
SHORT = 0.7           # a digit shorter than this many digit heights costs...
SHORT_COST = 5.0      # ...this much per digit height below it (a 4's lone lower stroke is no 1)
SIDE = 2.0            # the cost of two tall pieces side by side, barely overlapping, read as one digit
SIDE_WITH_PATHS = 1.0 # ...where each run is read by its path too (its "not a digit" sees two digits' path)
TALL_PIECE = 0.6      # (tall: this many digit heights; side by side: staggered by at most
SIDE_STAGGER = 0.15   # this many digit heights, see `stagger`)
CUT = 4.0             # the cost of cutting between two digits whose x-extents overlap wholly...
STAGGER = 8.0         # the cost per digit height of cutting between staggered runs (one both
STAGGER_FREE = 0.05   # starts and ends lower than the other, beyond this: a 4's two strokes)
FREE = 0.5            # ...beyond this fraction of the narrower one (touching digits overlap a little)


@dataclass
class Segmentation:
    """The best way found of reading the pieces as digits.

    runs: the digits left to right, each a tuple of piece indices (ascending);
    shares: (len(runs), 10) the network's shares for each run;
    left_out: indices of the pieces read as no digit (small marks); score: the path's score.
    """
    runs: list
    shares: np.ndarray
    left_out: list
    score: float


def union_box(boxes):
    """The box (x0, y0, x1, y1) holding all of `boxes` (an (n, 4) array)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])


def overlap_groups(boxes):
    """Pieces grouped where their x-extents overlap (transitively): lists of indices, left to right.

    This is the naive segmentation (and how the usual digit height is estimated).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    groups, right = [], -np.inf
    for i in np.argsort(boxes[:, 0], kind="stable"):
        if groups and boxes[i, 0] <= right:
            groups[-1].append(int(i))
            right = max(right, boxes[i, 2])
        else:
            groups.append([int(i)])
            right = boxes[i, 2]
    return groups


def digit_height(boxes):
    """The usual height of a digit in this number: the median height of the x-overlap groups
    at least `TALL` of the tallest one (so dots and dashes do not pull it down)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    heights = np.array([np.ptp(union_box(boxes[g])[[1, 3]]) for g in overlap_groups(boxes)])
    tall = heights[heights >= TALL * heights.max()]
    return max(float(np.median(tall)), 1.0)


def run_penalty(boxes, height, joined=frozenset(), min_size=0.0, side=SIDE):
    """The prior cost of reading pieces `boxes` ((k, 4)) as one digit, or None when they cannot
    be one: shorter than `MIN_HEIGHT`, wider than `MAX_WIDTH`, or a gap wider than `MAX_GAP`
    digit heights between them. Costs: the gaps between its pieces, a width beyond `WIDE`, a
    height below `SHORT`, and `side` for each two tall pieces side by side (a 1 beside an 8;
    not staggered as a 4's two strokes are)
    unless `joined` says they were cut from one piece of ink (it holds (i, j) pairs of
    positions in `boxes`, i < j). Runs whose longer side is under `min_size` pixels are dots."""
    box = union_box(boxes)
    w, h = (box[2] - box[0]) / height, (box[3] - box[1]) / height
    if h < MIN_HEIGHT or w > MAX_WIDTH or max(w, h) * height < min_size:
        return None
    cost, previous, last, order = 0.0, None, None, np.argsort(boxes[:, 0], kind="stable")
    for k, b in zip(order, boxes[order]):
        if previous is not None:
            gap = (b[0] - previous[2]) / height
            if gap > MAX_GAP:
                return None
            cost += GAP * max(gap, 0.0)
            if min(b[3] - b[1], previous[3] - previous[1]) >= TALL_PIECE * height and x_overlap(previous, b) < FREE \
                    and (min(k, last), max(k, last)) not in joined and stagger(previous, b, height) <= SIDE_STAGGER:
                cost += side
            previous = np.array([previous[0], min(previous[1], b[1]), max(previous[2], b[2]), max(previous[3], b[3])])
        else:
            previous = b
        last = k
    return cost + WIDE_COST * max(w - WIDE, 0.0) + SHORT_COST * max(SHORT - h, 0.0)


def x_overlap(a, b):
    """How much boxes `a` and `b` overlap in x, as a fraction of the narrower one (negative: apart)."""
    return (min(a[2], b[2]) - max(a[0], b[0])) / max(min(a[2] - a[0], b[2] - b[0]), 1e-9)


def candidate_runs(boxes, orders, height, max_pieces=MAX_PIECES, joined=None, min_size=0.0, side=SIDE):
    """{run (sorted index tuple): prior cost} for every run of up to `max_pieces` consecutive
    pieces, in any of `orders`, that could be a digit (its prior cost below `PRUNE`, or
    a single piece: whatever its shape, a piece is read before it is left out). `joined`:
    (n, n) bools, pieces cut from one piece of ink; `min_size`, `side`: see `run_penalty`."""
    runs, seen = {}, set()
    for order in orders:
        for start in range(len(order)):
            for end in range(start + 1, min(start + max_pieces, len(order)) + 1):
                run = tuple(sorted(order[start:end]))
                if run not in seen:
                    seen.add(run)
                    pairs = frozenset() if joined is None else frozenset(
                        (a, b) for a in range(len(run)) for b in range(a + 1, len(run)) if joined[run[a], run[b]])
                    penalty = run_penalty(boxes[list(run)], height, pairs, min_size, side)
                    if penalty is not None and (penalty < PRUNE or len(run) == 1):
                        runs[run] = penalty
    return runs


def skip_costs(boxes, height):
    """The cost of leaving out each piece: (n,) floats, `SKIP` for a piece too small to be a
    digit (a dot, a dash), `SKIP_LARGE` for the others."""
    return np.where((boxes[:, 3] - boxes[:, 1]) < MIN_HEIGHT * height, SKIP, SKIP_LARGE)


def cut_cost(a, b, link=0.0, height=None):
    """The cost of reading boxes `a` and `b` as two neighbouring digits: `CUT` times how much
    their x-extents overlap beyond `FREE` of the narrower one (two strokes of one 8 overlap
    wholly; touching digits a little), plus `link`, what the caller says it costs to part
    their pieces (strokes that cross each other: see `best_reading`)."""
    cost = CUT * max(x_overlap(a, b) - FREE, 0.0) + link
    if height:
        cost += STAGGER * max(stagger(a, b, height) - STAGGER_FREE, 0.0)
    return cost


def stagger(a, b, height):
    """How far box `b` both starts and ends lower (or higher) than box `a`, in digit heights:
    the lesser of the two shifts, 0 when they shift opposite ways (a 4's two strokes are
    staggered; neighbouring digits of different sizes on one baseline are not)."""
    top, bottom = (b[1] - a[1]) / height, (b[3] - a[3]) / height
    return min(abs(top), abs(bottom)) if top * bottom > 0 else 0.0


def best_path(order, run_scores, skip_cost, boxes, links, max_pieces=MAX_PIECES, height=None):
    """Dynamic programming over pieces in `order`: the runs and left-out pieces covering them
    all with the highest total score. `run_scores` maps a sorted index tuple to its score,
    `skip_cost` (n,) the cost of leaving each piece out; neighbouring runs pay their
    `cut_cost`, with `links` (n, n) the cost of parting two pieces. Returns (score, runs, skipped)."""
    n = len(order)
    # best[k]: {last run read (None: none yet): (score, back-pointer)} for covering order[:k]
    best = [dict() for _ in range(n + 1)]
    best[0][None] = (0.0, None)
    run_box = {}

    def offer(k, last, score, back):
        if score > best[k].get(last, (-np.inf,))[0]:
            best[k][last] = (score, back)

    for k in range(n):
        for last, (score, _) in list(best[k].items()):
            offer(k + 1, last, score - skip_cost[order[k]], (k, last, None))
            for end in range(k + 1, min(k + max_pieces, n) + 1):
                run = tuple(sorted(order[k:end]))
                if run not in run_scores:
                    continue
                if run not in run_box:
                    run_box[run] = union_box(boxes[list(run)])
                cut = 0.0 if last is None else cut_cost(run_box[last], run_box[run], links[np.ix_(last, run)].sum(), height)
                offer(end, run, score + run_scores[run] - cut, (k, last, run))
    last = max(best[n], key=lambda key: best[n][key][0])
    total, runs, skipped, k = best[n][last][0], [], [], n
    while k > 0:
        start, previous, run = best[k][last][1]
        (runs.append(run) if run is not None else skipped.append(order[start]))
        k, last = start, previous
    return total, runs[::-1], skipped[::-1]


def best_reading(boxes, orders, read, max_pieces=MAX_PIECES, links=None, joined=None, min_size=0.0, side=SIDE):
    """Segment pieces with boxes (n, 4) into digits; see the module's docstring.

    orders: sequences of piece indices, each an order to search (every order holds every piece).
    read(runs) -> (len(runs), 10) shares: the network's reading of each run (a sorted tuple of
    piece indices), or a row of NaN where the run holds no readable ink.
    max_pieces: the most pieces one digit may be made of.
    links: (n, n) what it costs to read two pieces as neighbouring digits (default none).
    joined: (n, n) bools, pieces cut from one piece of ink (never charged `SIDE`).
    min_size: the least a digit's longer side may be, in the boxes' units (smaller: a dot).
    side: the cost of two tall pieces side by side read as one digit (`SIDE`; `SIDE_WITH_PATHS`
    where `read` reads each run's path too: a 4 written as an L and a stroke beside it).
    Returns a Segmentation, its runs sorted left to right.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return Segmentation([], np.zeros((0, 10)), [], 0.0)
    height = digit_height(boxes)
    priors = candidate_runs(boxes, orders, height, max_pieces, joined, min_size, side)
    runs = list(priors)
    shares = np.asarray(read(runs), dtype=np.float64).reshape(len(runs), -1) if runs else np.zeros((0, 10))
    scores = {}
    for run, row in zip(runs, shares):
        if np.all(np.isfinite(row)):
            scores[run] = float(np.log(max(row.max(), 1e-12))) + BONUS - priors[run]
    costs = skip_costs(boxes, height)
    links = np.zeros((len(boxes), len(boxes))) if links is None else np.asarray(links, dtype=np.float64)
    if joined is not None:      # a piece cut from a larger piece of ink is part of something
        costs[np.asarray(joined).sum(axis=1) > 1] = SKIP_LARGE
    score, path, skipped = max((best_path(list(order), scores, costs, boxes, links, max_pieces, height) for order in orders), key=lambda found: found[0])
    path.sort(key=lambda run: union_box(boxes[list(run)])[0] + union_box(boxes[list(run)])[2])
    index = {run: i for i, run in enumerate(runs)}
    return Segmentation(path, np.array([shares[index[run]] for run in path]).reshape(len(path), shares.shape[1]),
                        sorted(skipped), score)
