"""A small convolutional network behind the network contract (digits.nets.base), in NumPy.

Architecture, given to the constructor as sizes:

    convs=(16, 32), kernel=5, hidden=(128,)

    28x28x1 -> [conv kernel x kernel, `same` zero padding, stride 1 -> 2x2 max pool -> ReLU] per
    entry of `convs` (28 -> 14 -> 7 ...) -> flatten -> [dense -> ReLU] per entry of `hidden`
    -> dense to the 10 scores.

Pooling before ReLU gives the same values and gradients as ReLU before pooling (the max
commutes with the monotone ReLU, and a window whose maximum is <= 0 passes no gradient either
way) while the ReLU runs on a quarter of the values. Each conv -> pool -> ReLU stage is computed
fused (digits.nets.conv_stage: the same values and gradients as the separate layers of
digits.nets.layers, with fewer passes over memory); the training step keeps its large work
arrays per thread between steps (digits.nets.workspace).

Images are NHWC inside (see digits.nets.layers). Parameters, in `params` order:
    conv1_W (k, k, 1, F1), conv1_b (F1,), conv2_W (k, k, F1, F2), conv2_b (F2,), ...,
    fc1_W (side*side*F_last, H1), fc1_b (H1,), ..., out_W (H_last, K), out_b (K,)
K = 10 outputs, one per digit, or 11 with an eleventh, "not a digit" (`outputs=11`): trained on
drawings that are none of the digits (labelled NOT_A_DIGIT), it lets the network say so
(`not_a_digit`), while `scores` and `predict_proba` stay those of the ten digits.
float32 for training; any float dtype works (the tests check gradients in float64). The
computation runs in the dtype of the parameters.

Files: `cnn.npz` (digits.nets.npz_files: written atomically, checked when read) holds the
parameters by name plus the architecture (`convs`, `hidden`, `kernel`).
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from digits.blas import blas_single_threaded
from digits.constants import NOT_A_DIGIT, NUM_LABELS, SIDE
from digits.errors import WeightsError
from digits.nets import conv_stage, layers, npz_files
from digits.nets.base import Network, check_inputs, check_labels, checked_params
from digits.nets.workspace import Workspace
from digits.nets.minibatch import minibatch_options, train_minibatch
from digits.nets.training import Option, dropout_share, filter_counts

ARCHITECTURE = ("convs", "hidden", "kernel")       # saved beside the parameters in cnn.npz
                                                   # (and "outputs" when 11; absent: 10)
DEFAULT_CONVS, DEFAULT_HIDDEN, DEFAULT_KERNEL = (16, 32), (128,), 5
# How to train the default architecture, chosen by measurement (benchmarks/bench_cnn.py):
#     net, result = CNN.train(images, labels, lamb=RECIPE["lamb"], seed=0)
# lamb=30 is weight decay through the loss, lamb / (2 N) * squared weights for N = 60,000
# training images (an L2 coefficient of 5e-4 per example). 12 epochs (python main.py --model cnn,
# seeds 0, 1, 2): 99.56, 99.60, 99.51 % on the MNIST test set; with the conv input gradient summed
# in another order (the commit before) 99.49, 99.57, 99.49 %: +-0.05 points is noise. 8 epochs,
# seed 0: 99.43 %. With elastic distortions on top (distort="elastic", digits.nets.elastic; the
# commit before) 99.51, 99.50, 99.47 %: no gain.
RECIPE = {"epochs": 12, "batch_size": 128, "lr": 2e-3, "schedule": "cosine", "distort": True, "lamb": 30.0,
          "dropout": 0.0, "convs": DEFAULT_CONVS}
# The training step's large work arrays, kept per thread from one step to the next (digits.nets.workspace);
# `scores` has its own for each call, so that reading digits holds no memory between calls.
_TRAINING_WORK = Workspace()
PREDICT_BATCH = 256         # images per forward pass in `scores`: <= 0.5 MB of work arrays per image


def architecture_shapes(convs, hidden, kernel, outputs=NUM_LABELS):
    """The parameter names and shapes of an architecture, in order: {name: shape}."""
    convs, hidden, kernel = _check_architecture(convs, hidden, kernel)
    if int(outputs) not in (NUM_LABELS, NUM_LABELS + 1):
        raise ValueError(f"outputs {outputs}: 10 (the digits) or 11 (and 'not a digit')")
    shapes, channels, side = {}, 1, SIDE
    for i, filters in enumerate(convs, 1):
        shapes[f"conv{i}_W"] = (kernel, kernel, channels, filters)
        shapes[f"conv{i}_b"] = (filters,)
        channels, side = filters, side // 2
    width = side * side * channels
    for i, units in enumerate(hidden, 1):
        shapes[f"fc{i}_W"] = (width, units)
        shapes[f"fc{i}_b"] = (units,)
        width = units
    shapes["out_W"] = (width, int(outputs))
    shapes["out_b"] = (int(outputs),)
    return shapes


def _check_architecture(convs, hidden, kernel):
    """(convs, hidden, kernel) as tuples of ints and an int; ValueError naming what is wrong."""
    try:
        convs = tuple(int(c) for c in np.atleast_1d(convs))
        hidden = tuple(int(h) for h in np.atleast_1d(hidden)) if np.size(hidden) else ()
        kernel = int(kernel)
    except (TypeError, ValueError):
        raise ValueError(f"architecture convs={convs!r}, hidden={hidden!r}, kernel={kernel!r} is not made of whole numbers") from None
    if not 1 <= len(convs) <= 3 or min(convs) < 1:
        raise ValueError(f"convs {convs}: give 1 to 3 filter counts, each >= 1 (each conv halves the 28x28 image)")
    if any(h < 1 for h in hidden):
        raise ValueError(f"hidden {hidden}: each dense layer needs >= 1 unit")
    if kernel < 1 or kernel % 2 == 0 or kernel > SIDE:
        raise ValueError(f"kernel {kernel}: give an odd size from 1 to {SIDE} (`same` padding needs odd)")
    return convs, hidden, kernel


def _digit_shares(z, temperature=None):
    """All the scores z (m, outputs) float64 -> the digits' shares (m, 10): the softmax of the ten
    digits' scores divided by `temperature`, as Network.predict_proba computes it."""
    z = z[:, :NUM_LABELS] / (temperature or 1.0)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _none_share(z):
    """All the scores z (m, outputs) float64 -> (m,) the eleventh output's share of the softmax
    over all of them; zeros with ten outputs."""
    if z.shape[1] == NUM_LABELS:
        return np.zeros(z.shape[0])
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e[:, NOT_A_DIGIT] / e.sum(axis=1)


class CNN(Network):
    """`CNN(params, convs, hidden, kernel)` or `CNN.random(rng, convs, hidden, kernel)`."""

    kind = "cnn"
    FILES = ("cnn.npz",)
    LAMBDA = RECIPE["lamb"]
    LEARNS_NOT_A_DIGIT = True
    TRAINS_BY_EPOCH = True
    OPTIONS = minibatch_options(RECIPE["epochs"], RECIPE["batch_size"], RECIPE["lr"]) + (
        Option("dropout", dropout_share, RECIPE["dropout"], "share of the dense layer's units dropped at random in "
               "each training step (inverted dropout, training only), such as 0.5", "P"),
        Option("convs", filter_counts, RECIPE["convs"], "filters of each 5x5 convolution, such as 32,64 for a wider "
               "network (each epoch about 2.7 times as long); fine-tuning keeps the network's own", "F,F"))

    def __init__(self, params, convs=DEFAULT_CONVS, hidden=DEFAULT_HIDDEN, kernel=DEFAULT_KERNEL,
                 outputs=NUM_LABELS):
        super().__init__()
        self.convs, self.hidden, self.kernel = _check_architecture(convs, hidden, kernel)
        self.outputs = int(outputs)
        shapes = architecture_shapes(self.convs, self.hidden, self.kernel, self.outputs)
        self.params = checked_params(params, shapes, self.describe())

    @classmethod
    def random(cls, rng=None, convs=DEFAULT_CONVS, hidden=DEFAULT_HIDDEN, kernel=DEFAULT_KERNEL,
               dtype=np.float32, outputs=NUM_LABELS):
        """He initialisation: weights ~ N(0, 2 / fan_in), biases 0. `rng`: a numpy Generator or seed."""
        shapes = architecture_shapes(convs, hidden, kernel, outputs)
        return cls(layers.he_init(shapes, np.random.default_rng(rng), dtype), convs, hidden, kernel, outputs)

    @property
    def dtype(self):
        return self.params["out_W"].dtype

    def describe(self):
        parts = [f"conv{c}-pool" for c in self.convs] + [f"fc{h}" for h in self.hidden]
        return f"CNN {'-'.join(parts)} ({self.kernel}x{self.kernel})" + \
            (", not-a-digit output" if self.outputs > NUM_LABELS else "")

    def first_layer(self):
        """The first convolution's filters, (filters, k, k)."""
        return "first-layer filters", np.moveaxis(self.params["conv1_W"][:, :, 0, :], -1, 0)

    def architecture(self):
        arch = {"convs": self.convs, "hidden": self.hidden, "kernel": self.kernel}
        return arch if self.outputs == NUM_LABELS else {**arch, "outputs": self.outputs}

    # Forward and backward --------------------------------------------------------------------

    def _forward(self, X, work=None, dropout=None):
        """(m, 784) -> scores (m, outputs) and the caches of every layer; `work`: see conv_stage;
        dropout: None (reading), or (p, rng) for the hidden dense layers in training."""
        p = self.params
        a = np.asarray(X).astype(self.dtype, copy=False).reshape(-1, SIDE, SIDE, 1)
        caches = []
        for i in range(1, len(self.convs) + 1):
            a, stage_cache = conv_stage.stage_forward(a, p[f"conv{i}_W"], p[f"conv{i}_b"], 2, work, f"conv{i}")
            caches.append(stage_cache)
        scores, dense_cache = layers.dense_stack_forward(a, p, len(self.hidden), *(dropout or ()))
        return scores, (caches, dense_cache)

    def all_scores(self, X):
        """(m, 784) inputs in [0, 1] -> (m, outputs) scores, PREDICT_BATCH images at a time, the
        batches sharing their work arrays (freed when the call returns). More than one batch:
        shared out between two threads (on a machine with two or more CPUs), each with
        single-threaded BLAS, as in training: the pooling and copies use both cores too (scoring
        the 10,000 MNIST test images after each epoch took 5.3 s on one thread, the other core
        being busy with other work; one thread with two-threaded BLAS waits for the busy core)."""
        X = check_inputs(X)
        out = np.empty((X.shape[0], self.outputs), dtype=self.dtype)
        starts = range(0, X.shape[0], PREDICT_BATCH)
        work = Workspace() if len(starts) > 1 else None     # a threading.local: each thread its own arrays

        def score(start):
            out[start:start + PREDICT_BATCH] = self._forward(X[start:start + PREDICT_BATCH], work)[0]

        threads = min(2, os.cpu_count() or 1, len(starts))
        if threads < 2:
            for start in starts:
                score(start)
            return out
        with blas_single_threaded(), ThreadPoolExecutor(threads, thread_name_prefix="scores") as pool:
            for _ in pool.map(score, starts):
                pass
        return out

    def scores(self, X):
        """(m, 784) inputs in [0, 1] -> (m, 10): the digits' scores."""
        return self.all_scores(X)[:, :NUM_LABELS]

    def not_a_digit(self, X):
        """(m,): the eleventh output's share of the softmax over all eleven (0 without one)."""
        if self.outputs == NUM_LABELS:
            return super().not_a_digit(X)
        return _none_share(np.asarray(self.all_scores(X), dtype=np.float64))

    def probabilities_and_none(self, X):
        """(predict_proba(X), not_a_digit(X)) from one forward pass (the two calls would run it twice)."""
        z = np.asarray(self.all_scores(X), dtype=np.float64)
        return _digit_shares(z, self.temperature), _none_share(z)

    def features(self, X):
        """(m, 784) -> (m, last hidden width): the activations the output layer reads."""
        X = check_inputs(X)
        return np.concatenate([layers.dense_stack_features(self._forward(X[i:i + PREDICT_BATCH])[1][1])
                               for i in range(0, X.shape[0], PREDICT_BATCH)])

    def loss_and_scores(self, X, y, lamb=0.0, dropout=None):
        """`loss` plus the batch's scores (m, outputs), which the trainer uses for its accuracy.
        With an eleventh output, y may hold NOT_A_DIGIT. dropout: None, or (p, rng): the hidden
        dense layers' units dropped with probability p, the masks drawn from the Generator rng
        (layers.dropout_forward; the loss and gradient are then those of that thinned network)."""
        X = check_inputs(X)
        m = X.shape[0]
        y = check_labels(y, m)
        p = self.params
        scores, (caches, dense_cache) = self._forward(X, _TRAINING_WORK, dropout)
        J, d = layers.softmax_loss(scores, y)
        grads = {}
        d = layers.dense_stack_backward(d, dense_cache, grads)
        for i in range(len(self.convs), 0, -1):
            d, grads[f"conv{i}_W"], grads[f"conv{i}_b"] = conv_stage.stage_backward(d, caches[i - 1], need_dx=i > 1)
        J = layers.weight_decay(J, grads, p, lamb, m)
        return J, {name: grads[name] for name in p}, scores

    @classmethod
    def train(cls, images, labels, *, lamb, seed, validation=None, report=print, progress=None,
              epochs=RECIPE["epochs"], batch_size=RECIPE["batch_size"], lr=RECIPE["lr"], dropout=RECIPE["dropout"],
              convs=None, start=None, sample=None):
        """The default architecture with `convs` filters (None: RECIPE's, or `start`'s),
        He-initialised from `seed` (or `start` trained on), trained by minibatch Adam on batches
        distorted on the fly, the learning rate lowered along a half cosine; `dropout`: the share
        of the dense layer's units dropped in each step (0: none)."""
        labels = np.asarray(labels)
        outputs = NUM_LABELS + 1 if labels.size and labels.max() == NOT_A_DIGIT else NUM_LABELS
        if start is not None and start.outputs < outputs:
            raise WeightsError("the network to fine-tune (--fine-tune) has no 'not a digit' output to learn "
                               "--non-digits with; leave --non-digits out, or train a new one")
        if convs is None:
            convs = start.convs if start is not None else RECIPE["convs"]
        convs = _check_architecture(convs, DEFAULT_HIDDEN, DEFAULT_KERNEL)[0]
        if start is not None and start.convs != convs:
            raise ValueError(f"the network to train on has convolutions of {start.convs} filters, not {convs}")
        net = start if start is not None else cls.random(np.random.default_rng(seed), convs=convs, outputs=outputs)
        result = train_minibatch(net, images, labels, epochs=epochs, batch_size=batch_size, lr=lr,
                                 rng=np.random.default_rng([seed, 4]), validation=validation,
                                 distort=RECIPE["distort"], schedule=RECIPE["schedule"], report=report,
                                 progress=progress, lamb=lamb, dropout=dropout, sample=sample)
        return net, result

    @classmethod
    def describe_training(cls, options, lamb):
        net = cls.random(0, convs=options.get("convs", RECIPE["convs"]))
        epochs = options["epochs"]
        return (f"{net.describe()}, {epochs} epoch{'s' if epochs != 1 else ''} of batches of {options['batch_size']}, "
                f"Adam lr {options['lr']}, weight decay {lamb}, "
                f"{'distorted batches, ' if RECIPE['distort'] else ''}"
                f"{'dropout %g, ' % options['dropout'] if options.get('dropout') else ''}float32")

    def loss(self, X, y, lamb=0.0):
        """J = mean softmax cross-entropy + lamb / (2m) * (sum of squared weights, biases
        excluded), and its gradient keyed like `params` (the MLP's convention)."""
        J, grads, _ = self.loss_and_scores(X, y, lamb)
        return J, grads

    # Files ---------------------------------------------------------------------------------

    @classmethod
    def saved_in(cls, folder):
        return os.path.isfile(os.path.join(folder, cls.FILES[0]))

    def save(self, folder):
        """Write `folder/cnn.npz` (digits.nets.npz_files), all or nothing; returns its path."""
        return npz_files.save(self, folder, self.architecture())

    @classmethod
    def load(cls, folder, advice="train one with: python main.py"):
        """The network saved in `folder/cnn.npz`, checked (digits.nets.npz_files: nothing in the
        file is trusted); WeightsError (one line ending in `advice`) otherwise."""
        def shapes_of(meta):
            return architecture_shapes(meta["convs"], meta["hidden"], meta["kernel"],
                                       int(meta.get("outputs", NUM_LABELS)))
        params, meta = npz_files.read(folder, cls, advice, ARCHITECTURE + ("outputs",), shapes_of)
        net = cls(params, meta["convs"], meta["hidden"], meta["kernel"], int(meta.get("outputs", NUM_LABELS)))
        return npz_files.apply_temperature(net, meta)
