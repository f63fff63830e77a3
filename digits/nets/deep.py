"""The course's deeper MLP behind the network contract: ReLU hidden layers, softmax output.

    784 -> [dense -> ReLU] per entry of `hidden` (25, 15 by default) -> dense to 10 scores
        -> softmax cross-entropy

One of the other versions of this project (a course notebook) trains this network with Adam
for 40 epochs and shows its loss curve and the logits of one image; here every layer is the
hand-written forward/backward pair of digits/nets/layers.py (`affine_*`, `relu_*`,
`softmax_loss`), He-initialised (weights ~ N(0, 2 / fan_in), biases 0: the variance a ReLU
layer keeps), and trained by digits/nets/minibatch.py.

    python main.py --model deep [--hidden 25,15] [--epochs 40] [--batch-size 32] [--lr 0.001]

Parameters, in `params` order: fc1_W (784, H1), fc1_b (H1,), ..., out_W (H_last, 10),
out_b (10,), float32 for training (any float dtype works; the tests check gradients in
float64). The cost is the mean softmax cross-entropy plus lamb / (2m) times the squared
weights (biases excluded), the project's convention; the course used no regularisation, so
the default lambda is 0. File: `deep.npz` (digits.nets.npz_files) with the widths as `hidden`.
"""
import os

import numpy as np

from digits.constants import NUM_LABELS, PIXELS, SIDE
from digits.nets import layers, npz_files
from digits.nets.base import Network, check_inputs, check_labels, checked_params
from digits.nets.minibatch import minibatch_options, train_minibatch
from digits.nets.training import Option, hidden_widths

HIDDEN = (25, 15)
RECIPE = {"epochs": 40, "batch_size": 32, "lr": 1e-3}      # the course's: Adam, Keras' defaults
PREDICT_BATCH = 4096


def layer_shapes(hidden):
    """{name: shape} of the parameters of a 784-hidden...-10 network, in order."""
    shapes, width = {}, PIXELS
    for i, units in enumerate(hidden, 1):
        shapes[f"fc{i}_W"], shapes[f"fc{i}_b"] = (width, units), (units,)
        width = units
    shapes["out_W"], shapes["out_b"] = (width, NUM_LABELS), (NUM_LABELS,)
    return shapes


class DeepMLP(Network):
    """`DeepMLP(params, hidden)` or `DeepMLP.random(rng, hidden)`."""

    kind = "deep"
    FILES = ("deep.npz",)
    LAMBDA = 0.0
    TRAINS_BY_EPOCH = True
    OPTIONS = (Option("hidden", hidden_widths, HIDDEN, "widths of the ReLU hidden layers, such as 25,15", "W,W"),
               ) + minibatch_options(RECIPE["epochs"], RECIPE["batch_size"], RECIPE["lr"])

    def __init__(self, params, hidden=HIDDEN):
        super().__init__()
        self.hidden = hidden_widths(",".join(str(int(h)) for h in np.atleast_1d(hidden)))
        self.params = checked_params(params, layer_shapes(self.hidden), self.describe())

    @classmethod
    def random(cls, rng=None, hidden=HIDDEN, dtype=np.float32):
        """He initialisation: weights ~ N(0, 2 / fan_in), biases 0. `rng`: a numpy Generator or seed."""
        params = layers.he_init(layer_shapes(tuple(hidden)), np.random.default_rng(rng), dtype)
        return cls(params, hidden)

    @property
    def dtype(self):
        return self.params["out_W"].dtype

    def describe(self):
        return f"deep MLP {'-'.join(map(str, (PIXELS,) + self.hidden + (NUM_LABELS,)))} (ReLU, softmax)"

    def first_layer(self):
        """Each first hidden unit's 784 input weights as a 28x28 picture."""
        return "first hidden layer's input weights", self.params["fc1_W"].T.reshape(-1, SIDE, SIDE)

    # Forward and backward --------------------------------------------------------------------

    def _forward(self, X):
        """(m, 784) -> scores (m, 10) and the layers' caches."""
        return layers.dense_stack_forward(np.asarray(X).astype(self.dtype, copy=False), self.params, len(self.hidden))

    def scores(self, X):
        """(m, 784) inputs in [0, 1] -> (m, 10) logits, PREDICT_BATCH rows at a time."""
        X = check_inputs(X)
        return np.concatenate([self._forward(X[i:i + PREDICT_BATCH])[0] for i in range(0, X.shape[0], PREDICT_BATCH)]
                              or [np.empty((0, NUM_LABELS), self.dtype)])

    def features(self, X):
        """(m, 784) -> (m, last hidden width): the activations the output layer reads."""
        X = check_inputs(X)
        return np.concatenate([layers.dense_stack_features(self._forward(X[i:i + PREDICT_BATCH])[1])
                               for i in range(0, X.shape[0], PREDICT_BATCH)])

    def loss_and_scores(self, X, y, lamb=0.0):
        """(J, grads, scores): mean softmax cross-entropy plus lamb / (2m) * squared weights."""
        X = check_inputs(X)
        m = X.shape[0]
        y = check_labels(y, m)
        scores, cache = self._forward(X)
        J, dscores = layers.softmax_loss(scores, y)
        grads = {}
        layers.dense_stack_backward(dscores, cache, grads)
        J = layers.weight_decay(J, grads, self.params, lamb, m)
        return J, {name: grads[name] for name in self.params}, scores

    def loss(self, X, y, lamb=0.0):
        J, grads, _ = self.loss_and_scores(X, y, lamb)
        return J, grads

    # Training --------------------------------------------------------------------------------

    @classmethod
    def train(cls, images, labels, *, lamb, seed, validation=None, report=print, progress=None,
              hidden=HIDDEN, epochs=RECIPE["epochs"], batch_size=RECIPE["batch_size"], lr=RECIPE["lr"], start=None,
              sample=None):
        """The course's recipe: He initialisation (seed), Adam at a constant `lr`, shuffled batches."""
        net = start if start is not None else cls.random(np.random.default_rng(seed), hidden)
        result = train_minibatch(net, images, labels, epochs=epochs, batch_size=batch_size, lr=lr,
                                 rng=np.random.default_rng([seed, 4]), validation=validation, report=report,
                                 progress=progress, lamb=lamb, schedule="constant", sample=sample)
        return net, result

    @classmethod
    def describe_training(cls, options, lamb):
        epochs = options["epochs"]
        return (f"{cls.random(0, options['hidden']).describe()}, {epochs} epoch{'s' if epochs != 1 else ''} of "
                f"batches of {options['batch_size']}, Adam lr {options['lr']}, lambda {lamb}, float32")

    # Files ---------------------------------------------------------------------------------

    @classmethod
    def saved_in(cls, folder):
        return os.path.isfile(os.path.join(folder, cls.FILES[0]))

    def save(self, folder):
        """Write `folder/deep.npz` (digits.nets.npz_files), all or nothing; returns its path."""
        return npz_files.save(self, folder, {"hidden": self.hidden})

    @classmethod
    def load(cls, folder, advice="train one with: python main.py --model deep"):
        """The network saved in `folder/deep.npz`, checked (digits.nets.npz_files); WeightsError
        (one line ending in `advice`) otherwise."""
        def shapes_of(meta):
            hidden = tuple(int(h) for h in np.atleast_1d(meta["hidden"]))
            if not hidden or min(hidden) < 1 or max(hidden) > 100_000:
                raise ValueError(f"hidden widths {hidden}")
            return layer_shapes(hidden)
        params, meta = npz_files.read(folder, cls, advice, ("hidden",), shapes_of)
        return npz_files.apply_temperature(cls(params, meta["hidden"]), meta)
