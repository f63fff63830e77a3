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
    fc1_W (side*side*F_last, H1), fc1_b (H1,), ..., out_W (H_last, 10), out_b (10,)
float32 for training; any float dtype works (the tests check gradients in float64). The
computation runs in the dtype of the parameters.

Files: `cnn.npz` (digits.nets.npz_files: written atomically, checked when read) holds the
parameters by name plus the architecture (`convs`, `hidden`, `kernel`).
"""
import os

import numpy as np

from digits.constants import NUM_LABELS, SIDE
from digits.nets import conv_stage, layers, npz_files
from digits.nets.base import Network, check_inputs, check_labels, checked_params
from digits.nets.workspace import Workspace
from digits.nets.minibatch import minibatch_options, train_minibatch

ARCHITECTURE = ("convs", "hidden", "kernel")       # saved beside the parameters in cnn.npz
DEFAULT_CONVS, DEFAULT_HIDDEN, DEFAULT_KERNEL = (16, 32), (128,), 5
# How to train the default architecture, chosen by measurement (benchmarks/bench_cnn.py):
#     net, result = CNN.train(images, labels, lamb=RECIPE["lamb"], seed=0)
# lamb=30 is weight decay through the loss, lamb / (2 N) * squared weights for N = 60,000
# training images (an L2 coefficient of 5e-4 per example).
RECIPE = {"epochs": 8, "batch_size": 128, "lr": 2e-3, "schedule": "cosine", "distort": True, "lamb": 30.0}
# The training step's large work arrays, kept per thread from one step to the next (digits.nets.workspace);
# `scores` has its own for each call, so that reading digits holds no memory between calls.
_TRAINING_WORK = Workspace()
PREDICT_BATCH = 256         # images per forward pass in `scores`: <= 0.5 MB of work arrays per image


def architecture_shapes(convs, hidden, kernel):
    """The parameter names and shapes of an architecture, in order: {name: shape}."""
    convs, hidden, kernel = _check_architecture(convs, hidden, kernel)
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
    shapes["out_W"] = (width, NUM_LABELS)
    shapes["out_b"] = (NUM_LABELS,)
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


class CNN(Network):
    """`CNN(params, convs, hidden, kernel)` or `CNN.random(rng, convs, hidden, kernel)`."""

    kind = "cnn"
    FILES = ("cnn.npz",)
    LAMBDA = RECIPE["lamb"]
    OPTIONS = minibatch_options(RECIPE["epochs"], RECIPE["batch_size"], RECIPE["lr"])

    def __init__(self, params, convs=DEFAULT_CONVS, hidden=DEFAULT_HIDDEN, kernel=DEFAULT_KERNEL):
        super().__init__()
        self.convs, self.hidden, self.kernel = _check_architecture(convs, hidden, kernel)
        shapes = architecture_shapes(self.convs, self.hidden, self.kernel)
        self.params = checked_params(params, shapes, self.describe())

    @classmethod
    def random(cls, rng=None, convs=DEFAULT_CONVS, hidden=DEFAULT_HIDDEN, kernel=DEFAULT_KERNEL,
               dtype=np.float32):
        """He initialisation: weights ~ N(0, 2 / fan_in), biases 0. `rng`: a numpy Generator or seed."""
        params = layers.he_init(architecture_shapes(convs, hidden, kernel), np.random.default_rng(rng), dtype)
        return cls(params, convs, hidden, kernel)

    @property
    def dtype(self):
        return self.params["out_W"].dtype

    def describe(self):
        parts = [f"conv{c}-pool" for c in self.convs] + [f"fc{h}" for h in self.hidden]
        return f"CNN {'-'.join(parts)} ({self.kernel}x{self.kernel})"

    def first_layer(self):
        """The first convolution's filters, (filters, k, k)."""
        return "first-layer filters", np.moveaxis(self.params["conv1_W"][:, :, 0, :], -1, 0)

    def architecture(self):
        return {"convs": self.convs, "hidden": self.hidden, "kernel": self.kernel}

    # Forward and backward --------------------------------------------------------------------

    def _forward(self, X, work=None):
        """(m, 784) -> scores (m, 10) and the caches of every layer; `work`: see conv_stage."""
        p = self.params
        a = np.asarray(X).astype(self.dtype, copy=False).reshape(-1, SIDE, SIDE, 1)
        caches = []
        for i in range(1, len(self.convs) + 1):
            a, stage_cache = conv_stage.stage_forward(a, p[f"conv{i}_W"], p[f"conv{i}_b"], 2, work, f"conv{i}")
            caches.append(stage_cache)
        scores, dense_cache = layers.dense_stack_forward(a, p, len(self.hidden))
        return scores, (caches, dense_cache)

    def scores(self, X):
        """(m, 784) inputs in [0, 1] -> (m, 10) scores, PREDICT_BATCH images at a time, the
        batches sharing their work arrays (freed when the call returns)."""
        X = check_inputs(X)
        out = np.empty((X.shape[0], NUM_LABELS), dtype=self.dtype)
        work = Workspace() if X.shape[0] > PREDICT_BATCH else None
        for start in range(0, X.shape[0], PREDICT_BATCH):
            out[start:start + PREDICT_BATCH] = self._forward(X[start:start + PREDICT_BATCH], work)[0]
        return out

    def loss_and_scores(self, X, y, lamb=0.0):
        """`loss` plus the batch's scores (m, 10), which the trainer uses for its accuracy."""
        X = check_inputs(X)
        m = X.shape[0]
        y = check_labels(y, m)
        p = self.params
        scores, (caches, dense_cache) = self._forward(X, _TRAINING_WORK)
        J, d = layers.softmax_loss(scores, y)
        grads = {}
        d = layers.dense_stack_backward(d, dense_cache, grads)
        for i in range(len(self.convs), 0, -1):
            d, grads[f"conv{i}_W"], grads[f"conv{i}_b"] = conv_stage.stage_backward(d, caches[i - 1], need_dx=i > 1)
        J = layers.weight_decay(J, grads, p, lamb, m)
        return J, {name: grads[name] for name in p}, scores

    @classmethod
    def train(cls, images, labels, *, lamb, seed, validation=None, report=print, progress=None,
              epochs=RECIPE["epochs"], batch_size=RECIPE["batch_size"], lr=RECIPE["lr"]):
        """The default architecture, He-initialised from `seed`, trained by minibatch Adam on
        batches distorted on the fly, the learning rate lowered along a half cosine."""
        net = cls.random(np.random.default_rng(seed))
        result = train_minibatch(net, images, labels, epochs=epochs, batch_size=batch_size, lr=lr,
                                 rng=np.random.default_rng([seed, 4]), validation=validation,
                                 distort=RECIPE["distort"], schedule=RECIPE["schedule"], report=report,
                                 progress=progress, lamb=lamb)
        return net, result

    @classmethod
    def describe_training(cls, options, lamb):
        net = cls.random(0)
        epochs = options["epochs"]
        return (f"{net.describe()}, {epochs} epoch{'s' if epochs != 1 else ''} of batches of {options['batch_size']}, "
                f"Adam lr {options['lr']}, weight decay {lamb}, "
                f"{'distorted batches, ' if RECIPE['distort'] else ''}float32")

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
        """The network saved in `folder/cnn.npz`, checked; WeightsError (one line ending in
        `advice`) if it is missing, not an npz, of another kind or format, or damaged."""
        arrays, fail = npz_files.read(folder, cls, advice)
        path = os.path.join(os.fspath(folder), cls.FILES[0])
        npz_files.whole_numbers(arrays, ARCHITECTURE, path, fail)
        try:
            shapes = architecture_shapes(arrays["convs"], arrays["hidden"], arrays["kernel"])
        except ValueError as e:
            fail(f"{path} has an impossible architecture: {e}")
        params = npz_files.float_params(arrays, shapes, path, fail, ARCHITECTURE)
        net = cls(params, arrays["convs"], arrays["hidden"], arrays["kernel"])
        return npz_files.set_temperature(net, arrays, path, fail)
