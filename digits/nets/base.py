"""The network contract: what every kind of network offers the rest of the project.

Training, prediction, k-fold, the report, the desktop app and the web page talk to a network
only through this interface (modelled on CS231n's `solver.py` models, scikit-learn's MLP and
micrograd's `Module.parameters()`):

    net.params                  dict name -> ndarray: the trainable parameters, the live arrays
    net.loss(X, y, lamb)        (J, grads): the cost on a batch and its gradient, grads keyed as params
    net.scores(X)               (m, 10) output-layer values before the final squashing
    net.predict_proba(X)        (m, 10) class probabilities, each row summing to 1
    net.predict(X)              (m,) the most probable digit
    net.save(folder)            write it (atomically, all or nothing); returns the path written
    Kind.load(folder)           read one back, checked; WeightsError with one clear line otherwise
    Kind.saved_in(folder)       whether `folder` holds a network of this kind

X is always (m, 784) floats, pixels scaled to [0, 1] (row-major 28x28, light ink on dark);
y holds digits 0..9. Parameters are flattened into one vector only at the edge where
L-BFGS-B needs one (`pack`, `unpack`).

A new kind of network subclasses `Network`, implements the methods above, and adds one line
to `KINDS` in `digits/nets/__init__.py`.
"""
import numpy as np

from digits.constants import NUM_LABELS, PIXEL_MAX, PIXELS
from digits.errors import WeightsError


class Network:
    """Base class of the network kinds; see the module docstring for the contract."""

    kind = None             # the registry name, e.g. "mlp"
    temperature = None      # calibration of predict_proba (digits.nets.calibration); None: not calibrated
    sure_above = 0.0        # readings less confident than this are shown as "not sure"

    def __init__(self):
        self.params = {}

    # What each kind implements ---------------------------------------------------------------

    def scores(self, X):
        """(m, 784) inputs in [0, 1] -> (m, 10) output-layer values (logits)."""
        raise NotImplementedError

    def loss(self, X, y, lamb=0.0):
        """Cost (data term averaged over the m examples, plus lamb/(2m) * squared weights) and
        its gradient, a dict keyed like `params`."""
        raise NotImplementedError

    def save(self, folder):
        raise NotImplementedError

    @classmethod
    def load(cls, folder):
        raise NotImplementedError

    @classmethod
    def saved_in(cls, folder):
        raise NotImplementedError

    def describe(self):
        """A short name a person can read, such as 'MLP 784-200-10'."""
        return self.kind

    # Shared by every kind --------------------------------------------------------------------

    def predict_proba(self, X):
        """Class probabilities (m, 10): the softmax of the scores divided by `temperature`,
        in float64 whatever the network computes in (so each row sums to 1 to 1e-15)."""
        z = np.asarray(self.scores(X), dtype=np.float64) / (self.temperature or 1.0)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable digit for each row of X."""
        return np.argmax(self.scores(X), axis=1)

    def predict_pixels(self, images, batch_size=4096):
        """Predicted digits for raw 0..255 pixel rows (m, 784), scaled by / 255 a batch at a
        time, so that no float copy of all the images is ever made."""
        images = np.asarray(images)
        return np.concatenate([self.predict(images[i:i + batch_size] / PIXEL_MAX)
                               for i in range(0, images.shape[0], batch_size)]
                              or [np.empty(0, dtype=np.intp)])

    def scores_pixels(self, images, batch_size=4096):
        """`scores` of raw 0..255 pixel rows, a batch at a time."""
        images = np.asarray(images)
        return np.concatenate([self.scores(images[i:i + batch_size] / PIXEL_MAX)
                               for i in range(0, images.shape[0], batch_size)])


def check_inputs(X):
    """X as a float array (m, 784); ValueError naming the shape otherwise."""
    X = np.atleast_2d(np.asarray(X))
    if X.ndim != 2 or X.shape[1] != PIXELS:
        raise ValueError(f"inputs have shape {X.shape}, expected (m, {PIXELS})")
    return X


def pack(params):
    """The parameters as one float64 vector (in the dict's order), for L-BFGS-B."""
    return np.concatenate([np.ravel(p) for p in params.values()]).astype(np.float64, copy=False)


def unpack(vector, like):
    """A dict shaped like `like` whose arrays are views into `vector` (the inverse of `pack`)."""
    out, start = {}, 0
    for name, p in like.items():
        out[name] = vector[start:start + p.size].reshape(p.shape)
        start += p.size
    if start != vector.size:
        raise ValueError(f"vector has {vector.size} values, the parameters {start}")
    return out


def check_matrix(name, array, shape, source):
    """WeightsError unless `array` has `shape` and only finite values."""
    if array.shape != shape:
        raise WeightsError(f"{source}: {name} has shape {'x'.join(map(str, array.shape))}, "
                           f"expected {'x'.join(map(str, shape))}")
    if not np.all(np.isfinite(array)):
        raise WeightsError(f"{source}: {name} contains nan or inf")


__all__ = ["Network", "NUM_LABELS", "PIXELS", "check_inputs", "pack", "unpack", "check_matrix"]
