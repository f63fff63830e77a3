"""Training the network: the reference recipe's optimisation, with progress and a clean Ctrl-C."""
import contextlib
import os
import time

import numpy as np
import scipy
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from model import CostFunction, roll, unroll
from rand_initialise import initialise

PIXEL_SCALE = 1 / 255  # the reference trained on X / 255 (CostFunction divides by 1 / scale)


def initial_params(input_size, hidden_size, num_labels, rng):
    """Both layers' random initial weights as one vector, as the reference built them."""
    return unroll(initialise(hidden_size, input_size, rng=rng), initialise(num_labels, hidden_size, rng=rng))


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


def train(images, labels, hidden_size=100, lamb=0.1, maxiter=100, dtype=np.float64, rng=None,
          num_labels=10, report=print):
    """Fit the network to uint8 `images` (m, 784) with L-BFGS-B, as the reference did.

    Returns (Theta1, Theta2, costs, interrupted): `costs` holds the cost after each iteration;
    on Ctrl-C training stops, and the weights of the last completed iteration are returned
    with interrupted=True. `report` receives one progress line per iteration (None: silence).
    """
    input_size = images.shape[1]
    cost = CostFunction(images, labels, input_size, hidden_size, num_labels, lamb, dtype=dtype, scale=PIXEL_SCALE)
    x0 = initial_params(input_size, hidden_size, num_labels, rng)
    state = {"x": x0, "costs": []}
    start = time.perf_counter()

    def after_iteration(intermediate_result):
        state["x"] = intermediate_result.x.copy()
        state["costs"].append(float(intermediate_result.fun))
        if report:
            report(f"iteration {len(state['costs']):4d}   cost {intermediate_result.fun:.6f}   "
                   f"{time.perf_counter() - start:7.1f} s")

    interrupted = False
    try:
        with optimizer_blas_single_threaded():
            minimize(cost, x0, method="L-BFGS-B", jac=True, options={"maxiter": maxiter}, callback=after_iteration)
    except KeyboardInterrupt:
        interrupted = True
    Theta1, Theta2 = roll(state["x"], input_size, hidden_size, num_labels)
    return Theta1.copy(), Theta2.copy(), state["costs"], interrupted
