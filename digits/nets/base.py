"""The network contract: what every kind of network offers the rest of the project.

Training, prediction, k-fold, the report, the desktop app and the web page talk to a network
only through this interface (modelled on CS231n's `solver.py` models, scikit-learn's MLP and
micrograd's `Module.parameters()`). What each kind must write:

    net.params                  dict name -> ndarray: the trainable parameters, the live arrays
    net.scores(X)               (m, 10) output-layer values before the final squashing
    net.loss(X, y, lamb)        (J, grads): the cost on a batch and its gradient, grads keyed as params
    net.save(folder)            write it (atomically, all or nothing); returns the path written
    Kind.load(folder, advice)   read one back, checked; WeightsError with one clear line otherwise
    Kind.saved_in(folder)       whether `folder` holds a network of this kind
    Kind.train(images, labels, lamb=, seed=, **options) -> (net, TrainingResult)
    Kind.OPTIONS, LAMBDA, FILES its training options (digits.nets.training.Option), its default
                                lambda, the files it saves

and what the contract gives every kind (each may write a faster or better one):

    net.loss_and_scores(X, y, lamb)      (J, grads, scores): loss, plus the batch's scores
    net.objective(images, labels, lamb)  f(vector) -> (J, gradient vector) on fixed data, for L-BFGS-B
    net.predict_proba(X)        (m, 10) class probabilities, each row summing to 1
    net.predict(X)              (m,) the most probable digit
    net.predict_pixels(images)  the same for raw 0..255 pixels
    net.describe()              a name a person can read
    net.first_layer()           (what, (n, h, w) pictures) of its first layer's weights, or None
    net.features(X)             (m, k) what the output layer reads
    net.not_a_digit(X)          (m,) the probability that an input is none of the digits (0 if it never learnt)
    net.probabilities_and_none(X)  (predict_proba(X), not_a_digit(X)): what a reading needs, in one pass
    Kind.describe_training(options, lamb)    the recipe in a line, for the run's log

X is always (m, 784) floats, pixels scaled to [0, 1] (row-major 28x28, light ink on dark);
y holds digits 0..9. Parameters are flattened into one vector only at the edge where
L-BFGS-B needs one (`pack`, `unpack`).

A new kind of network subclasses `Network` in a file of its own, and adds one line to
`KINDS` in `digits/nets/__init__.py` (docs/design.md).
"""
import numpy as np

from digits.constants import NUM_LABELS, PIXEL_MAX, PIXEL_SCALE, PIXELS
from digits.errors import WeightsError


class Network:
    """Base class of the network kinds; see the module docstring for the contract."""

    kind = None             # the registry name, e.g. "mlp"
    FILES = ()              # the files `save` writes into its folder
    OPTIONS = ()            # its training options (digits.nets.training.Option), by name
    LAMBDA = 0.0            # its default regularisation strength (main.py --lambda)
    LEARNS_NOT_A_DIGIT = False   # whether `train` takes drawings labelled NOT_A_DIGIT (an 11th class)
    TRAINS_BY_EPOCH = False      # whether `train` takes a `sample` (some images in turns, epoch by epoch)
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
        """Write the network into `folder`, all or nothing; returns the path written."""
        raise NotImplementedError

    @classmethod
    def load(cls, folder, advice="train one with: python main.py"):
        """The network saved in `folder`, checked; WeightsError (one line, ending in `advice`,
        the command that fixes it) when it is missing or damaged."""
        raise NotImplementedError

    @classmethod
    def saved_in(cls, folder):
        """Whether `folder` holds (some of) this kind's files."""
        raise NotImplementedError

    @classmethod
    def train(cls, images, labels, *, lamb, seed, validation=None, report=print, progress=None, start=None,
              sample=None, **options):
        """A new network trained on raw 0..255 pixel rows `images` (m, 784) and `labels` (m,).

        lamb: regularisation strength; seed: the run's seed (initial weights, and any other
        randomness of the recipe); options: the kind's OPTIONS by name (main.py passes every
        one); validation: None or (images, labels) a trainer may score as it goes; report(line):
        progress lines; progress(done, total, seconds): a terminal's progress bar, or None;
        start: a network of this kind to go on training (fine-tuning: its weights, its
        architecture), or None for new random weights; sample: None, or (pool, count) for a kind
        trained by epochs (TRAINS_BY_EPOCH): each epoch trains on `count` of the images indexed
        by `pool`, chosen afresh, and on all the others (digits.nets.minibatch.train_minibatch).
        Returns (net, digits.nets.training.TrainingResult).
        """
        raise NotImplementedError

    # Shared by every kind, overridable ---------------------------------------------------------

    def describe(self):
        """A short name a person can read, such as 'MLP 784-200-10'."""
        return self.kind

    def not_a_digit(self, X):
        """(m,) the probability that each input is none of the ten digits (a letter, a symbol,
        a scribble): 0 for a kind that never learnt the difference."""
        return np.zeros(check_inputs(X).shape[0])

    def probabilities_and_none(self, X):
        """(predict_proba(X), not_a_digit(X)), what every reading needs. Here the two calls; a
        kind whose one forward pass gives both (the CNN's eleven outputs) computes them once."""
        return self.predict_proba(X), self.not_a_digit(X)

    def features(self, X):
        """(m, 784) inputs -> (m, k): what the output layer reads (the last hidden layer's
        activations); the "not a digit" check (digits.nets.rejection) is fitted on them."""
        return np.asarray(self.scores(X), dtype=np.float64)

    def first_layer(self):
        """What the first layer looks for, for a picture: (what, (n, h, w) array), or None."""
        return None

    @classmethod
    def describe_training(cls, options, lamb):
        """The recipe in one line, for the run's log."""
        return ", ".join([f"lambda {lamb}"] + [f"{name} {value}" for name, value in options.items()])

    def loss_and_scores(self, X, y, lamb=0.0):
        """`loss` plus the batch's scores (m, 10), which a trainer uses for its accuracy.
        A kind whose loss computes the scores anyway returns those instead of a second pass."""
        J, grads = self.loss(X, y, lamb)
        return J, grads, self.scores(X)

    def objective(self, images, labels, lamb, dtype=np.float64):
        """f(vector) -> (J, gradient vector): the cost on fixed raw 0..255 `images` and `labels`
        as a function of all the parameters flattened into one vector (`pack`), for L-BFGS-B.
        Each call sets `params` to the vector's values."""
        X = np.asarray(images) * PIXEL_SCALE
        like = {name: p.copy() for name, p in self.params.items()}

        def f(vector):
            self.params = {name: p.astype(like[name].dtype) for name, p in unpack(vector, like).items()}
            J, grads = self.loss(X, labels, lamb)
            return float(J), pack(grads)
        return f

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


def checked_params(params, shapes, what):
    """`params` as contiguous float arrays of `shapes` ({name: shape}), all of one dtype (theirs if
    they share a float dtype, else float32); ValueError naming the network `what` otherwise."""
    if set(params) != set(shapes):
        raise ValueError(f"parameters {sorted(params)} are not those of {what}: {list(shapes)}")
    dtypes = {np.asarray(params[name]).dtype for name in shapes}
    dtype = dtypes.pop() if len(dtypes) == 1 else np.float32
    if not np.issubdtype(dtype, np.floating):
        dtype = np.float32
    out = {}
    for name, shape in shapes.items():
        p = np.ascontiguousarray(params[name], dtype=dtype)
        if p.shape != shape:
            raise ValueError(f"{name} has shape {p.shape}, expected {shape} for {what}")
        out[name] = p
    return out


def check_labels(y, m):
    """Labels y as a flat int array of m digits; ValueError otherwise."""
    y = np.asarray(y).astype(np.intp, copy=False).ravel()
    if y.shape != (m,):
        raise ValueError(f"{m} inputs but {y.size} labels")
    return y


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
