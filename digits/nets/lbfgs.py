"""Training by L-BFGS-B, the reference recipe's optimiser: progress lines and a clean stop.

    result = train(net, images, labels, lamb=0.1, maxiter=100)

The parameters are flattened into one vector only here, at the edge where SciPy needs one
(`net.objective`, which by the contract packs and unpacks `params` as scikit-learn's MLP does;
the MLP's own objective is the fast `digits.nets.fast_mlp.CostFunction`).
"""
import time

import numpy as np
from scipy.optimize import minimize

from digits.blas import scipy_blas_single_threaded
from digits.nets.base import pack, unpack
from digits.nets.training import TrainingResult, not_finite


class _Diverged(Exception):
    """Raised from the objective when the cost or the gradient is no longer finite."""


def train(net, images, labels, lamb=0.1, maxiter=100, dtype=np.float64, report=print):
    """Fit `net` to uint8 `images` (m, 784) and `labels` with L-BFGS-B, starting from its params.

    On return `net.params` hold the weights of the last completed iteration. Returns a
    TrainingResult whose history["loss"] is the cost after each iteration; it records the
    KeyboardInterrupt (Ctrl-C, or digits.cli.Terminated for SIGTERM) that stopped training
    early, or why it diverged (a cost or gradient that is not finite). `report` receives one
    progress line per iteration (None: silence).
    """
    like = {name: p.copy() for name, p in net.params.items()}
    objective = net.objective(images, labels, lamb, dtype)
    x0 = pack(like)
    result = TrainingResult("iteration")
    state = {"x": x0}
    start = time.perf_counter()

    def checked(vector):
        J, grad = objective(vector)
        trouble = not_finite(J, {"gradient": grad})
        if trouble:
            raise _Diverged(trouble)
        return J, grad

    def after_iteration(intermediate_result):
        state["x"] = intermediate_result.x.copy()
        result.history["loss"].append(float(intermediate_result.fun))
        if report:
            report(f"iteration {result.steps:4d}   cost {intermediate_result.fun:.6f}   "
                   f"{time.perf_counter() - start:7.1f} s")

    try:
        with scipy_blas_single_threaded(), np.errstate(over="ignore", invalid="ignore"):
            minimize(checked, x0, method="L-BFGS-B", jac=True, options={"maxiter": maxiter},
                     callback=after_iteration)
    except KeyboardInterrupt as stop:
        result.interruption = stop
    except _Diverged as e:
        result.diverged = f"{e} after {result.steps} iterations"
    net.params = {name: p.copy() for name, p in unpack(state["x"], like).items()}
    result.seconds = time.perf_counter() - start
    return result
