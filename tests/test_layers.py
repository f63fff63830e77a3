"""The CNN's layers (digits.nets.layers): gradients against central differences in float64,
the fast convolution and pooling against the naive loops, max-pool ties, and float32."""
import numpy as np
import pytest

from digits.nets import layers as L
from digits.nets.gradcheck import numerical_gradient, relative_error

TOL = 1e-6


def check_gradients(forward, backward, inputs, rng, tol=TOL):
    """Each analytic gradient of sum(forward(*inputs) * dout) against central differences."""
    out, cache = forward(*inputs)
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for k, (x, g) in enumerate(zip(inputs, grads)):
        num = numerical_gradient(lambda: float(np.sum(forward(*inputs)[0] * dout)), x)
        assert g.shape == x.shape
        assert relative_error(num, g) < tol, f"input {k}: relative error {relative_error(num, g):.2e}"


CONV_CASES = [  # (N, H, W, C, F, k, stride, pad)
    (2, 5, 6, 3, 4, 3, 1, 1),
    (2, 7, 7, 2, 3, 3, 2, 1),
    (1, 6, 5, 2, 2, 2, 2, 0),
    (2, 6, 6, 1, 3, 5, 1, 2),
    (1, 7, 8, 2, 2, 3, 3, 0),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_gradients(case):
    N, H, W, C, F, k, stride, pad = case
    rng = np.random.default_rng(sum(case))
    x, w, b = rng.standard_normal((N, H, W, C)), rng.standard_normal((k, k, C, F)), rng.standard_normal(F)
    check_gradients(lambda x, w, b: L.conv_forward(x, w, b, stride, pad), L.conv_backward, (x, w, b), rng)


def test_naive_conv_gradients():
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 5, 5, 2)), rng.standard_normal((3, 3, 2, 3)), rng.standard_normal(3)
    check_gradients(lambda x, w, b: L.conv_forward_naive(x, w, b, 2, 1), L.conv_backward_naive, (x, w, b), rng)


def test_conv_known_values():
    """A 1-channel 3x3 input, a 2x2 filter, no padding: the cross-correlation by hand."""
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)
    out, _ = L.conv_forward(x, w, np.array([0.5]))
    expected = [[0 + 2 + 9 + 16, 1 + 4 + 12 + 20], [3 + 8 + 18 + 28, 4 + 10 + 21 + 32]]
    np.testing.assert_allclose(out[0, :, :, 0], np.array(expected) + 0.5)


def test_fast_conv_matches_naive_on_random_shapes():
    rng = np.random.default_rng(11)
    for _ in range(12):
        k = int(rng.integers(1, 6))
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        H, W = int(rng.integers(k, 10)), int(rng.integers(k, 10))
        N, C, F = int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
        x, w, b = rng.standard_normal((N, H, W, C)), rng.standard_normal((k, k, C, F)), rng.standard_normal(F)
        fast, fast_cache = L.conv_forward(x, w, b, stride, pad)
        naive, naive_cache = L.conv_forward_naive(x, w, b, stride, pad)
        np.testing.assert_allclose(fast, naive, rtol=1e-10, atol=1e-10)
        dout = rng.standard_normal(fast.shape)
        for g_fast, g_naive in zip(L.conv_backward(dout, fast_cache), L.conv_backward_naive(dout, naive_cache)):
            np.testing.assert_allclose(g_fast, g_naive, rtol=1e-10, atol=1e-10)


def test_conv_backward_without_dx():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 6, 6, 1)), rng.standard_normal((3, 3, 1, 2)), rng.standard_normal(2)
    out, cache = L.conv_forward(x, w, b, 1, 1)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = L.conv_backward(dout, cache, need_dx=False)
    assert dx is None
    _, dw_ref, db_ref = L.conv_backward(dout, cache)
    np.testing.assert_array_equal(dw, dw_ref)
    np.testing.assert_array_equal(db, db_ref)


def test_conv_rejects_mismatched_channels():
    with pytest.raises(ValueError):
        L.conv_forward(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 3, 4)), np.zeros(4))


def test_relu_gradient():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 5))
    x[np.abs(x) < 1e-3] = 0.5           # no unit on the kink
    check_gradients(L.relu_forward, L.relu_backward, (x,), rng)


@pytest.mark.parametrize("shape,pool", [((2, 6, 4, 3), 2), ((2, 7, 5, 2), 2), ((1, 6, 9, 2), 3)])
def test_fast_max_pool_gradient(shape, pool):
    rng = np.random.default_rng(5)
    x = rng.permutation(np.prod(shape)).reshape(shape) / 7.0     # distinct values: no ties
    check_gradients(lambda x: L.max_pool_forward(x, pool), L.max_pool_backward, (x,), rng)


@pytest.mark.parametrize("pool_h,pool_w,stride", [(2, 2, 2), (3, 3, 2), (2, 3, 1), (3, 2, 3)])
def test_naive_max_pool_gradient(pool_h, pool_w, stride):
    rng = np.random.default_rng(6)
    x = rng.permutation(2 * 7 * 8 * 2).reshape(2, 7, 8, 2) / 5.0
    check_gradients(lambda x: L.max_pool_forward_naive(x, pool_h, pool_w, stride), L.max_pool_backward_naive,
                    (x,), rng)


def test_fast_max_pool_matches_naive():
    rng = np.random.default_rng(8)
    for shape, pool in (((3, 8, 6, 4), 2), ((2, 9, 7, 3), 3), ((2, 5, 7, 1), 2)):
        x = rng.standard_normal(shape)
        fast, fast_cache = L.max_pool_forward(x, pool)
        naive, naive_cache = L.max_pool_forward_naive(x, pool, pool, pool)
        np.testing.assert_array_equal(fast, naive)
        dout = rng.standard_normal(fast.shape)
        np.testing.assert_array_equal(L.max_pool_backward(dout, fast_cache),
                                      L.max_pool_backward_naive(dout, naive_cache))


def test_max_pool_ties_give_the_gradient_to_the_first_maximum():
    rng = np.random.default_rng(9)
    x = rng.integers(0, 2, (3, 6, 6, 2)).astype(np.float64)   # many tied windows
    x[0, :2, :2, 0] = 1.0                                     # a window that is all one value
    fast, fast_cache = L.max_pool_forward(x, 2)
    naive, naive_cache = L.max_pool_forward_naive(x, 2, 2, 2)
    np.testing.assert_array_equal(fast, naive)
    dout = rng.random(fast.shape) + 1.0                       # every window passes a gradient
    dx = L.max_pool_backward(dout, fast_cache)
    np.testing.assert_array_equal(dx, L.max_pool_backward_naive(dout, naive_cache))
    windows = dx.reshape(3, 3, 2, 3, 2, 2).transpose(0, 1, 3, 5, 2, 4).reshape(3, 3, 3, 2, 4)
    assert np.all(np.count_nonzero(windows, axis=-1) == 1)    # exactly one position per window
    np.testing.assert_allclose(windows.sum(axis=-1), dout)
    assert dx[0, 0, 0, 0] == dout[0, 0, 0, 0] and not dx[0, :2, :2, 0].ravel()[1:].any()   # the first one
    # The first in row-major order: in a window [[0, 1], [1, 0]] the top right one.
    y = np.array([[0.0, 1.0], [1.0, 0.0]]).reshape(1, 2, 2, 1)
    for forward, backward in ((lambda v: L.max_pool_forward(v, 2), L.max_pool_backward),
                              (lambda v: L.max_pool_forward_naive(v, 2, 2, 2), L.max_pool_backward_naive)):
        _, cache = forward(y)
        np.testing.assert_array_equal(backward(np.ones((1, 1, 1, 1)), cache).ravel(), [0, 1, 0, 0])


def test_affine_gradient():
    rng = np.random.default_rng(10)
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    check_gradients(L.affine_forward, L.affine_backward, (x, w, b), rng)


def test_softmax_loss_value_and_gradient():
    rng = np.random.default_rng(12)
    scores, y = rng.standard_normal((5, 10)), rng.integers(0, 10, 5)
    loss, dscores = L.softmax_loss(scores, y)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(5), y])), rel=1e-12)
    num = numerical_gradient(lambda: L.softmax_loss(scores, y)[0], scores)
    assert relative_error(num, dscores) < TOL


def test_softmax_loss_is_stable():
    scores = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], dtype=np.float32)
    loss, dscores = L.softmax_loss(scores, np.array([0, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    assert loss == pytest.approx(1e4, rel=1e-6)     # (0 + 2e4) / 2


def test_float32_agrees_with_float64():
    rng = np.random.default_rng(13)
    x, w, b = rng.standard_normal((2, 8, 8, 3)), rng.standard_normal((5, 5, 3, 4)) * 0.2, rng.standard_normal(4)
    f32 = [a.astype(np.float32) for a in (x, w, b)]
    out64, cache64 = L.conv_forward(x, w, b, 1, 2)
    out32, cache32 = L.conv_forward(*f32, 1, 2)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
    dout = rng.standard_normal(out64.shape)
    for g32, g64 in zip(L.conv_backward(dout.astype(np.float32), cache32), L.conv_backward(dout, cache64)):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)
    p32, pc32 = L.max_pool_forward(out32, 2)
    r32, rc32 = L.relu_forward(p32)
    a32, ac32 = L.affine_forward(r32, np.ones((4 * 4 * 4, 10), np.float32) * 0.01, np.zeros(10, np.float32))
    loss32, d32 = L.softmax_loss(a32, np.arange(2))
    p64, pc64 = L.max_pool_forward(out64, 2)
    r64, rc64 = L.relu_forward(p64)
    a64, ac64 = L.affine_forward(r64, np.ones((4 * 4 * 4, 10)) * 0.01, np.zeros(10))
    loss64, d64 = L.softmax_loss(a64, np.arange(2))
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for a, b64 in ((L.affine_backward(d32, ac32)[0], L.affine_backward(d64, ac64)[0]),):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b64, rtol=1e-4, atol=1e-6)
    d = L.max_pool_backward(L.relu_backward(np.ones_like(r32), rc32), pc32)
    assert d.dtype == np.float32
    np.testing.assert_array_equal(d, L.max_pool_backward(L.relu_backward(np.ones_like(r64), rc64), pc64))


def test_dropout_matches_the_loop_and_keeps_each_units_expected_value():
    x = np.random.default_rng(20).standard_normal((40, 50))
    out, mask = L.dropout_forward(x, 0.3, np.random.default_rng(21))
    ref_out, ref_mask = L.dropout_forward_naive(x, 0.3, np.random.default_rng(21))
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_allclose(out, ref_out, rtol=1e-15)
    assert set(np.unique(mask)) == {0.0, 1 / 0.7}
    assert abs(np.mean(mask == 0) - 0.3) < 0.03              # 2,000 units: about 30 % dropped
    assert abs(np.mean(mask) - 1) < 0.05                     # kept ones scaled: the mean unit unchanged
    same, _ = L.dropout_forward(x, 0.3, np.random.default_rng(21))
    np.testing.assert_array_equal(out, same)                 # the Generator alone decides the mask
    np.testing.assert_array_equal(L.dropout_forward(x, 0.0, np.random.default_rng(1))[0], x)
    assert L.dropout_forward(x.astype(np.float32), 0.5, np.random.default_rng(2))[0].dtype == np.float32


def test_dropout_gradient():
    rng = np.random.default_rng(22)
    check_gradients(lambda x: L.dropout_forward(x, 0.4, np.random.default_rng(23)), L.dropout_backward,
                    (rng.standard_normal((6, 7)),), rng)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_refuses_a_share_outside_0_to_1(p):
    with pytest.raises(ValueError, match="at least 0 and below 1"):
        L.dropout_forward(np.ones(3), p, np.random.default_rng(0))
