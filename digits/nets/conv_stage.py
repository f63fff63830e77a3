"""One stage of the CNN fused: `same` convolution -> pool x pool max pooling -> ReLU, forward and backward.

    y, cache = stage_forward(x, w, b, pool=2)        # x (N, H, W, C) -> y (N, H//pool, W//pool, F)
    dx, dw, db = stage_backward(dy, cache, need_dx=True)

The same values and gradients as digits.nets.layers' conv_forward (stride 1, pad = k // 2),
max_pool_forward and relu_forward in a row (a window's gradient on its first maximum in
row-major order; none where the pooled value is <= 0), computed with fewer passes over memory:

* The im2col rows are ordered by their place in the pooling window: row (a, c, n, ho, wo) holds
  the window of the convolution output at (pool*ho + a, pool*wo + c). The product then gives
  the pool*pool candidates of every pooled value as pool*pool contiguous blocks, so max pooling
  is pool*pool - 1 element-wise maxima of contiguous arrays and the ReLU one more; no mask is
  kept: the backward pass finds each window's first maximum by comparing the blocks with y.
  Outputs beyond the last whole window (an odd size) are never computed: pooling ignores them.
* The bias rides in the product: the rows end with a 1 and the filters with the biases, so
  there is no pass adding them, and db comes out of the filters' gradient product.
* A 1-channel input (the first layer) is gathered as columns, (kh*kw + 1, rows), the window
  offsets outermost: its copies then run along image rows instead of kw-long runs, and the
  products read it transposed.
* Wider inputs (C > 1, `_offsets_forward`) are gathered once per filter row rather than per
  whole window: row (hp, n, c, wo) holds the kw*C values the filters' rows read at padded input
  row hp and output column pool*wo + c (and a 1). Filter row i reads the input rows shifted by
  i, a contiguous block of those rows, so the convolution is kh products of kw*C (+ 1) columns
  added up: the gathered array is kh times smaller than whole windows' (5.2 MB against 20 MB
  for 64 images of 14x14x16 and 5x5 filters) and the narrower products ran faster. Outputs come
  in the order (h, n, c, wo), h = pool*ho + a: pooling is maxima over views with runs of Wo*F
  values, and y is (Ho, N, Wo, F) in memory, returned as an (N, Ho, Wo, F) view.
* dx (both ways): one product per filter offset, (rows, F) @ (F, C), added into the gradient of
  the padded input kept split into phases (rows and columns by their remainder mod pool):
  there each addition is a block of whole image rows, and the window places that land in
  consecutive phases go in one addition (1 to 4 per offset instead of pool*pool).

Every matrix product goes through digits.nets.layers.matmul (the benchmark's hook). Works in
the dtype it is given: float32 for training, float64 for the gradient checks.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from digits.nets import layers
from digits.nets.workspace import work_array


# Wider inputs (C > 1) are gathered by filter row (`_offsets_forward`); False: as whole windows
# like the first layer (the former path, kept for the benchmark's side-by-side table).
ROW_OFFSETS = True


def stage_forward(x, w, b, pool=2, work=None, name="stage"):
    """x (N, H, W, C), w (k, k, C, F) with k odd, b (F,) -> y (N, H // pool, W // pool, F) =
    ReLU(max pool(conv(x, zero padding k // 2))), and the cache for `stage_backward`.

    work: None, or a digits.nets.workspace.Workspace whose arrays `name`/... hold the large
    intermediates (then the cache is only good until the thread's next call with that name)."""
    kh, kw, C, F = w.shape
    N, H, W, _ = x.shape
    if x.ndim != 4 or x.shape[3] != C or kh != kw or kh % 2 == 0:
        raise ValueError(f"input {x.shape} and filters {w.shape}: NHWC input and square, odd HWIO filters expected")
    Ho, Wo = H // pool, W // pool
    if Ho == 0 or Wo == 0:
        raise ValueError(f"a {pool}x{pool} pool does not fit in {H}x{W}")
    if C > 1 and ROW_OFFSETS:
        return _offsets_forward(x, w, b, pool, work, name)
    rows = _gather(x, kh, pool, Ho, Wo, work, name)         # (P*M, K + 1), M = N*Ho*Wo
    w_ext = np.concatenate([w.reshape(kh * kw * C, F), b.reshape(1, F).astype(w.dtype)])
    z = work_array(work, name + "/z", (pool * pool, N * Ho * Wo, F), x.dtype)
    layers.matmul(rows, w_ext, out=z.reshape(-1, F))
    y = work_array(work, name + "/y", (N * Ho * Wo, F), x.dtype)
    _pool_relu(list(z), y)
    return y.reshape(N, Ho, Wo, F), ("windows", x.shape, rows, w, z, y, pool, work, name)


def _pool_relu(candidates, y):
    """y = max(0, the candidates' element-wise maximum), in place."""
    if len(candidates) > 1:
        np.maximum(candidates[0], candidates[1], out=y)
    else:
        y[...] = candidates[0]
    for c in candidates[2:]:
        np.maximum(y, c, out=y)
    np.maximum(y, 0, out=y)


def _pool_backward(dy, y, candidates, d_candidates, work, name):
    """Each window's gradient dy (where y > 0) to its first maximum: d_candidates[k] (arrays
    shaped like y, written) = dy where candidate k is the first that equals y, else 0."""
    hit = work_array(work, name + "/hit", y.shape, bool)
    g = work_array(work, name + "/g", y.shape, y.dtype)
    np.greater(y, 0, out=hit)
    np.multiply(dy, hit, out=g)                              # ReLU: no gradient where y <= 0
    for c, d in zip(candidates[:-1], d_candidates[:-1]):     # each window's first maximum takes g
        np.equal(c, y, out=hit)
        np.multiply(g, hit, out=d)
        g -= d                                               # exact: d is g or 0
    d_candidates[-1][...] = g                                # what is left: the last place was the max


def stage_backward(dy, cache, need_dx=True):
    """Gradients of `stage_forward`: dy (N, Ho, Wo, F) -> dx (N, H, W, C) (None when need_dx
    is False: the first layer, whose input is the data), dw (k, k, C, F), db (F,)."""
    if cache[0] == "row offsets":
        return _offsets_backward(dy, cache, need_dx)
    _, x_shape, rows, w, z, y, pool, work, name = cache
    kh, kw, C, F = w.shape
    P, M, _ = z.shape
    dz = work_array(work, name + "/dz", z.shape, z.dtype)
    _pool_backward(dy.reshape(M, F), y, list(z), list(dz), work, name)
    dz2 = dz.reshape(P * M, F)
    if rows.flags.c_contiguous:
        # Rows gathered as rows: the product transposed, (F, K + 1), measured (one thread, 64 images,
        # 14x14x16 -> 32 filters 5x5) 6.1 ms against 7.2 ms for rows.T @ dz2; with columns the other way round.
        dw_ext = layers.matmul(dz2.T, rows).T
    else:
        dw_ext = layers.matmul(rows.T, dz2)
    dw, db = np.ascontiguousarray(dw_ext[:-1]).reshape(w.shape), dw_ext[-1].copy()
    dx = _scatter(dz2, w, x_shape, pool, work, name) if need_dx else None
    return dx, dw, db


# By filter row (C > 1) -------------------------------------------------------------------------------

def _offsets_forward(x, w, b, pool, work, name):
    """The stage with the input gathered once per filter row, not per window: rows[hp, n, c, wo]
    holds the k*C values the filters' rows read at padded input row hp and output column
    pool*wo + c, then a 1. Filter row i reads input rows shifted by i, a contiguous block of
    these rows: the convolution is k products of k*C (+ 1, the bias in the first) columns, added.
    Against one product over whole windows (k*k*C + 1 columns) the gathered array and its
    col2im are k times smaller, and the narrower products ran faster (one thread, 64 images,
    14x14x16 -> 32 filters 5x5: forward products 3.6 ms against 5.4 ms).

    The conv outputs are computed in the order (h, n, c, wo), h = pool*ho + a, w = pool*wo + c:
    pooling is element-wise maxima over views with long contiguous runs, and y comes out as
    (Ho, N, Wo, F), returned as an (N, Ho, Wo, F) view."""
    k, _, C, F = w.shape
    N, H, W, _ = x.shape
    pad, K = k // 2, k * C
    Ho, Wo = H // pool, W // pool
    Hg = pool * Ho + k - 1                  # padded input rows the computed outputs read
    L = N * pool * Wo                       # gathered rows per input row
    M = pool * Ho * L                       # conv outputs computed
    xp = work_array(work, name + "/xp", (H + 2 * pad, N, W + 2 * pad, C), x.dtype, zero=True)
    xp[pad:pad + H, :, pad:pad + W] = x.transpose(1, 0, 2, 3)
    rows = work_array(work, name + "/rows", (Hg, N, pool, Wo, K + 1), x.dtype)
    rows[..., K] = 1
    sH, sN, sW, sC = xp.strides
    rows[..., :K].reshape(Hg, N, pool, Wo, k, C)[...] = as_strided(
        xp, (Hg, N, pool, Wo, k, C), (sH, sN, sW, pool * sW, sW, sC), writeable=False)
    R = rows.reshape(Hg * L, K + 1)
    z = work_array(work, name + "/z", (Ho, pool, N, pool, Wo, F), x.dtype)
    z2 = z.reshape(M, F)
    layers.matmul(R[:M], np.concatenate([w[0].reshape(K, F), b.reshape(1, F).astype(w.dtype)]), out=z2)
    if k > 1:
        t = work_array(work, name + "/t", (M, F), x.dtype)
        for i in range(1, k):
            layers.matmul(R[i * L:i * L + M, :K], w[i].reshape(K, F), out=t)
            z2 += t
    y = work_array(work, name + "/y", (Ho, N, Wo, F), x.dtype)
    _pool_relu(_candidates(z, pool), y)
    return y.transpose(1, 0, 2, 3), ("row offsets", x.shape, R, w, z, y, pool, work, name)


def _candidates(z, pool):
    """The pool*pool views (Ho, N, Wo, F) of z (Ho, pool, N, pool, Wo, F), in the window's row-major order."""
    return [z[:, a, :, c] for a in range(pool) for c in range(pool)]


def _offsets_backward(dy, cache, need_dx):
    _, (N, H, W, C), R, w, z, y, pool, work, name = cache
    k, _, _, F = w.shape
    pad, K = k // 2, k * C
    Ho, Wo = H // pool, W // pool
    Hg, L = pool * Ho + k - 1, N * pool * Wo
    M = pool * Ho * L
    dz = work_array(work, name + "/dz", z.shape, z.dtype)
    _pool_backward(dy.transpose(1, 0, 2, 3), y, _candidates(z, pool), _candidates(dz, pool), work, name)
    dz2 = dz.reshape(M, F)
    # Products transposed, (F, K): measured (one thread, 64 images, 14x14x16 -> 32 filters 5x5) 4.1 ms
    # for the five against 5.2 ms for R_i.T @ dz2.
    dwt = np.empty((k, F, K), dtype=z.dtype)
    first = layers.matmul(dz2.T, R[:M])                     # (F, K + 1): the bias's gradient last
    dwt[0], db = first[:, :K], first[:, K].copy()
    for i in range(1, k):
        layers.matmul(dz2.T, R[i * L:i * L + M, :K], out=dwt[i])
    dw = np.ascontiguousarray(dwt.transpose(0, 2, 1))
    dx = _offsets_dx(dz2, w, (N, H, W, C), pool, work, name) if need_dx else None
    return dx, dw.reshape(w.shape), db


def _offsets_dx(dz2, w, x_shape, pool, work, name):
    """col2im for `_offsets_forward`: dz2 (rows (h, n, c, wo), F) -> dx (N, H, W, C), one product
    (rows, F) @ (F, C) per filter offset (i, j), added into the gradient of the padded input kept
    split by column phase (dq[hp, n, s, wq] is padded (hp, pool*wq + s)): there each addition is
    a run of Wo*C values (one or two per offset). Measured (two threads at once, 64 images each,
    the whole step): 0.9-1.8 ms per step less than k products of k*C columns whose parts were
    then added back filter column by filter column (runs of C values, from and to arrays larger
    than a core's cache)."""
    N, H, W, C = x_shape
    k, _, _, F = w.shape
    pad, Ho, Wo = k // 2, H // pool, W // pool
    Hc, Wq = pool * Ho, -(-(W + k - 1) // pool)
    dq = work_array(work, name + "/dq", (H + 2 * pad, N, pool, Wq, C), dz2.dtype, zero=True)
    part = work_array(work, name + "/part", (Hc, N, pool, Wo, C), dz2.dtype)
    for i in range(k):
        for j in range(k):
            layers.matmul(dz2, w[i, j].T, out=part.reshape(-1, C))
            for places, phases, dj in _runs(j, pool):
                target = dq[i:i + Hc, :, phases, dj:dj + Wo]
                np.add(target, part[:, :, places], out=target)
    dxp = dq.transpose(0, 1, 3, 2, 4).reshape(H + 2 * pad, N, Wq * pool, C)
    return dxp[pad:pad + H, :, pad:pad + W].transpose(1, 0, 2, 3)


# Whole windows (the first layer, C = 1) -----------------------------------------------------------

def _phases(N, H, W, k, pool):
    """Sizes of the padded input split into pool x pool phases: (Hq, Wq), each phase (N, Hq, Wq, .)
    with Hq * pool >= H + k - 1 (the padded height), likewise Wq."""
    return -(-(H + k - 1) // pool), -(-(W + k - 1) // pool)


def _gather(x, k, pool, Ho, Wo, work, name):
    """im2col in pooling order: (P*N*Ho*Wo, k*k*C + 1) rows, row (a, c, n, ho, wo) the window of
    the output at (pool*ho + a, pool*wo + c) flattened in (i, j, C) order, then a 1. For C = 1 a
    transposed (F-ordered) view of a (k*k + 1, rows) array."""
    N, H, W, C = x.shape
    pad, K = k // 2, k * k * C
    xp = work_array(work, name + "/xp", (N, H + 2 * pad, W + 2 * pad, C), x.dtype, zero=True)
    xp[:, pad:pad + H, pad:pad + W, :] = x
    sN, sH, sW, sC = xp.strides
    M4 = pool * pool * N * Ho * Wo
    if C == 1:
        cols = work_array(work, name + "/rows", (K + 1, M4), x.dtype)
        cols[K] = 1
        cols[:K].reshape(k, k, pool, pool, N, Ho, Wo)[...] = as_strided(
            xp, (k, k, pool, pool, N, Ho, Wo), (sH, sW, sH, sW, sN, pool * sH, pool * sW), writeable=False)
        return cols.T
    out = work_array(work, name + "/rows", (M4, K + 1), x.dtype)
    out[:, K] = 1
    out[:, :K].reshape(pool, pool, N, Ho, Wo, k, k, C)[...] = as_strided(
        xp, (pool, pool, N, Ho, Wo, k, k, C), (sH, sW, sN, pool * sH, pool * sW, sH, sW, sC), writeable=False)
    return out


def _runs(i, pool):
    """Where filter offset i sends the window places a = 0..pool-1 in the phases of the padded
    input (place a reads padded row pool*ho + a + i: phase (a + i) % pool, row ho + (a + i) // pool):
    at most two runs (places, phases, row shift), each of consecutive places and phases."""
    s = i % pool
    runs = [(slice(0, pool - s), slice(s, pool), i // pool)]
    if s:
        runs.append((slice(pool - s, pool), slice(0, s), i // pool + 1))
    return runs


def _scatter(dz2, w, x_shape, pool, work, name):
    """col2im: dz2 (P*N*Ho*Wo, F) rows in pooling order -> dx (N, H, W, C), each filter offset's
    product (rows, F) @ (F, C) added where that offset's windows read the input."""
    N, H, W, C = x_shape
    k = w.shape[0]
    pad = k // 2
    Ho, Wo = H // pool, W // pool
    Hq, Wq = _phases(N, H, W, k, pool)
    # The gradient of the padded input, split into phases: dq[r, s, n, hq, wq] is padded (pool*hq + r, pool*wq + s).
    dq = work_array(work, name + "/dq", (pool, pool, N, Hq, Wq, C), dz2.dtype, zero=True)
    part = work_array(work, name + "/part", (pool, pool, N, Ho, Wo, C), dz2.dtype)
    for i in range(k):
        for j in range(k):
            layers.matmul(dz2, w[i, j].T, out=part.reshape(-1, C))
            for window_rows, phase_rows, di in _runs(i, pool):
                for window_cols, phase_cols, dj in _runs(j, pool):
                    dq[phase_rows, phase_cols, :, di:di + Ho, dj:dj + Wo] += part[window_rows, window_cols]
    dxp = dq.transpose(2, 3, 0, 4, 1, 5).reshape(N, Hq * pool, Wq * pool, C)
    return dxp[:, pad:pad + H, pad:pad + W]


# The same stage from the separate layers: the reference of the tests, the old path of the benchmark --

def separate_forward(x, w, b, pool=2, work=None, name=None):
    """`stage_forward` as layers.conv_forward -> max_pool_forward -> relu_forward (allocating
    its arrays: `work` and `name` are ignored)."""
    a, conv_cache = layers.conv_forward(x, w, b, 1, w.shape[0] // 2)
    a, pool_cache = layers.max_pool_forward(a, pool)
    a, relu_cache = layers.relu_forward(a)
    return a, (conv_cache, pool_cache, relu_cache)


def separate_backward(dy, cache, need_dx=True):
    """`stage_backward` as layers.relu_backward -> max_pool_backward -> conv_backward."""
    conv_cache, pool_cache, relu_cache = cache
    d = layers.max_pool_backward(layers.relu_backward(dy, relu_cache), pool_cache)
    return layers.conv_backward(d, conv_cache, need_dx)
