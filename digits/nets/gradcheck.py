"""Checking a hand-written gradient against central differences: used by every network's tests."""
import numpy as np


def numerical_gradient(f, x, step=1e-5, indices=None):
    """d f / d x by central differences, (f(x + h) - f(x - h)) / 2h, one coordinate at a time.

    `f` takes no argument and reads `x` (an array changed in place, and restored); `indices`
    (flat positions) limits the check to some coordinates, the others are left 0.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for k in (range(flat.size) if indices is None else indices):
        old = flat[k]
        flat[k] = old + step
        plus = f()
        flat[k] = old - step
        minus = f()
        flat[k] = old
        gflat[k] = (plus - minus) / (2 * step)
    return grad


def relative_error(a, b):
    """|a - b| / |a + b| (Euclidean norms): below 1e-7 for a correct float64 gradient."""
    a, b = np.ravel(a), np.ravel(b)
    denominator = np.linalg.norm(a + b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)
