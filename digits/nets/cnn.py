"""A small convolutional network behind the network contract (digits.nets.base), in NumPy.

Architecture, given to the constructor as sizes:

    convs=(16, 32), kernel=5, hidden=(128,)

    28x28x1 -> [conv kernel x kernel, `same` zero padding, stride 1 -> 2x2 max pool -> ReLU] per
    entry of `convs` (28 -> 14 -> 7 ...) -> flatten -> [dense -> ReLU] per entry of `hidden`
    -> dense to the 10 scores.

Pooling before ReLU gives the same values and gradients as ReLU before pooling (the max
commutes with the monotone ReLU, and a window whose maximum is <= 0 passes no gradient either
way) while the ReLU runs on a quarter of the values.

Images are NHWC inside (see digits.nets.layers). Parameters, in `params` order:
    conv1_W (k, k, 1, F1), conv1_b (F1,), conv2_W (k, k, F1, F2), conv2_b (F2,), ...,
    fc1_W (side*side*F_last, H1), fc1_b (H1,), ..., out_W (H_last, 10), out_b (10,)
float32 for training; any float dtype works (the tests check gradients in float64). The
computation runs in the dtype of the parameters.

Files: `cnn.npz` (numpy.savez, written atomically) holds the parameters by name plus `kind`
("cnn"), `format` (FORMAT), the architecture (`convs`, `hidden`, `kernel`) and optionally
`temperature` (the calibration of predict_proba; absent when the network's `temperature` is
None, i.e. not calibrated).
"""
import os
import re

import numpy as np

from digits.constants import NUM_LABELS, SIDE
from digits.errors import OutputError, WeightsError
from digits.files import atomic_write, check_output_dir, make_output_dir, open_input
from digits.nets import layers
from digits.nets.base import Network, check_inputs, check_matrix
from digits.nets.calibration import MAX_TEMPERATURE, MIN_TEMPERATURE, valid_temperature
from digits.nets.npz_files import READ_ERRORS, CheckedNpz, NpzError

FORMAT = 1
RESERVED = ("kind", "format", "convs", "hidden", "kernel", "temperature")
DEFAULT_CONVS, DEFAULT_HIDDEN, DEFAULT_KERNEL = (16, 32), (128,), 5
# How to train the default architecture, chosen by measurement (benchmarks/bench_cnn.py):
#     rng = np.random.default_rng(0)
#     history, interrupted = train_minibatch(CNN.random(rng), images, labels, rng=rng, **RECIPE)
# lamb=30 is weight decay through the loss, lamb / (2 N) * squared weights for N = 60,000
# training images (an L2 coefficient of 5e-4 per example).
RECIPE = {"epochs": 8, "batch_size": 128, "lr": 2e-3, "schedule": "cosine", "distort": True, "lamb": 30.0}
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

    def __init__(self, params, convs=DEFAULT_CONVS, hidden=DEFAULT_HIDDEN, kernel=DEFAULT_KERNEL):
        super().__init__()
        self.convs, self.hidden, self.kernel = _check_architecture(convs, hidden, kernel)
        shapes = architecture_shapes(self.convs, self.hidden, self.kernel)
        if set(params) != set(shapes):
            raise ValueError(f"parameters {sorted(params)} are not those of {self.describe()}: {list(shapes)}")
        dtypes = {np.asarray(params[name]).dtype for name in shapes}
        dtype = dtypes.pop() if len(dtypes) == 1 else np.float32
        if not np.issubdtype(dtype, np.floating):
            dtype = np.float32
        self.params = {}
        for name, shape in shapes.items():
            p = np.ascontiguousarray(params[name], dtype=dtype)
            if p.shape != shape:
                raise ValueError(f"{name} has shape {p.shape}, expected {shape} for {self.describe()}")
            self.params[name] = p

    @classmethod
    def random(cls, rng=None, convs=DEFAULT_CONVS, hidden=DEFAULT_HIDDEN, kernel=DEFAULT_KERNEL,
               dtype=np.float32):
        """He initialisation: weights ~ N(0, 2 / fan_in), biases 0. `rng`: a numpy Generator or seed."""
        rng = np.random.default_rng(rng)
        params = {}
        for name, shape in architecture_shapes(convs, hidden, kernel).items():
            if name.endswith("_W"):
                fan_in = int(np.prod(shape[:-1]))
                params[name] = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)
            else:
                params[name] = np.zeros(shape, dtype=dtype)
        return cls(params, convs, hidden, kernel)

    @property
    def dtype(self):
        return self.params["out_W"].dtype

    def describe(self):
        parts = [f"conv{c}-pool" for c in self.convs] + [f"fc{h}" for h in self.hidden]
        return f"CNN {'-'.join(parts)} ({self.kernel}x{self.kernel})"

    def architecture(self):
        return {"convs": self.convs, "hidden": self.hidden, "kernel": self.kernel}

    # Forward and backward --------------------------------------------------------------------

    def _forward(self, X):
        """(m, 784) -> scores (m, 10) and the caches of every layer."""
        p, pad = self.params, self.kernel // 2
        a = np.asarray(X).astype(self.dtype, copy=False).reshape(-1, SIDE, SIDE, 1)
        caches = []
        for i in range(1, len(self.convs) + 1):
            a, conv_cache = layers.conv_forward(a, p[f"conv{i}_W"], p[f"conv{i}_b"], 1, pad)
            a, pool_cache = layers.max_pool_forward(a, 2)
            a, relu_cache = layers.relu_forward(a)
            caches.append((conv_cache, pool_cache, relu_cache))
        for i in range(1, len(self.hidden) + 1):
            a, fc_cache = layers.affine_forward(a, p[f"fc{i}_W"], p[f"fc{i}_b"])
            a, relu_cache = layers.relu_forward(a)
            caches.append((fc_cache, relu_cache))
        scores, out_cache = layers.affine_forward(a, p["out_W"], p["out_b"])
        caches.append(out_cache)
        return scores, caches

    def scores(self, X):
        """(m, 784) inputs in [0, 1] -> (m, 10) scores, PREDICT_BATCH images at a time."""
        X = check_inputs(X)
        out = np.empty((X.shape[0], NUM_LABELS), dtype=self.dtype)
        for start in range(0, X.shape[0], PREDICT_BATCH):
            out[start:start + PREDICT_BATCH] = self._forward(X[start:start + PREDICT_BATCH])[0]
        return out

    def loss_and_scores(self, X, y, lamb=0.0):
        """`loss` plus the batch's scores (m, 10), which the trainer uses for its accuracy."""
        X = check_inputs(X)
        y = np.asarray(y).astype(np.intp, copy=False).ravel()
        m = X.shape[0]
        if y.shape != (m,):
            raise ValueError(f"{m} inputs but {y.size} labels")
        p = self.params
        scores, caches = self._forward(X)
        J, d = layers.softmax_loss(scores, y)
        grads = {}
        d, grads["out_W"], grads["out_b"] = layers.affine_backward(d, caches.pop())
        for i in range(len(self.hidden), 0, -1):
            fc_cache, relu_cache = caches.pop()
            d = layers.relu_backward(d, relu_cache)
            d, grads[f"fc{i}_W"], grads[f"fc{i}_b"] = layers.affine_backward(d, fc_cache)
        for i in range(len(self.convs), 0, -1):
            conv_cache, pool_cache, relu_cache = caches.pop()
            d = layers.relu_backward(d, relu_cache)
            d = layers.max_pool_backward(d, pool_cache)
            d, grads[f"conv{i}_W"], grads[f"conv{i}_b"] = layers.conv_backward(d, conv_cache, need_dx=i > 1)
        if lamb:
            for name in p:
                if name.endswith("_W"):
                    J += lamb / (2 * m) * float(np.sum(p[name] * p[name], dtype=np.float64))
                    grads[name] += (lamb / m) * p[name]
        return J, {name: grads[name] for name in p}, scores

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
        """Write `folder/cnn.npz` (the folder is created if needed), all or nothing.

        Raises OutputError, leaving any earlier file untouched, when it cannot be written."""
        check_output_dir(folder, "the weights folder")
        make_output_dir(folder, "the weights folder")
        path = os.path.join(folder, self.FILES[0])
        arrays = {"kind": np.array(self.kind), "format": np.array(FORMAT),
                  "convs": np.array(self.convs, dtype=np.int64),
                  "hidden": np.array(self.hidden, dtype=np.int64),
                  "kernel": np.array(self.kernel, dtype=np.int64)}
        if self.temperature is not None:
            arrays["temperature"] = np.array(float(self.temperature))
        arrays.update(self.params)
        try:
            with atomic_write(path, "wb") as f:
                np.savez(f, **arrays)
        except OSError as e:
            raise OutputError(f"cannot save the network in {folder}: {e.strerror or e}; "
                              "free some space or choose another folder") from None
        return path

    @classmethod
    def load(cls, folder, advice="train one with: python main.py"):
        """The network saved in `folder/cnn.npz`, checked; WeightsError (one line ending in
        `advice`) if it is missing, not a regular file, not an npz, of another kind or format,
        or damaged. Member names, declared sizes and shapes are checked before any array is
        read (digits.nets.npz_files)."""
        path = os.path.join(os.fspath(folder), cls.FILES[0])

        def fail(what):
            raise WeightsError(f"{what}; {advice}".replace("\n", " ")) from None

        if not os.path.lexists(path):
            fail(f"no {cls.FILES[0]} in {folder}")
        with open_input(path, WeightsError, advice) as f:
            if f.read(4) != b"PK\x03\x04":
                fail(f"{path} is not an npz file")
            f.seek(0)
            try:
                with CheckedNpz(f, _member_expected) as npz:
                    return _network_from(npz, path, fail)
            except NpzError as e:
                fail(f"{path} is not a network file: {e}")
            except READ_ERRORS as e:
                fail(f"{path} is damaged or truncated ({str(e) or type(e).__name__})")
            except MemoryError:
                fail(f"{path} is too large to read")


PARAM_NAME = re.compile(r"(conv[1-9]|fc[1-9][0-9]?)_[Wb]|out_[Wb]")
MAX_META_SIZE = 16      # elements of `convs`, `hidden` and the scalars: more is no architecture


def _member_expected(name):
    return name in RESERVED or PARAM_NAME.fullmatch(name) is not None


def _network_from(npz, path, fail):
    """The CNN in a CheckedNpz: its metadata read and checked, then its arrays."""
    meta = {}
    for name in RESERVED:
        if name in npz.headers:
            shape, dtype = npz.headers[name]
            if int(np.prod(shape)) > MAX_META_SIZE or dtype.kind not in "iufU" or dtype.itemsize > 256:
                fail(f"{path}: '{name}' is not a small number or word ({'x'.join(map(str, shape))} {dtype})")
            meta[name] = npz.read(name)
    kind = meta.get("kind")
    if kind is None or kind.shape != () or kind.dtype.kind != "U":
        fail(f"{path} does not say which kind of network it holds (no 'kind')")
    if str(kind) != CNN.kind:
        fail(f"{path} holds a '{kind}' network, not a {CNN.kind}")
    fmt = meta.get("format")
    if fmt is None or fmt.shape != () or fmt.dtype.kind not in "iu" or int(fmt) != FORMAT:
        fail(f"{path} is in an unknown format ({'none' if fmt is None else fmt!s}; this version reads {FORMAT})")
    for name in ("convs", "hidden", "kernel"):
        if name not in meta or meta[name].dtype.kind not in "iu" or meta[name].ndim > 1:
            fail(f"{path} lacks its architecture ('{name}' missing or not whole numbers)")
    try:
        shapes = architecture_shapes(meta["convs"], meta["hidden"], meta["kernel"])
    except ValueError as e:
        fail(f"{path} has an impossible architecture: {e}")
    extra = sorted(set(npz.headers) - set(shapes) - set(RESERVED))
    if extra:
        fail(f"{path} holds arrays this architecture does not have: {', '.join(extra)}")
    for name, shape in shapes.items():         # from the headers: nothing read yet
        if name not in npz.headers:
            fail(f"{path} lacks the array {name}")
        declared, dtype = npz.headers[name]
        if dtype.kind != "f":
            fail(f"{path}: {name} holds {dtype} values, expected floats")
        if declared != shape:
            fail(f"{path}: {name} has shape {'x'.join(map(str, declared))}, expected {'x'.join(map(str, shape))}")
    params = {}
    for name, shape in shapes.items():
        a = npz.read(name)
        try:
            check_matrix(name, a, shape, path)
        except WeightsError as e:
            fail(str(e))
        with np.errstate(over="ignore"):
            params[name] = a.astype(np.float32)
        if not np.isfinite(params[name]).all():
            fail(f"{path}: {name} holds values too large for float32 (over 3.4e38)")
    net = CNN(params, meta["convs"], meta["hidden"], meta["kernel"])
    if "temperature" in meta:
        t = meta["temperature"]
        if t.shape != () or t.dtype.kind != "f" or not valid_temperature(float(t)):
            fail(f"{path} has an invalid temperature {t!s} (expected a number from "
                 f"{MIN_TEMPERATURE} to {MAX_TEMPERATURE})")
        net.temperature = float(t)
    return net
