"""The tutorial's network behind the network contract: 784-hidden-10 sigmoid units.

The maths lives in the top-level `model.py` (cost, gradient, forward pass), where the
tutorial's readers look for it; this class only gives it the contract's shape. Its
parameters are the reference's two matrices, `params = {"Theta1": ..., "Theta2": ...}`, so
`pack(params)` is exactly the reference's unrolled `nn_params`.
"""
import argparse
import os

import numpy as np

import model
from digits.cli import whole_number
from digits.constants import NUM_LABELS, PIXEL_SCALE, PIXELS, SIDE
from digits.errors import WeightsError
from digits.nets import lbfgs, theta_files
from digits.nets.base import Network, check_inputs
from digits.nets.fast_mlp import CostFunction
from digits.nets.training import Option
from rand_initialise import initialise


def _dtype(text):
    if text not in ("float64", "float32"):
        raise argparse.ArgumentTypeError(f"must be float64 or float32, got {text}")
    return text


class MLP(Network):
    """A 784-hidden-10 network of sigmoid units; `MLP(Theta1, Theta2)` or `MLP.random(hidden, rng)`."""

    kind = "mlp"
    FILES = theta_files.NAMES
    LAMBDA = 0.1
    OPTIONS = (
        Option("maxiter", whole_number(1), 100, "L-BFGS-B iterations"),
        Option("hidden", whole_number(1), 100, "hidden units"),
        Option("dtype", _dtype, "float64", "precision of the matrix products: float64 or float32 "
                                            "(float32 is about twice as fast)", "TYPE"),
    )

    def __init__(self, Theta1, Theta2):
        super().__init__()
        Theta1, Theta2 = np.asarray(Theta1, dtype=np.float64), np.asarray(Theta2, dtype=np.float64)
        if Theta1.ndim != 2 or Theta1.shape[1] != PIXELS + 1 or Theta2.shape != (NUM_LABELS, Theta1.shape[0] + 1):
            raise ValueError(f"Theta1 {Theta1.shape} and Theta2 {Theta2.shape} are not a "
                             f"{PIXELS}-hidden-{NUM_LABELS} network")
        self.params = {"Theta1": Theta1, "Theta2": Theta2}

    @classmethod
    def random(cls, hidden, rng=None):
        """The reference's initial weights: uniform in [-0.15, 0.15], Theta1 drawn first."""
        return cls(initialise(hidden, PIXELS, rng=rng), initialise(NUM_LABELS, hidden, rng=rng))

    @property
    def hidden(self):
        return self.params["Theta1"].shape[0]

    def describe(self):
        return f"MLP {PIXELS}-{self.hidden}-{NUM_LABELS}"

    def first_layer(self):
        """Each hidden unit's 784 input weights as a 28x28 picture."""
        return "hidden units' input weights", self.params["Theta1"][:, 1:].reshape(-1, SIDE, SIDE)

    # The contract --------------------------------------------------------------------------

    def outputs(self, X):
        """The ten sigmoid output units a3 (m, 10), each in (0, 1): the forward pass of model.py."""
        return model.feed_forward(self.params["Theta1"], self.params["Theta2"], check_inputs(X))

    def scores(self, X):
        """z3: the output units before their sigmoid (ranked like a3)."""
        return model.output_layer(self.params["Theta1"], self.params["Theta2"], check_inputs(X))

    def features(self, X):
        """a2 (m, hidden): the hidden units' sigmoid activations, what the output layer reads."""
        Theta1 = self.params["Theta1"]
        return model.sigmoid(check_inputs(X).astype(np.float64) @ Theta1[:, 1:].T + Theta1[:, 0])

    def predict_proba(self, X):
        """The ten outputs divided by their sum: what the app and prediction.py have always shown.

        With a calibration temperature set (digits.nets.calibration), the softmax of
        scores / temperature instead.
        """
        if self.temperature is not None:
            return super().predict_proba(X)
        a3 = self.outputs(X)
        return a3 / a3.sum(axis=1, keepdims=True)

    def predict(self, X):
        return np.argmax(self.outputs(X), axis=1)

    def loss(self, X, y, lamb=0.0):
        """The reference cost J and its gradient (model.cost_and_gradients) on a batch."""
        J, Theta1_grad, Theta2_grad = model.cost_and_gradients(self.params["Theta1"], self.params["Theta2"],
                                                               check_inputs(X), y, lamb)
        return J, {"Theta1": Theta1_grad, "Theta2": Theta2_grad}

    def objective(self, images, labels, lamb, dtype=np.float64):
        """The fast form of `loss` for L-BFGS-B on fixed data: f(vector) -> (J, gradient vector).

        `images` are raw 0..255 pixels; CostFunction scales them once, by 1/255; the vector is
        the reference's unrolled nn_params.
        """
        return CostFunction(images, labels, PIXELS, self.hidden, NUM_LABELS, lamb, dtype=dtype, scale=PIXEL_SCALE)

    # Training --------------------------------------------------------------------------------

    @classmethod
    def train(cls, images, labels, *, lamb, seed, validation=None, report=print, progress=None,
              maxiter=100, hidden=100, dtype="float64", start=None, sample=None):
        """The reference recipe: the reference's initial weights (seed), L-BFGS-B for `maxiter`
        iterations on the cost with `lamb`, products in `dtype`; from `start`'s weights if given.
        Every step's cost is over all the images: no `sample` (ValueError if one is given)."""
        if sample is not None:
            raise ValueError("the MLP is trained by L-BFGS-B on all its images at every step: it takes no sample")
        net = start if start is not None else cls.random(hidden, np.random.default_rng(seed))
        return net, lbfgs.train(net, images, labels, lamb=lamb, maxiter=maxiter, dtype=np.dtype(dtype), report=report)

    @classmethod
    def describe_training(cls, options, lamb):
        return (f"{PIXELS}-{options['hidden']}-{NUM_LABELS} network, lambda {lamb}, {options['maxiter']} "
                f"iterations, {options['dtype']}")

    # Files ---------------------------------------------------------------------------------

    @classmethod
    def saved_in(cls, folder):
        return os.path.isfile(os.path.join(folder, theta_files.NAMES[0])) or \
            os.path.isfile(os.path.join(folder, theta_files.NAMES[1]))

    def save(self, folder):
        return theta_files.save_thetas(folder, self.params["Theta1"], self.params["Theta2"])

    @classmethod
    def load(cls, folder, advice="train one with: python main.py"):
        Theta1, Theta2 = theta_files.load_thetas(folder, advice)
        if Theta1.shape[1] != PIXELS + 1:
            raise WeightsError(f"Theta1.txt in {folder} has shape {Theta1.shape[0]}x{Theta1.shape[1]}, "
                               f"expected hidden x {PIXELS + 1}; {advice}")
        if Theta2.shape != (NUM_LABELS, Theta1.shape[0] + 1):
            raise WeightsError(f"Theta2.txt in {folder} has shape {Theta2.shape[0]}x{Theta2.shape[1]}, "
                               f"expected {NUM_LABELS}x{Theta1.shape[0] + 1} to match Theta1.txt; {advice}")
        return cls(Theta1, Theta2)
