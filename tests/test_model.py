"""The hand-written cost and gradient: finite differences, a plain loop, and edge cases.

`neural_network` is the maths written plainly; `CostFunction` is the fast form used for training
(blocks of examples on several threads, always-zero inputs left out). The tests check the first
against central differences and a per-example loop, and hold the second to the first.
"""
import threading
import warnings

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController, threadpool_limits

import model
from digits.blas import numpy_blas_threads
from digits.nets import fast_mlp
from digits.nets.fast_mlp import CostFunction
from model import neural_network, roll, sigmoid, softplus, unroll
from rand_initialise import initialise


def random_problem(rng, n_in, n_hidden, n_labels, m):
    X = rng.random((m, n_in))
    y = rng.integers(0, n_labels, m)
    y[:n_labels] = np.arange(n_labels)  # every class present
    params = unroll(initialise(n_hidden, n_in, epsilon=1.0, rng=rng), initialise(n_labels, n_hidden, epsilon=1.0, rng=rng))
    return params, X, y


def looped_cost_and_gradient(params, n_in, n_hidden, n_labels, X, y, lamb):
    """The maths one example at a time, as in the course notes: slow, obvious, independent."""
    Theta1, Theta2 = roll(params, n_in, n_hidden, n_labels)
    m = X.shape[0]
    J = 0.0
    grad1, grad2 = np.zeros_like(Theta1), np.zeros_like(Theta2)
    for i in range(m):
        a1 = np.concatenate(([1.0], X[i]))
        a2 = np.concatenate(([1.0], 1 / (1 + np.exp(-(Theta1 @ a1)))))
        a3 = 1 / (1 + np.exp(-(Theta2 @ a2)))
        target = np.zeros(n_labels)
        target[y[i]] = 1
        J += np.sum(-target * np.log(a3) - (1 - target) * np.log(1 - a3))
        d3 = a3 - target
        d2 = (Theta2.T @ d3)[1:] * a2[1:] * (1 - a2[1:])
        grad1 += np.outer(d2, a1)
        grad2 += np.outer(d3, a2)
    J = J / m + lamb / (2 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))
    grad1 /= m
    grad2 /= m
    grad1[:, 1:] += lamb / m * Theta1[:, 1:]
    grad2[:, 1:] += lamb / m * Theta2[:, 1:]
    return J, unroll(grad1, grad2)


def numerical_gradient(f, params, step=1e-5):
    grad = np.zeros_like(params)
    for k in range(params.size):
        plus, minus = params.copy(), params.copy()
        plus[k] += step
        minus[k] -= step
        grad[k] = (f(plus) - f(minus)) / (2 * step)
    return grad


@pytest.mark.parametrize("shape", [(3, 5, 3, 5), (4, 2, 10, 12), (6, 7, 4, 1), (784, 3, 10, 11)])
@pytest.mark.parametrize("lamb", [0.0, 0.1, 3.0])
def test_gradient_matches_central_differences(shape, lamb):
    n_in, n_hidden, n_labels, m = shape
    rng = np.random.default_rng(sum(shape) + int(10 * lamb))
    params, X, y = random_problem(rng, n_in, n_hidden, n_labels, max(m, n_labels))
    if n_in == 784:  # check a random subset of the 2,000-odd weights: enough, and quick
        subset = rng.choice(params.size, 200, replace=False)
    else:
        subset = np.arange(params.size)
    J, grad = neural_network(params, n_in, n_hidden, n_labels, X, y, lamb)

    def cost_along(sub_params):
        full = params.copy()
        full[subset] = sub_params
        return neural_network(full, n_in, n_hidden, n_labels, X, y, lamb)[0]

    numeric = numerical_gradient(cost_along, params[subset])
    relative_error = np.linalg.norm(numeric - grad[subset]) / np.linalg.norm(numeric + grad[subset])
    assert relative_error < 1e-7


@pytest.mark.parametrize("lamb", [0.0, 0.1, 3.0])
def test_vectorised_equals_per_example_loop(lamb):
    rng = np.random.default_rng(7)
    params, X, y = random_problem(rng, 20, 8, 10, 50)
    J, grad = neural_network(params, 20, 8, 10, X, y, lamb)
    J_loop, grad_loop = looped_cost_and_gradient(params, 20, 8, 10, X, y, lamb)
    assert J == pytest.approx(J_loop, rel=1e-12)
    np.testing.assert_allclose(grad, grad_loop, rtol=1e-10, atol=1e-13)


def test_known_cost_of_zero_weights():
    # All weights 0: every output is sigmoid(0) = 1/2, so each of the K outputs costs log 2.
    X = np.random.default_rng(0).random((7, 4))
    y = np.arange(7) % 3
    params = np.zeros(5 * 5 + 3 * 6)
    J, _ = neural_network(params, 4, 5, 3, X, y, 1.0)
    assert J == pytest.approx(3 * np.log(2))


def test_arguments_are_not_modified():
    rng = np.random.default_rng(1)
    params, X, y = random_problem(rng, 6, 4, 3, 9)
    before = (params.copy(), X.copy(), y.copy())
    neural_network(params, 6, 4, 3, X, y, 0.5)
    CostFunction(X, y, 6, 4, 3, 0.5)(params)
    for original, after in zip(before, (params, X, y)):
        np.testing.assert_array_equal(original, after)


def test_saturated_units_give_a_large_finite_cost():
    rng = np.random.default_rng(2)
    params, X, y = random_problem(rng, 5, 4, 3, 12)
    huge = params * 1e4  # outputs saturate to exactly 0.0 or 1.0 in float64
    J, grad = neural_network(huge, 5, 4, 3, X, y, 0.0)
    assert np.isfinite(J) and J > 100
    assert np.all(np.isfinite(grad))


def test_float32_agrees_with_float64():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, (500, 784)).astype(np.uint8)
    y = rng.integers(0, 10, 500)
    params = unroll(initialise(30, 784, rng=rng), initialise(10, 30, rng=rng))
    J64, grad64 = CostFunction(X, y, 784, 30, 10, 0.1, scale=1 / 255)(params)
    J32, grad32 = CostFunction(X, y, 784, 30, 10, 0.1, dtype=np.float32, scale=1 / 255)(params)
    assert grad32.dtype == np.float64
    assert J32 == pytest.approx(J64, rel=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=0, atol=1e-5 * np.abs(grad64).max())


def test_scaled_uint8_input_equals_reference_division():
    rng = np.random.default_rng(4)
    X = rng.integers(0, 256, (40, 784)).astype(np.uint8)
    y = rng.integers(0, 10, 40)
    params = unroll(initialise(6, 784, rng=rng), initialise(10, 6, rng=rng))
    # The reference trained on X / 255 in float64: scaling inside CostFunction must agree exactly.
    scaled_inside = CostFunction(X, y, 784, 6, 10, 0.1, scale=1 / 255)
    divided_before = CostFunction(X / 255, y, 784, 6, 10, 0.1)
    np.testing.assert_array_equal(scaled_inside.A1, divided_before.A1)
    J, grad = scaled_inside(params)
    assert J == divided_before(params)[0]
    J_plain, grad_plain = neural_network(params, 784, 6, 10, X / 255, y, 0.1)
    assert J == pytest.approx(J_plain, rel=1e-12)
    np.testing.assert_allclose(grad, grad_plain, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("bad_y, message", [(np.array([0, 1, 10]), "labels"), (np.array([0, 1.5, 2]), "labels"),
                                            (np.array([0, 1]), "labels")])
def test_bad_labels_are_refused(bad_y, message):
    with pytest.raises(ValueError, match=message):
        CostFunction(np.zeros((3, 4)), bad_y, 4, 2, 10, 0.0)


def test_wrong_parameter_count_is_refused():
    with pytest.raises(ValueError, match="expected"):
        neural_network(np.zeros(10), 4, 2, 3, np.zeros((3, 4)), np.array([0, 1, 2]), 0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocks_of_examples_sum_to_the_whole(dtype):
    rng = np.random.default_rng(5)
    params, X, y = random_problem(rng, 12, 6, 4, 50)
    whole = CostFunction(X, y, 12, 6, 4, 0.3, dtype=dtype, block_rows=50)(params)
    blocked = CostFunction(X, y, 12, 6, 4, 0.3, dtype=dtype, block_rows=7)(params)  # 7 blocks, last one short
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    assert blocked[0] == pytest.approx(whole[0], rel=tolerance)
    np.testing.assert_allclose(blocked[1], whole[1], rtol=tolerance, atol=tolerance * np.abs(whole[1]).max())


def test_inputs_that_are_always_zero_are_handled_exactly():
    # MNIST's corner pixels are 0 in every image; CostFunction leaves their columns out of the
    # products. Cost and gradient must still be those of the full network, weights included.
    rng = np.random.default_rng(11)
    params, X, y = random_problem(rng, 20, 8, 10, 60)
    X[:, [0, 3, 4, 19]] = 0
    J, grad = CostFunction(X, y, 20, 8, 10, 0.7)(params)
    J_loop, grad_loop = looped_cost_and_gradient(params, 20, 8, 10, X, y, 0.7)
    assert J == pytest.approx(J_loop, rel=1e-12)
    np.testing.assert_allclose(grad, grad_loop, rtol=1e-10, atol=1e-13)
    Theta1_grad, _ = roll(grad, 20, 8, 10)
    Theta1, _ = roll(params, 20, 8, 10)
    np.testing.assert_allclose(Theta1_grad[:, 1 + 3], 0.7 / 60 * Theta1[:, 1 + 3])  # regularisation only


# ---- The fast form (CostFunction) against the plain maths (neural_network) ------------------

def mnist_like_problem(rng, n_hidden, m):
    """Bytes with MNIST's always-zero border, every digit present, and random initial weights."""
    images = rng.integers(0, 256, (m, 28, 28)).astype(np.uint8)
    images[:, :2, :] = images[:, :, :3] = 0
    y = rng.integers(0, 10, m)
    y[:10] = np.arange(10)
    params = unroll(initialise(n_hidden, 784, epsilon=0.5, rng=rng), initialise(10, n_hidden, epsilon=0.5, rng=rng))
    return params, images.reshape(m, 784), y


@pytest.mark.parametrize("lamb", [0.0, 0.1, 3.0])
def test_fast_cost_function_equals_the_plain_maths(lamb):
    # float64 with everything it does differently: blocks (the last one short), the always-zero
    # inputs left out, and two threads.
    rng = np.random.default_rng(12)
    params, X, y = mnist_like_problem(rng, 25, 1000)
    fast = CostFunction(X, y, 784, 25, 10, lamb, scale=1 / 255, block_rows=96, threads=2)
    assert fast.A1.shape[1] < 785
    J, grad = fast(params)
    J_plain, grad_plain = neural_network(params, 784, 25, 10, X / 255, y, lamb)
    assert J == pytest.approx(J_plain, rel=1e-9)
    assert np.linalg.norm(grad - grad_plain) <= 1e-9 * np.linalg.norm(grad_plain)
    np.testing.assert_allclose(grad, grad_plain, rtol=1e-9, atol=1e-12 * np.abs(grad_plain).max())


def test_results_do_not_depend_on_the_threads():
    # The blocks' sums are added in block order, whichever thread made them.
    rng = np.random.default_rng(13)
    params, X, y = mnist_like_problem(rng, 12, 500)
    with threadpool_limits(1, user_api="blas"):
        results = [CostFunction(X, y, 784, 12, 10, 0.1, scale=1 / 255, block_rows=64, threads=threads)(params)
                   for threads in (1, 2, 3)]
    for J, grad in results[1:]:
        assert J == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])


def blas_thread_counts():
    return [lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers]


def test_threads_are_joined_and_blas_threads_restored(monkeypatch):
    rng = np.random.default_rng(14)
    params, X, y = mnist_like_problem(rng, 8, 300)
    cost = CostFunction(X, y, 784, 8, 10, 0.1, scale=1 / 255, block_rows=50)
    seen = []
    real_block = fast_mlp.block_cost_and_gradient

    def watched_block(*args, **kwargs):
        seen.append((threading.get_ident(), numpy_blas_threads()))
        return real_block(*args, **kwargs)

    monkeypatch.setattr(fast_mlp, "block_cost_and_gradient", watched_block)
    with threadpool_limits(2, user_api="blas"):
        before_threads, before_blas = threading.active_count(), blas_thread_counts()
        assert numpy_blas_threads() == 2
        J, grad = cost(params)  # threads=None: as many as the BLAS uses, 2
        assert threading.active_count() == before_threads
        assert blas_thread_counts() == before_blas
    assert len(seen) == 6  # 300 examples in blocks of 50
    assert {blas for _, blas in seen} == {1}  # each product on one core while the blocks run
    assert len({thread for thread, _ in seen}) <= 2
    expected = neural_network(params, 784, 8, 10, X / 255, y, 0.1)
    assert J == pytest.approx(expected[0], rel=1e-12)


def test_cost_function_works_from_other_threads_at_once():
    rng = np.random.default_rng(15)
    params, X, y = mnist_like_problem(rng, 8, 300)
    cost = CostFunction(X, y, 784, 8, 10, 0.1, scale=1 / 255, block_rows=50, threads=2)
    expected = cost(params)
    before_threads, before_blas = threading.active_count(), blas_thread_counts()
    results, errors = [], []

    def evaluate():
        try:
            for _ in range(3):
                results.append(cost(params))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    callers = [threading.Thread(target=evaluate) for _ in range(3)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert not errors
    assert len(results) == 9
    for J, grad in results:
        assert J == expected[0]
        np.testing.assert_array_equal(grad, expected[1])
    assert threading.active_count() == before_threads
    assert blas_thread_counts() == before_blas


def test_an_error_in_a_helper_thread_is_raised_and_leaves_nothing_behind(monkeypatch):
    rng = np.random.default_rng(16)
    params, X, y = mnist_like_problem(rng, 8, 300)
    cost = CostFunction(X, y, 784, 8, 10, 0.1, scale=1 / 255, block_rows=50, threads=2)
    before_threads, before_blas = threading.active_count(), blas_thread_counts()
    real_block = fast_mlp.block_cost_and_gradient
    main_thread = threading.get_ident()

    def failing_block(*args, **kwargs):
        if threading.get_ident() != main_thread:
            raise MemoryError("helper failed")
        return real_block(*args, **kwargs)

    monkeypatch.setattr(fast_mlp, "block_cost_and_gradient", failing_block)
    with pytest.raises(MemoryError, match="helper failed"):
        for _ in range(20):  # until the helper thread has taken a block
            cost(params)
    assert threading.active_count() == before_threads
    assert blas_thread_counts() == before_blas
    monkeypatch.setattr(fast_mlp, "block_cost_and_gradient", real_block)
    J, grad = cost(params)
    assert np.isfinite(J)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_cost_function_saturated_units(dtype):
    rng = np.random.default_rng(17)
    params, X, y = random_problem(rng, 5, 4, 3, 40)
    huge = params * 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, grad = CostFunction(X, y, 5, 4, 3, 0.0, dtype=dtype, block_rows=16, threads=2)(huge)
    J_plain, grad_plain = neural_network(huge, 5, 4, 3, X, y, 0.0)
    assert np.isfinite(J) and np.all(np.isfinite(grad))
    assert J == pytest.approx(J_plain, rel=1e-9 if dtype == np.float64 else 1e-4)


# ---- The element-wise functions ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_softplus_are_finite_and_quiet_at_the_extremes(dtype):
    z = np.array([-1000, -745, -710, -89, -40, -1, 0, 1, 40, 89, 710, 745, 1000], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
            s, sp = sigmoid(z), softplus(z)
    assert s.dtype == sp.dtype == dtype
    assert np.all((s >= 0) & (s <= 1))
    assert s[0] == pytest.approx(0, abs=1e-300) and s[-1] == 1 and s[6] == 0.5
    assert np.all(np.diff(s) >= 0)
    assert sp[-1] == 1000 and sp[0] == pytest.approx(0, abs=1e-300)
    assert sp[6] == pytest.approx(np.log(2))
    assert np.all(np.isfinite(sp))


def test_sigmoid_and_softplus_match_their_definitions():
    z = np.linspace(-30, 30, 10001)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(softplus(z), np.log1p(np.exp(z)), rtol=1e-14, atol=1e-16)
    z32 = z.astype(np.float32)
    z = z32.astype(np.float64)
    np.testing.assert_allclose(sigmoid(z32), 1 / (1 + np.exp(-z)), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(softplus(z32), np.log1p(np.exp(z)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("function", [sigmoid, softplus])
def test_element_wise_functions_work_in_place(function):
    z = np.linspace(-50, 50, 999)
    expected = function(z)
    out = z.copy()
    assert function(out, out=out) is out
    np.testing.assert_array_equal(out, expected)
