"""Training: the optimiser's threads, progress lines, and what train() returns."""
import numpy as np
import pytest
from threadpoolctl import ThreadpoolController

from digits.nets import MLP
from digits.blas import scipy_blas_single_threaded
from digits.nets.lbfgs import train


def test_scipy_blas_runs_on_one_thread_while_training_and_numpys_is_untouched():
    controller = ThreadpoolController()
    blas = [lib for lib in controller.lib_controllers if lib.user_api == "blas"]
    scipy_own = [lib for lib in blas if "scipy" in lib.filepath and "numpy" not in lib.filepath]
    others = [lib for lib in blas if lib not in scipy_own]
    if not scipy_own or not others:
        pytest.skip("NumPy and SciPy share one BLAS here: there is nothing to limit")
    for lib in blas:
        lib.set_num_threads(2)
    try:
        with scipy_blas_single_threaded():
            assert [lib.num_threads for lib in scipy_own] == [1] * len(scipy_own)
            assert [lib.num_threads for lib in others] == [2] * len(others)
        assert [lib.num_threads for lib in blas] == [2] * len(blas)
    finally:
        for lib in blas:
            lib.set_num_threads(1)


def test_train_reports_each_iteration_and_lowers_the_cost():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (200, 784)).astype(np.uint8)
    labels = np.arange(200) % 10
    lines = []
    net = MLP.random(5, rng)
    result = train(net, images, labels, maxiter=8, report=lines.append)
    costs = result.history["loss"]
    assert net.params["Theta1"].shape == (5, 785) and net.params["Theta2"].shape == (10, 6)
    assert not result.stopped_early and result.why == "finished" and result.unit == "iteration"
    assert len(lines) == len(costs) == 8
    assert lines[0].startswith("iteration    1") and lines[-1].startswith("iteration    8")
    assert costs[-1] < costs[0]
    assert all(later <= earlier for earlier, later in zip(costs, costs[1:]))  # L-BFGS-B never goes uphill


def test_a_cost_that_becomes_infinite_stops_training_as_diverged_and_keeps_the_last_weights():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (100, 784)).astype(np.uint8)
    net = MLP.random(4, rng)
    start = {k: p.copy() for k, p in net.params.items()}
    result = train(net, images, np.arange(100) % 10, lamb=1e308, maxiter=5, report=None)
    assert result.diverged and "cost" in result.diverged and result.steps == 0
    assert result.stopped_early and result.why.startswith("diverged")
    for k, p in net.params.items():          # the weights it started from: none was finished
        np.testing.assert_array_equal(p, start[k])
