"""Random initial weights, as in the reference tutorial."""
import numpy as np

EPSILON_INIT = 0.15


def initialise(a, b, epsilon=EPSILON_INIT, rng=None):
    """Weights for a layer with `a` units fed by `b` units: shape (a, b + 1), bias column first.

    Uniform in [-epsilon, epsilon] so that the sigmoid units start unsaturated and break symmetry.
    Pass a `numpy.random.Generator` as `rng` for reproducible runs; without one NumPy's global
    random state is used, as the reference did.
    """
    if a < 1 or b < 1:
        raise ValueError(f"layer sizes must be positive, got {a} and {b}")
    uniform01 = np.random.rand(a, b + 1) if rng is None else rng.random((a, b + 1))
    return uniform01 * (2 * epsilon) - epsilon
