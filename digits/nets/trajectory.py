"""The stroke reader: a small network that reads the pen's path, joined with the picture's reading.

A drawing made on a canvas or a tablet is more than its picture: the order and direction of its
strokes say how it was written. A 1 with a long flag and a 7 look alike drawn, but the 1's flag
goes up into the stem and the 7's bar goes right, then down; a 4 written in one stroke with a
loop looks like a 6, but it is written downwards first. Online recognition (pendigits itself was
collected for it: Alimoglu and Alpaydin 1996) reads the path, and its mistakes are not the
picture's. This module reads the path:

    strokes --path_features--> (FEATURES,) --MLP--> ten shares --join--> with the picture's shares

`path_features`: the strokes (canvas pixels, y downwards, in the order drawn) without dots, moved
and scaled into [-1, 1] about their box's centre (the aspect kept), then POINTS points spaced
evenly along the whole path, pen-up jumps from one stroke to the next included: each point's
(x, y), the direction of the path there (cos, sin), and whether the pen was down; then the box's
width and height and the number of strokes (1, 2, 3, 4 or more). Size, place, brush and how
densely the points were sampled do not change them.

`TrajectoryReader`: a dense ReLU network FEATURES -> 256 -> 256 -> 10 or 11 (the layers of
`digits.nets.layers`), trained with Adam on pen digits, each drawn again bent, rotated, slanted
and stretched (`digits.imaging.distort`), and (the eleventh output) on drawings that are none of
the digits (`digits.data.non_digits`, as the CNNs learn them). Its ten digit shares are a softmax
over the digits' outputs alone, its "none" the eleventh output's share of the softmax over all.

`join`: the picture's shares p and the path's shares q give p^(1 - w) q^w, normalised (a
weighted geometric mean: a digit either reader finds unlikely stays unlikely); the probability
that the drawing is none of the digits is (1 - w) times the picture network's plus w times the
path's (the picture network's alone for a reader without an eleventh output). The weight w is
chosen by writer groups and kept in the reader's file (`benchmarks.stroke_reader_groups`); the
"not sure" line of the joined shares is the picture network's own unless the file names one. A
network folder holding `strokes.npz` reads every drawing that comes with its strokes (the apps,
the API) through both; image files only through the picture.
"""
import os

import numpy as np

from digits.constants import NOT_A_DIGIT, NUM_LABELS
from digits.errors import WeightsError
from digits.imaging import strokes as stroke_drawing
from digits.imaging.distort import distort_strokes, elastic_strokes
from digits.imaging.prepare import DOT, DOT_SHARE
from digits.nets import npz_files
from digits.nets.base import check_labels
from digits.nets.cnn import _digit_shares, _none_share
from digits.nets.layers import dense_stack_forward, dense_stack_backward, he_init, softmax_loss, weight_decay
from digits.nets.optimizers import Adam, learning_rate

FILE = "strokes.npz"
POINTS = 32                     # points along the path
MAX_STROKES = 4                 # strokes counted one-hot: 1, 2, 3, 4 or more
FEATURES = 5 * POINTS + 2 + MAX_STROKES
HIDDEN = (256, 256)
# Training: 10 bent copies of each pen digit besides itself, 40 epochs of batches of 128, Adam at
# 1e-3 on a cosine schedule. Chosen once, not tuned: benchmarks.stroke_reader_groups measures them.
COPIES, EPOCHS, BATCH, LEARNING_RATE, LAMBDA = 10, 40, 128, 1e-3, 0.01
ELASTIC = 0.05                  # the copies' bending (digits.imaging.distort.elastic_strokes)
NON_DIGITS = 16000              # drawings that are none of the digits, for the eleventh output (as the CNNs')
JOIN_WEIGHT = 0.3               # the path's weight in the join, when the file does not say
# A personal reader (`fine_tune`, python main.py --fine-tune DIR --samples FILE): 20 bent copies of
# each sample, 1,000 drawings that are none beside them, 10 epochs at 1e-4 (benchmarks.personal_paths).
PERSONAL_COPIES, PERSONAL_NON_DIGITS, PERSONAL_EPOCHS, PERSONAL_LR = 20, 1000, 10, 1e-4


def without_dots(strokes, brush=stroke_drawing.BRUSH):
    """The strokes that are not dots, as `digits.imaging.prepare.without_dots` wipes them from the
    picture: a stroke no longer (its brush included) than DOT brush widths and DOT_SHARE of the
    longest stroke. All of them if every one is a dot."""
    sides = np.array([float(np.max(np.ptp(s, axis=0))) + brush for s in strokes])
    keep = [s for s, side in zip(strokes, sides) if not (side <= DOT * brush and side <= DOT_SHARE * sides.max())]
    return keep or list(strokes)


def path_features(strokes, brush=stroke_drawing.BRUSH):
    """One drawing's strokes (sequences of (x, y) canvas pixels, y downwards, in the order drawn)
    -> (FEATURES,) float64: see the module docstring. ValueError if there is no point."""
    strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    strokes = without_dots([s for s in strokes if len(s)], brush) if any(len(s) for s in strokes) else []
    if not strokes:
        raise ValueError("no strokes to read")
    points = np.concatenate(strokes)
    lo, hi = points.min(axis=0), points.max(axis=0)
    size = max(float(np.max(hi - lo)), 1e-9)
    # The path: every stroke, and a pen-up jump from each stroke's end to the next one's start.
    path = (points - (lo + hi) / 2) * (2 / size)
    pen_down = np.ones(len(path))
    pen_down[np.cumsum([len(s) for s in strokes[:-1]], dtype=np.intp)] = 0.0    # the segment ending at a stroke's start
    length = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))))
    if length[-1] <= 0:                 # a single point, or strokes that never move
        length = np.linspace(0.0, 1.0, len(path))
    along = np.linspace(0.0, length[-1], POINTS)
    x, y = np.interp(along, length, path[:, 0]), np.interp(along, length, path[:, 1])
    segment = np.clip(np.searchsorted(length, along, side="right"), 1, len(path) - 1)
    dx, dy = np.gradient(x), np.gradient(y)
    norm = np.hypot(dx, dy)
    norm[norm == 0] = 1.0
    count = np.zeros(MAX_STROKES)
    count[min(len(strokes), MAX_STROKES) - 1] = 1.0
    return np.concatenate((x, y, dx / norm, dy / norm, pen_down[segment], (hi - lo) / size, count))


def features_of(drawings, brush=stroke_drawing.BRUSH):
    """(m, FEATURES) for m drawings, each a list of strokes."""
    return np.array([path_features(s, brush) for s in drawings]).reshape(-1, FEATURES)


def join(picture_shares, path_shares, weight):
    """The joined shares: picture^(1 - weight) * path^weight, normalised row by row ((m, 10) or (10,))."""
    p = np.asarray(picture_shares, dtype=np.float64)
    q = np.asarray(path_shares, dtype=np.float64)
    tiny = np.finfo(np.float64).tiny
    logs = (1 - weight) * np.log(np.maximum(p, tiny)) + weight * np.log(np.maximum(q, tiny))
    logs -= logs.max(axis=-1, keepdims=True)
    e = np.exp(logs)
    return e / e.sum(axis=-1, keepdims=True)


def join_none(picture_none, path_none, weight):
    """The joined probability of none of the digits: (1 - weight) picture's + weight path's."""
    return (1 - weight) * np.asarray(picture_none, dtype=np.float64) + weight * np.asarray(path_none, dtype=np.float64)


def training_paths(digits, copies, rng, width=stroke_drawing.CANVAS_WIDTH, height=stroke_drawing.CANVAS_HEIGHT):
    """Features and labels of pen digits (digits.data.pendigits.PenDigit, tablet coordinates):
    each as written, and `copies` times bent, rotated, slanted and stretched, each placed on a
    width x height canvas as the apps receive strokes."""
    X, y = [], []
    for d in digits:
        for k in range(copies + 1):
            s = d.strokes if k == 0 else distort_strokes(elastic_strokes(d.strokes, rng, ELASTIC), rng)
            X.append(path_features(stroke_drawing.fit_to_canvas(s, width, height, rng)))
            y.append(d.label)
    return np.array(X).reshape(-1, FEATURES), np.array(y, dtype=np.int64)


def non_digit_paths(count, seed, pen_digits=None, width=stroke_drawing.CANVAS_WIDTH,
                    height=stroke_drawing.CANVAS_HEIGHT):
    """Features of `count` drawings that are none of the digits (digits.data.non_digits, its
    families in turn; two of `pen_digits` written over each other among them), placed on the canvas."""
    from digits.data import non_digits
    rng = np.random.default_rng([seed, 5])
    families = [f for f in non_digits.FAMILIES if pen_digits or f != "overlaid digits"]
    return features_of([stroke_drawing.fit_to_canvas(non_digits.draw(families[i % len(families)], rng, pen_digits),
                                                     width, height, rng) for i in range(count)])


class TrajectoryReader:
    """Ten shares from the features of a drawing's path (`path_features`), and with an eleventh
    output (`outputs` 11), the probability that it is none of the digits."""

    kind = "strokes"
    FILES = (FILE,)
    temperature = None

    def __init__(self, params=None, weight=JOIN_WEIGHT, sure_above=None, outputs=NUM_LABELS, network=None):
        if outputs not in (NUM_LABELS, NUM_LABELS + 1):
            raise ValueError(f"a stroke reader has 10 or 11 outputs, not {outputs}")
        self.outputs = outputs
        self.params = params if params is not None else he_init(self.shapes(outputs), np.random.default_rng(0),
                                                                np.float32)
        self.weight = float(weight)
        self.sure_above = sure_above        # "not sure" below this joined share; None: the picture's network's line
        self.network = network              # the kind of network it is joined with; None: whatever its folder holds

    @staticmethod
    def shapes(outputs=NUM_LABELS):
        sizes = (FEATURES,) + HIDDEN
        shapes = {}
        for i in range(1, len(sizes)):
            shapes[f"fc{i}_W"], shapes[f"fc{i}_b"] = (sizes[i - 1], sizes[i]), (sizes[i],)
        shapes["out_W"], shapes["out_b"] = (sizes[-1], outputs), (outputs,)
        return shapes

    def scores(self, F):
        """(m, FEATURES) -> (m, outputs) logits."""
        F = np.asarray(F, dtype=self.params["out_W"].dtype).reshape(-1, FEATURES)
        return dense_stack_forward(F, self.params, len(HIDDEN))[0]

    def loss(self, F, y, lamb=0.0):
        """Softmax cross-entropy over the outputs, averaged over the batch, plus lamb/(2m) *
        squared weights, and its gradient keyed like `params`. y: 0-9, or NOT_A_DIGIT (10) with 11 outputs."""
        F = np.asarray(F, dtype=self.params["out_W"].dtype).reshape(-1, FEATURES)
        y = check_labels(y, F.shape[0])
        if y.size and (y.min() < 0 or y.max() >= self.outputs):
            raise ValueError(f"labels must be 0 to {self.outputs - 1} for a reader with {self.outputs} outputs")
        scores, cache = dense_stack_forward(F, self.params, len(HIDDEN))
        J, dscores = softmax_loss(scores, y)
        grads = {}
        dense_stack_backward(dscores, cache, grads)
        return weight_decay(J, grads, self.params, lamb, F.shape[0]), grads

    def probabilities_and_none(self, F):
        """((m, 10) the digits' shares, a softmax over the ten digits' outputs alone; (m,) the
        eleventh output's share of the softmax over all, 0 for a reader without it), as the CNN's."""
        z = np.asarray(self.scores(F), dtype=np.float64)
        return _digit_shares(z), _none_share(z)

    def predict_proba(self, F):
        """(m, 10) the digits' shares."""
        return self.probabilities_and_none(F)[0]

    def read(self, strokes, brush=stroke_drawing.BRUSH):
        """(the ten shares (10,), the probability of none of the digits) of one drawing's strokes."""
        shares, none = self.probabilities_and_none(path_features(strokes, brush)[None])
        return shares[0], float(none[0])

    def joined(self, picture_shares, picture_none, F):
        """Drawings' shares (m, 10) and probabilities of none of the digits (m,), read from their
        pictures, joined with the readings of their paths' features F (m, FEATURES): (shares, none).
        Without an eleventh output the pictures' "none" stands; with one, the two are averaged
        with the join's weight (`join_none`)."""
        shares, none = self.probabilities_and_none(F)
        if self.outputs > NUM_LABELS:
            picture_none = join_none(picture_none, none, self.weight)
        return join(picture_shares, shares, self.weight), picture_none

    @classmethod
    def train(cls, digits, seed=0, copies=COPIES, epochs=EPOCHS, lamb=LAMBDA, non_digits=0, report=None):
        """A reader trained on pen digits (PenDigit, tablet coordinates) and `copies` bent copies
        of each, and with `non_digits` > 0 on that many drawings that are none of the digits
        (labelled NOT_A_DIGIT, an eleventh output; two of `digits` written over each other among
        them); seeded: the same digits and seed give the same reader."""
        rng = np.random.default_rng([seed, 11])
        X, y = training_paths(digits, copies, rng)
        if non_digits:
            X = np.vstack([X, non_digit_paths(non_digits, seed, digits)])
            y = np.concatenate([y, np.full(non_digits, NOT_A_DIGIT, dtype=np.int64)])
        X = X.astype(np.float32)
        outputs = NUM_LABELS + 1 if non_digits else NUM_LABELS
        net = cls(he_init(cls.shapes(outputs), rng, np.float32), outputs=outputs)
        adam = Adam(net.params)
        steps = epochs * -(-len(y) // BATCH)
        step = 0
        for epoch in range(epochs):
            order = rng.permutation(len(y))
            total = 0.0
            for i in range(0, len(y), BATCH):
                batch = order[i:i + BATCH]
                J, grads = net.loss(X[batch], y[batch], lamb)
                adam.step(net.params, grads, learning_rate(LEARNING_RATE, "cosine", step, steps, epoch))
                step += 1
                total += J * len(batch)
            if report:
                report(f"epoch {epoch + 1}/{epochs}: cost {total / len(y):.4f}")
        return net

    def fine_tune(self, digits, seed=0, copies=PERSONAL_COPIES, epochs=PERSONAL_EPOCHS, lr=PERSONAL_LR,
                  non_digits=PERSONAL_NON_DIGITS):
        """Go on training this reader on one writer's digits (PenDigit-like: label, strokes in
        tablet coordinates, y upwards; `samples_as_digits` makes them from the apps' samples),
        `copies` bent copies of each, with `non_digits` drawings that are none of the digits
        beside them (a reader with an eleventh output), so that it keeps what "none" looks like:
        `epochs` passes of Adam at a constant `lr`. Seeded; returns self."""
        rng = np.random.default_rng([seed, 13])
        X, y = training_paths(digits, copies, rng)
        if non_digits and self.outputs > NUM_LABELS:
            X = np.vstack([X, non_digit_paths(non_digits, seed)])
            y = np.concatenate([y, np.full(non_digits, NOT_A_DIGIT, dtype=np.int64)])
        X = X.astype(np.float32)
        adam = Adam(self.params)
        for _ in range(epochs):
            order = rng.permutation(len(y))
            for i in range(0, len(y), BATCH):
                batch = order[i:i + BATCH]
                adam.step(self.params, self.loss(X[batch], y[batch])[1], lr)
        return self

    def save(self, folder):
        """Write `folder`/strokes.npz (atomically) with the join weight, the "not sure" line and
        the kind of network it is joined with."""
        return npz_files.save(self, folder, {"points": POINTS, "hidden": list(HIDDEN), "outputs": self.outputs},
                              {"weight": self.weight, "sure_above": self.sure_above}, {"network": self.network})

    @classmethod
    def load(cls, folder, advice):
        def shapes_of(meta):
            outputs = int(meta["outputs"]) if "outputs" in meta else NUM_LABELS
            if int(meta["points"]) != POINTS or [int(h) for h in np.atleast_1d(meta["hidden"])] != list(HIDDEN) \
                    or outputs not in (NUM_LABELS, NUM_LABELS + 1):
                raise ValueError(f"{int(meta['points'])} points, hidden {np.atleast_1d(meta['hidden']).tolist()}, "
                                 f"{outputs} outputs; this version reads {POINTS} points, hidden {list(HIDDEN)}, "
                                 f"10 or 11 outputs")
            return cls.shapes(outputs)
        params, meta = npz_files.read(folder, cls, advice, ("points", "hidden", "outputs"), shapes_of)
        weight = float(meta["weight"]) if "weight" in meta else JOIN_WEIGHT
        sure = float(meta["sure_above"]) if "sure_above" in meta else None
        outputs = int(meta["outputs"]) if "outputs" in meta else NUM_LABELS
        return cls(params, weight, sure, outputs, str(meta["network"]) if "network" in meta else None)


def samples_as_digits(rows):
    """The apps' samples (`digits.samples.SampleStore.rows()`: label, strokes in canvas pixels,
    y downwards) as PenDigit, their strokes in tablet coordinates (y upwards), for `fine_tune`."""
    from digits.data.pendigits import PenDigit
    return [PenDigit(int(r["label"]), 0, [np.asarray(s, dtype=np.float64).reshape(-1, 2) * [1, -1]
                                          for s in r["strokes"] if len(s)])
            for r in rows if any(len(s) for s in r["strokes"])]


def attach(net, folder, advice):
    """`net` with `net.stroke_reader` set: the reader saved in `folder`, or None if it has none
    or one joined with another kind of network (a folder may hold several kinds: `weights/`).
    WeightsError (one line, ending in `advice`) if the file is there but damaged."""
    net.stroke_reader = None
    if os.path.lexists(os.path.join(folder, FILE)):
        reader = TrajectoryReader.load(folder, advice)
        if reader.network in (None, net.kind):
            net.stroke_reader = reader
    return net


def joined_with(folder):
    """Which network the stroke reader in `folder` is joined with: None if there is no reader,
    "" if its file names no kind (any network in the folder), "?" if it cannot be read, else the kind."""
    if not os.path.lexists(os.path.join(folder, FILE)):
        return None
    try:
        return TrajectoryReader.load(folder, "").network or ""
    except WeightsError:
        return "?"


def shares(net, picture_shares, picture_none, strokes, brush=stroke_drawing.BRUSH):
    """(shares, none, sure_above): a drawing's shares and probability of none of the digits from its
    picture, joined with its path's where `net` has a stroke reader and the strokes are known; and
    the "not sure" line that goes with them."""
    reader = getattr(net, "stroke_reader", None)
    if reader is None or strokes is None or not any(len(s) for s in strokes):
        return picture_shares, picture_none, net.sure_above
    joined, none = reader.joined(np.asarray(picture_shares)[None], np.array([picture_none]),
                                 path_features(strokes, brush)[None])
    return joined[0], float(none[0]), net.sure_above if reader.sure_above is None else reader.sure_above
