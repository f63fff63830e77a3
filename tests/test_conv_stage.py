"""The fused conv -> max pool -> ReLU stage (digits.nets.conv_stage): against the separate
layers (themselves held to the naive loops in test_layers.py), gradients against central
differences in float64, ties, odd sizes, work arrays reused between calls, float32."""
import numpy as np
import pytest

from digits.nets import conv_stage as S
from digits.nets.gradcheck import numerical_gradient, relative_error
from digits.nets.workspace import Workspace

CASES = [  # (N, H, W, C, F, k, pool)
    (2, 8, 8, 1, 3, 5, 2),      # the first layer's shape: one channel, gathered as columns
    (2, 6, 6, 3, 4, 3, 2),
    (3, 7, 5, 2, 3, 3, 2),      # odd sizes: the last row and column are ignored by the pool
    (1, 7, 7, 1, 2, 3, 2),
    (2, 9, 6, 2, 2, 3, 3),      # 3x3 pooling
    (2, 5, 4, 2, 3, 1, 2),      # 1x1 filters
]


def inputs(case, rng, ties=False):
    N, H, W, C, F, k, pool = case
    if ties:
        # Small whole numbers and a blank left edge, as MNIST's background: there every output of
        # the first pooling windows is the bias, tied, passing gradient (bias 1) or not (bias -1).
        x = rng.integers(-1, 2, (N, H, W, C)).astype(np.float64)
        x[:, :, :pool + k // 2] = 0
        b = np.where(np.arange(F) % 2, -1.0, 1.0)
        return x, rng.integers(-1, 2, (k, k, C, F)).astype(np.float64), b
    return rng.standard_normal((N, H, W, C)), rng.standard_normal((k, k, C, F)), rng.standard_normal(F)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_stage_equals_the_separate_layers(case, ties):
    rng = np.random.default_rng(sum(case) + ties)
    pool = case[-1]
    x, w, b = inputs(case, rng, ties)
    y, cache = S.stage_forward(x, w, b, pool)
    y_ref, cache_ref = S.separate_forward(x, w, b, pool)
    assert y.shape == y_ref.shape
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    if ties:
        assert np.all(y[:, :, 0, 0] == 1) and np.all(y[:, :, 0, 1] == 0)
    dy = rng.standard_normal(y.shape)
    for got, want in zip(S.stage_backward(dy, cache), S.separate_backward(dy, cache_ref)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_ties_give_the_gradient_to_the_first_maximum():
    """A 1x1 filter of weight 1, no bias: the stage is max pool + ReLU of the input itself."""
    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [-1.0, -1.0]]).reshape(1, 4, 2, 1)
    y, cache = S.stage_forward(x, np.ones((1, 1, 1, 1)), np.zeros(1))
    np.testing.assert_array_equal(y.ravel(), [1.0, 2.0])
    dx, _, _ = S.stage_backward(np.array([3.0, 5.0]).reshape(1, 2, 1, 1), cache)
    np.testing.assert_array_equal(dx.ravel(), [0, 3, 0, 0, 5, 0, 0, 0])
    x[0, 2:, :, 0] = -1.0                       # a window whose maximum is < 0 passes nothing
    y, cache = S.stage_forward(x, np.ones((1, 1, 1, 1)), np.zeros(1))
    dx, _, db = S.stage_backward(np.ones((1, 2, 1, 1)), cache)
    assert y.ravel()[1] == 0 and not dx.ravel()[4:].any() and db[0] == 1


@pytest.mark.parametrize("case", CASES[:4])
def test_stage_gradients(case):
    rng = np.random.default_rng(50 + sum(case))
    pool = case[-1]
    x, w, b = inputs(case, rng)
    y, cache = S.stage_forward(x, w, b, pool)
    dy = rng.standard_normal(y.shape)
    grads = S.stage_backward(dy, cache)
    for k, (a, g) in enumerate(zip((x, w, b), grads)):
        num = numerical_gradient(lambda: float(np.sum(S.stage_forward(x, w, b, pool)[0] * dy)), a)
        assert relative_error(num, g) < 1e-6, f"input {k}: relative error {relative_error(num, g):.2e}"


def test_first_layer_skips_dx():
    rng = np.random.default_rng(5)
    x, w, b = inputs(CASES[0], rng)
    y, cache = S.stage_forward(x, w, b)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = S.stage_backward(dy, cache, need_dx=False)
    assert dx is None
    _, dw_ref, db_ref = S.stage_backward(dy, cache)
    np.testing.assert_array_equal(dw, dw_ref)
    np.testing.assert_array_equal(db, db_ref)


def test_work_arrays_are_reused_and_give_the_same_results():
    work = Workspace()
    rows_memory = []
    for case in (CASES[1], CASES[1], CASES[2], CASES[1]):      # the same shape, another, the first again
        x, w, b = inputs(case, np.random.default_rng(7))
        y, cache = S.stage_forward(x, w, b, 2, work, "conv")
        dy = np.random.default_rng(8).standard_normal(y.shape)
        grads = S.stage_backward(dy, cache)
        fresh_y, fresh_cache = S.stage_forward(x, w, b, 2)
        np.testing.assert_array_equal(y, fresh_y)
        for got, want in zip(grads, S.stage_backward(dy, fresh_cache)):
            np.testing.assert_array_equal(got, want)
        rows_memory.append(work.arrays["conv/rows"].__array_interface__["data"][0])
    assert rows_memory[0] == rows_memory[1], "the same shape again reuses the array"


def test_float32_stays_float32_and_agrees_with_float64():
    rng = np.random.default_rng(8)
    x, w, b = inputs((2, 8, 8, 3, 4, 5, 2), rng)
    y64, c64 = S.stage_forward(x, w * 0.2, b)
    y32, c32 = S.stage_forward(*(a.astype(np.float32) for a in (x, w * 0.2, b)))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)
    dy = rng.standard_normal(y64.shape)
    for g32, g64 in zip(S.stage_backward(dy.astype(np.float32), c32), S.stage_backward(dy, c64)):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-4)


def test_bad_shapes_are_one_clear_error():
    with pytest.raises(ValueError, match="square, odd"):
        S.stage_forward(np.zeros((1, 6, 6, 2)), np.zeros((3, 3, 3, 4)), np.zeros(4))
    with pytest.raises(ValueError, match="square, odd"):
        S.stage_forward(np.zeros((1, 6, 6, 2)), np.zeros((2, 2, 2, 4)), np.zeros(4))
    with pytest.raises(ValueError, match="does not fit"):
        S.stage_forward(np.zeros((1, 1, 6, 2)), np.zeros((3, 3, 2, 4)), np.zeros(4))
