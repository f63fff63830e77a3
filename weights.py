"""Saving and loading trained weights in the reference's format.

Two space-delimited text matrices written by `np.savetxt`: `Theta1.txt` (hidden x 785) and
`Theta2.txt` (10 x hidden+1), bias weights in column 0.
"""
import os

import numpy as np

from atomic import atomic_write

INPUT_SIZE = 784
NUM_LABELS = 10
DEFAULT_WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")


class WeightsError(Exception):
    """The weight files are missing or not a usable network; the message says which and why."""


def save_weights(weights_dir, Theta1, Theta2):
    """Write Theta1.txt and Theta2.txt into `weights_dir` (created if needed), each atomically."""
    os.makedirs(weights_dir, exist_ok=True)
    for name, Theta in (("Theta1.txt", Theta1), ("Theta2.txt", Theta2)):
        with atomic_write(os.path.join(weights_dir, name), "w") as f:
            np.savetxt(f, Theta, delimiter=" ")


def _load_matrix(path):
    if not os.path.isfile(path):
        raise WeightsError(f"{path} not found; train the network first with: python main.py")
    try:
        Theta = np.loadtxt(path, ndmin=2)
    except (ValueError, OSError, UnicodeDecodeError) as e:
        raise WeightsError(f"{path} is not a text matrix of numbers ({e}); retrain with: python main.py") from None
    if not np.all(np.isfinite(Theta)):
        raise WeightsError(f"{path} contains nan or inf; retrain with: python main.py")
    return Theta


def load_weights(weights_dir=DEFAULT_WEIGHTS_DIR):
    """Read and check Theta1 (hidden x 785) and Theta2 (10 x hidden+1); any hidden size works."""
    Theta1 = _load_matrix(os.path.join(weights_dir, "Theta1.txt"))
    Theta2 = _load_matrix(os.path.join(weights_dir, "Theta2.txt"))
    hidden = Theta1.shape[0]
    if Theta1.shape[1] != INPUT_SIZE + 1:
        raise WeightsError(
            f"Theta1.txt in {weights_dir} has shape {Theta1.shape[0]}x{Theta1.shape[1]}, expected "
            f"hidden x {INPUT_SIZE + 1}; retrain with: python main.py")
    if Theta2.shape != (NUM_LABELS, hidden + 1):
        raise WeightsError(
            f"Theta2.txt in {weights_dir} has shape {Theta2.shape[0]}x{Theta2.shape[1]}, expected "
            f"{NUM_LABELS}x{hidden + 1} to match Theta1.txt; retrain with: python main.py")
    return Theta1, Theta2
