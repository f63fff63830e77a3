"""The layers of the convolutional network, as forward/backward pairs in NumPy (CS231n style).

Each `*_forward` returns `(out, cache)`; the matching `*_backward(dout, cache)` returns the
gradients of the loss with respect to the forward's inputs, in the same order (dx, dw, db).
Every function works in the dtype it is given: float32 for training, float64 for gradient checks.

Memory layout: images are NHWC, (N, H, W, C), channels last; convolution weights are HWIO,
(kh, kw, C, F). Chosen by measurement (`python -m benchmarks.bench_cnn --micro`, batch 128,
float32, one BLAS thread): with channels last the im2col rows (N*Ho*Wo, kh*kw*C) are gathered
in C-long contiguous runs, the single product rows @ (kh*kw*C, F) yields the output already in
NHWC order and 2x2 pooling is a reshape, whereas NCHW needs its output and incoming gradient
transposed. A conv + pool + ReLU stage, forward and backward, took 43 ms NHWC against 54 ms
NCHW for 14x14x16 -> 32 filters 5x5 (16 against 22 ms at 3x3, 45 against 58 ms for 32 -> 64
filters 3x3); for the 1-channel first layer the two were even (19 ms).

Convolution comes twice: `conv_forward` / `conv_backward` (im2col on a strided view and one
matrix product forward; backward one product for the filters and, for the input, one small
product per filter offset whose result is added back where that offset's windows read), and
`conv_forward_naive` / `conv_backward_naive` (plain loops), the reference the tests hold the
fast pair to. Max pooling likewise: `max_pool_forward` / `max_pool_backward` for
non-overlapping windows (stride == pool size), `max_pool_*_naive` for any stride. In both, a
window's gradient goes to exactly one position, its first maximum in row-major order.

All matrix products go through the module-level `matmul` (called as matmul(a, b) or
matmul(a, b, out=...)), so that the benchmark can time exactly the products of a training step
on their own (the "arithmetic floor"). The CNN itself runs each conv -> pool -> ReLU stage fused
(digits.nets.conv_stage); the separate layers here are its reference.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

matmul = np.matmul


def _out_size(size, k, stride, pad):
    n = size + 2 * pad - k
    if n < 0 or stride < 1:
        raise ValueError(f"a {k}-wide window with padding {pad} and stride {stride} does not fit in {size}")
    return n // stride + 1


def _padded(x, pad):
    """x (N, H, W, C) with `pad` zeros around H and W (x itself when pad is 0)."""
    if pad == 0:
        return x
    N, H, W, C = x.shape
    xp = np.zeros((N, H + 2 * pad, W + 2 * pad, C), dtype=x.dtype)
    xp[:, pad:pad + H, pad:pad + W, :] = x
    return xp


def _windows(xp, kh, kw, stride, Ho, Wo):
    """Read-only strided view (N, Ho, Wo, kh, kw, C) of the windows of the padded xp (N, Hp, Wp, C)."""
    sN, sH, sW, sC = xp.strides
    return as_strided(xp, shape=(xp.shape[0], Ho, Wo, kh, kw, xp.shape[3]),
                      strides=(sN, sH * stride, sW * stride, sH, sW, sC), writeable=False)


def im2col(x, kh, kw, stride=1, pad=0):
    """x (N, H, W, C) -> rows (N*Ho*Wo, kh*kw*C): one row per output position, its window
    flattened in (kh, kw, C) order, the order of w.reshape(kh*kw*C, F)."""
    N, H, W, C = x.shape
    Ho, Wo = _out_size(H, kh, stride, pad), _out_size(W, kw, stride, pad)
    xp = np.ascontiguousarray(_padded(x, pad))
    cols = np.empty((N, Ho, Wo, kh, kw, C), dtype=x.dtype)
    cols[...] = _windows(xp, kh, kw, stride, Ho, Wo)
    return cols.reshape(N * Ho * Wo, kh * kw * C)


# Convolution -----------------------------------------------------------------------------------

def conv_forward(x, w, b, stride=1, pad=0):
    """Fast convolution (cross-correlation, as in every CNN library) by im2col.

    x: (N, H, W, C) inputs; w: (kh, kw, C, F) filters; b: (F,) biases; `pad` zeros are added on
    each side of H and W, windows move by `stride`.
    Returns out (N, Ho, Wo, F), Ho = (H + 2 pad - kh) // stride + 1 (Wo likewise), and a cache.
    """
    kh, kw, C, F = w.shape
    if x.ndim != 4 or x.shape[3] != C:
        raise ValueError(f"input {x.shape} does not match filters {w.shape} (NHWC and HWIO expected)")
    N, H, W, _ = x.shape
    Ho, Wo = _out_size(H, kh, stride, pad), _out_size(W, kw, stride, pad)
    cols = im2col(x, kh, kw, stride, pad)
    out = matmul(cols, w.reshape(kh * kw * C, F))
    out += b
    return out.reshape(N, Ho, Wo, F), (x.shape, cols, w, stride, pad)


def conv_backward(dout, cache, need_dx=True):
    """Gradients of `conv_forward`: dout (N, Ho, Wo, F) -> dx (N, H, W, C), dw (kh, kw, C, F),
    db (F,). With need_dx=False (the first layer, whose input is the data) dx is None and its
    matrix product and col2im are skipped."""
    x_shape, cols, w, stride, pad = cache
    kh, kw, C, F = w.shape
    d2 = dout.reshape(-1, F)
    db = d2.sum(axis=0)
    dw = matmul(cols.T, d2).reshape(w.shape)
    dx = None
    if need_dx:
        # col2im: for each of the kh*kw filter offsets, one product (N*Ho*Wo, F) @ (F, C) gives
        # that offset's contribution as a contiguous NHWC block, added back into the padded
        # gradient where the windows read it. Measured (--micro, 14x14x16 <- 32 filters 5x5):
        # 12 ms, against 30 ms for one product (N*Ho*Wo, F) @ (F, kh*kw*C) followed by adds from
        # its 6-D strided view (16-float runs), and 25 ms for a full convolution of the padded
        # dout (an im2col kh*kw*F wide); per-offset products were the fastest at every size tried.
        N, H, W, _ = x_shape
        Ho, Wo = dout.shape[1:3]
        dxp = np.zeros((N, H + 2 * pad, W + 2 * pad, C), dtype=dout.dtype)
        for i in range(kh):
            for j in range(kw):
                dxp[:, i:i + stride * (Ho - 1) + 1:stride, j:j + stride * (Wo - 1) + 1:stride, :] += \
                    matmul(d2, w[i, j].T).reshape(N, Ho, Wo, C)
        dx = dxp[:, pad:pad + H, pad:pad + W, :] if pad else dxp
    return dx, dw, db


def conv_forward_naive(x, w, b, stride=1, pad=0):
    """Reference convolution with plain loops; same arguments, shapes and result as conv_forward."""
    kh, kw, C, F = w.shape
    N, H, W, _ = x.shape
    Ho, Wo = _out_size(H, kh, stride, pad), _out_size(W, kw, stride, pad)
    xp = _padded(x, pad)
    out = np.zeros((N, Ho, Wo, F), dtype=np.result_type(x, w))
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                window = xp[n, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
                for f in range(F):
                    out[n, i, j, f] = np.sum(window * w[:, :, :, f]) + b[f]
    return out, (x, w, b, stride, pad)


def conv_backward_naive(dout, cache):
    """Reference gradients of the convolution with plain loops: (dx, dw, db) as conv_backward."""
    x, w, b, stride, pad = cache
    kh, kw, C, F = w.shape
    N, H, W, _ = x.shape
    Ho, Wo = dout.shape[1:3]
    xp = _padded(x, pad)
    dxp, dw, db = np.zeros_like(xp), np.zeros_like(w), np.zeros_like(b)
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                rows = slice(i * stride, i * stride + kh)
                cols = slice(j * stride, j * stride + kw)
                for f in range(F):
                    g = dout[n, i, j, f]
                    db[f] += g
                    dw[:, :, :, f] += g * xp[n, rows, cols, :]
                    dxp[n, rows, cols, :] += g * w[:, :, :, f]
    dx = dxp[:, pad:pad + H, pad:pad + W, :] if pad else dxp
    return dx, dw, db


# ReLU -------------------------------------------------------------------------------------------

def relu_forward(x):
    """max(0, x), any shape. Returns out and a cache (out itself)."""
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout, cache):
    """dx = dout where the unit was positive, 0 elsewhere (the subgradient at 0 is taken as 0)."""
    return np.where(cache > 0, dout, 0).astype(dout.dtype, copy=False)


# Max pooling ------------------------------------------------------------------------------------

def max_pool_forward(x, pool=2):
    """Fast max pooling over non-overlapping pool x pool windows (stride = pool).

    x: (N, H, W, C) -> out (N, H // pool, W // pool, C); rows and columns beyond the last whole
    window are ignored (as the naive version with stride = pool does). The cache keeps a
    boolean mask marking, in each window, its first maximum in row-major order.
    """
    N, H, W, C = x.shape
    Ho, Wo = H // pool, W // pool
    if Ho == 0 or Wo == 0:
        raise ValueError(f"a {pool}x{pool} pool does not fit in {H}x{W}")
    xr = x[:, :Ho * pool, :Wo * pool, :].reshape(N, Ho, pool, Wo, pool, C)
    out = xr[:, :, 0, :, 0, :].copy()
    for a in range(pool):
        for c in range(pool):
            if a or c:
                np.maximum(out, xr[:, :, a, :, c, :], out=out)
    mask = np.empty(xr.shape, dtype=bool)
    taken = np.zeros(out.shape, dtype=bool)
    hit = np.empty(out.shape, dtype=bool)
    for a in range(pool):
        for c in range(pool):
            np.equal(xr[:, :, a, :, c, :], out, out=hit)
            hit &= ~taken
            mask[:, :, a, :, c, :] = hit
            taken |= hit
    return out, (x.shape, mask)


def max_pool_backward(dout, cache):
    """Gradient of `max_pool_forward`: dout (N, Ho, Wo, C) -> dx (N, H, W, C), each window's
    gradient on its first maximum, zeros elsewhere."""
    x_shape, mask = cache
    N, Ho, pool, Wo, _, C = mask.shape
    dx6 = mask * dout[:, :, None, :, None, :]
    dx = dx6.reshape(N, Ho * pool, Wo * pool, C)
    if dx.shape != tuple(x_shape):
        full = np.zeros(x_shape, dtype=dx.dtype)
        full[:, :Ho * pool, :Wo * pool, :] = dx
        dx = full
    return dx


def max_pool_forward_naive(x, pool_h=2, pool_w=2, stride=2):
    """Reference max pooling with plain loops, any window and stride (windows may overlap).

    x: (N, H, W, C) -> out (N, (H - pool_h) // stride + 1, (W - pool_w) // stride + 1, C).
    """
    N, H, W, C = x.shape
    Ho, Wo = _out_size(H, pool_h, stride, 0), _out_size(W, pool_w, stride, 0)
    out = np.zeros((N, Ho, Wo, C), dtype=x.dtype)
    argmax = np.zeros((N, Ho, Wo, C), dtype=np.intp)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, i * stride:i * stride + pool_h, j * stride:j * stride + pool_w, c]
                    k = np.argmax(window)            # the first maximum in row-major order
                    argmax[n, i, j, c] = k
                    out[n, i, j, c] = window.flat[k]
    return out, (x.shape, argmax, pool_w, stride)


def max_pool_backward_naive(dout, cache):
    """Gradient of `max_pool_forward_naive`: each output's gradient added to its window's first
    maximum (overlapping windows accumulate)."""
    x_shape, argmax, pool_w, stride = cache
    dx = np.zeros(x_shape, dtype=dout.dtype)
    N, Ho, Wo, C = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    k = argmax[n, i, j, c]
                    dx[n, i * stride + k // pool_w, j * stride + k % pool_w, c] += dout[n, i, j, c]
    return dx


# Affine (dense) ---------------------------------------------------------------------------------

def affine_forward(x, w, b):
    """x (N, d1, ..., dk) flattened to (N, D) -> out = x w + b, (N, M); w (D, M), b (M,)."""
    x2 = x.reshape(x.shape[0], -1)
    out = matmul(x2, w)
    out += b
    return out, (x, w)


def affine_backward(dout, cache):
    """dout (N, M) -> dx (shaped like x), dw (D, M), db (M,)."""
    x, w = cache
    x2 = x.reshape(x.shape[0], -1)
    dx = matmul(dout, w.T).reshape(x.shape)
    dw = matmul(x2.T, dout)
    db = dout.sum(axis=0)
    return dx, dw, db


# Loss -------------------------------------------------------------------------------------------

def softmax_loss(scores, y):
    """Softmax cross-entropy averaged over the batch, computed stably (shifted by the row max).

    scores: (N, K); y: (N,) integer classes in 0..K-1.
    Returns (loss, a float; dscores (N, K), d loss / d scores, in the dtype of scores).
    """
    N = scores.shape[0]
    rows = np.arange(N)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_sum
    loss = -float(np.mean(log_probs[rows, y], dtype=np.float64))
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    dscores /= N
    return loss, dscores


# Parameters -------------------------------------------------------------------------------------

def he_init(shapes, rng, dtype=np.float32):
    """Parameters for `shapes` ({name: shape}): weights (names ending in _W) ~ N(0, 2 / fan_in)
    (He et al. 2015: the variance a ReLU layer keeps; fan_in = all but the last axis), biases 0."""
    params = {}
    for name, shape in shapes.items():
        if name.endswith("_W"):
            fan_in = int(np.prod(shape[:-1]))
            params[name] = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)
        else:
            params[name] = np.zeros(shape, dtype=dtype)
    return params


def weight_decay(J, grads, params, lamb, m):
    """Add lamb / (2m) * (sum of squared weights, biases excluded) to the cost J and its gradient
    (lamb / m) * W to `grads` (in place); the project's L2 convention. Returns the new J."""
    if lamb:
        for name, p in params.items():
            if name.endswith("_W"):
                J += lamb / (2 * m) * float(np.vdot(p, p))      # in p's dtype: no float64 copy
                grads[name] += (lamb / m) * p
    return J


# Dropout ----------------------------------------------------------------------------------------

def dropout_forward(x, p, rng):
    """Inverted dropout (Srivastava et al. 2014), for training only: each unit of x (any shape) is
    zeroed with probability p and the others are scaled by 1 / (1 - p), so that a unit's expected
    value is what it is without dropout and reading digits needs no change. rng: a numpy Generator,
    which alone decides the mask (the same Generator state, the same mask). Returns out and a cache
    (the mask, 0 or 1 / (1 - p), in x's dtype)."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout {p}: the share of units dropped must be at least 0 and below 1")
    mask = (rng.random(x.shape, dtype=np.float32) >= p).astype(x.dtype)
    mask *= x.dtype.type(1 / (1 - p))
    return x * mask, mask


def dropout_backward(dout, cache):
    """dx = dout * mask: the gradient flows through the units kept, scaled as they were."""
    return dout * cache


def dropout_forward_naive(x, p, rng):
    """The same mask and output as `dropout_forward`, one unit at a time (the tests' reference)."""
    draws = rng.random(x.shape, dtype=np.float32)
    out, mask = np.zeros_like(x), np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        if draws[i] >= p:
            mask[i] = 1 / (1 - p)
            out[i] = x[i] * mask[i]
    return out, mask


# A stack of dense layers, the end of every network here -----------------------------------------

def dense_stack_forward(x, params, hidden_layers, dropout=0.0, rng=None):
    """x (N, ...) -> [affine (fc{i}_W, fc{i}_b) -> ReLU (-> dropout)] for i = 1..hidden_layers
    -> affine (out_W, out_b): scores (N, K) and the caches for `dense_stack_backward`.
    dropout > 0 (training only, with `rng`): each hidden layer's units dropped with that
    probability (`dropout_forward`); 0, the default: none, and reading is always without."""
    caches = []
    for i in range(1, hidden_layers + 1):
        x, fc_cache = affine_forward(x, params[f"fc{i}_W"], params[f"fc{i}_b"])
        x, relu_cache = relu_forward(x)
        mask = None
        if dropout:
            x, mask = dropout_forward(x, dropout, rng)
        caches.append((fc_cache, relu_cache, mask))
    scores, out_cache = affine_forward(x, params["out_W"], params["out_b"])
    return scores, (caches, out_cache)


def dense_stack_backward(dscores, cache, grads):
    """Gradients of `dense_stack_forward`: fills grads["fc{i}_W"], ..., grads["out_b"] and
    returns dx, shaped like its input x."""
    caches, out_cache = cache
    d, grads["out_W"], grads["out_b"] = affine_backward(dscores, out_cache)
    for i in range(len(caches), 0, -1):
        fc_cache, relu_cache, mask = caches[i - 1]
        if mask is not None:
            d = dropout_backward(d, mask)
        d = relu_backward(d, relu_cache)
        d, grads[f"fc{i}_W"], grads[f"fc{i}_b"] = affine_backward(d, fc_cache)
    return d


def dense_stack_features(cache):
    """From `dense_stack_forward`'s cache: what its output layer read, (N, D)."""
    x, _ = cache[1]
    return x.reshape(x.shape[0], -1)
