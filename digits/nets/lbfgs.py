"""Training by L-BFGS-B, the reference recipe's optimiser: progress lines and a clean stop.

The parameters are flattened into one vector only here, at the edge where SciPy needs one
(`base.pack` / `base.unpack`, as scikit-learn's MLP does).
"""
import contextlib
import os
import time

import numpy as np
import scipy
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from digits.constants import PIXEL_SCALE
from digits.nets.base import pack, unpack


@contextlib.contextmanager
def optimizer_blas_single_threaded():
    """Run SciPy's own BLAS (not NumPy's) on one thread for the duration.

    SciPy's wheels bring an OpenBLAS of their own, beside NumPy's. L-BFGS-B's vector work
    is tiny, but each BLAS call it makes wakes SciPy's threads, which then spin and take
    the cores from NumPy's matrix products: on 2 cores that made training about 40 % slower.
    Where NumPy and SciPy share one BLAS there is nothing to do.
    """
    scipy_dir = os.path.dirname(scipy.__file__)  # a prefix of both scipy/ and scipy.libs/
    controller = ThreadpoolController()
    own = [lib for lib in controller.lib_controllers
           if lib.filepath and os.path.realpath(lib.filepath).startswith(os.path.realpath(scipy_dir))]
    previous = [lib.num_threads for lib in own]
    for lib in own:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, threads in zip(own, previous):
            lib.set_num_threads(threads)


def train(net, images, labels, lamb=0.1, maxiter=100, dtype=np.float64, report=print):
    """Fit `net` to uint8 `images` (m, 784) and `labels` with L-BFGS-B, starting from its params.

    Uses the network's fast `objective(images, labels, lamb, dtype)` where it has one, else its
    `loss` on all the images. On return `net.params` hold the weights of the last completed
    iteration. Returns (costs, interrupted): the cost after each iteration, and the
    KeyboardInterrupt (Ctrl-C, or digits.cli.Terminated for SIGTERM) that stopped training
    early, or None. `report` receives
    one progress line per iteration (None: silence).
    """
    like = {name: p.copy() for name, p in net.params.items()}
    if hasattr(net, "objective"):
        objective = net.objective(images, labels, lamb, dtype)
    else:
        X = np.asarray(images) * PIXEL_SCALE

        def objective(vector):
            net.params = unpack(vector, like)
            J, grads = net.loss(X, labels, lamb)
            return J, pack(grads)
    x0 = pack(like)
    state = {"x": x0, "costs": []}
    start = time.perf_counter()

    def after_iteration(intermediate_result):
        state["x"] = intermediate_result.x.copy()
        state["costs"].append(float(intermediate_result.fun))
        if report:
            report(f"iteration {len(state['costs']):4d}   cost {intermediate_result.fun:.6f}   "
                   f"{time.perf_counter() - start:7.1f} s")

    interrupted = None
    try:
        with optimizer_blas_single_threaded():
            minimize(objective, x0, method="L-BFGS-B", jac=True, options={"maxiter": maxiter},
                     callback=after_iteration)
    except KeyboardInterrupt as stop:
        interrupted = stop
    net.params = {name: p.copy() for name, p in unpack(state["x"], like).items()}
    return state["costs"], interrupted
