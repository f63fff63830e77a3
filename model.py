"""The network's cost function and its gradient, written by hand.

A 3-layer network (input -> sigmoid hidden layer -> sigmoid output layer) with
the cross-entropy cost of the reference tutorial:

    J = 1/m * sum_i sum_k [ -y_ik log(a3_ik) - (1 - y_ik) log(1 - a3_ik) ]
        + lambda/(2m) * (sum Theta1[:, 1:]**2 + sum Theta2[:, 1:]**2)

and its gradient by backpropagation. Bias columns (column 0 of each Theta) are
not regularised.

`neural_network` is that maths written out plainly, with the reference's signature and
results: read it to see what the network computes. `CostFunction` computes the same cost and
gradient for training, several times faster (its docstring says how); the tests hold the two
equal to 1e-9.
"""
import collections
import contextlib
import os
import threading

import numpy as np


def sigmoid(z, out=None):
    """1 / (1 + exp(-z)), element-wise. `out` may be `z` itself (no temporary arrays are made).

    Finite and warning-free for every z (sigmoid(-1000) is 0, sigmoid(1000) is 1). float64 is
    computed as written, with -z capped where exp would overflow (at about 709.8, where the
    result is already below 1e-308). float32 is computed as 0.5 * tanh(z / 2) + 0.5, the same
    function: NumPy's float32 tanh is vectorised on every x86 CPU and faster than its exp,
    while its float64 tanh is not (on AVX2 it takes longer than exp); measured in
    benchmarks/bench_training.py's notes.
    """
    z = np.asarray(z)
    if z.dtype == np.float32:
        out = np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
        return out
    out = np.negative(z, out=out)
    np.minimum(out, _LARGEST_EXP_ARGUMENT, out=out)
    np.exp(out, out=out)
    out += 1
    return np.divide(1, out, out=out)


_LARGEST_EXP_ARGUMENT = np.log(np.finfo(np.float64).max)  # 709.78: exp of more overflows


def softplus(z, out=None):
    """log(1 + exp(z)) = -log(sigmoid(-z)) = -log(1 - sigmoid(z)), finite for every finite z.

    Written as max(z, 0) + log1p(exp(-|z|)): exp never overflows and nothing is lost to
    rounding where the sigmoid saturates (softplus(1000) is 1000, not inf). `out` may be `z`.
    """
    positive_part = np.maximum(z, 0)
    out = np.abs(z, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += positive_part
    return out


def output_layer(Theta1, Theta2, X):
    """z3 = a2 Theta2', the output units before their sigmoid, shape (m, labels).

    a1 = [1, X] for inputs X (m, n) scaled to [0, 1];  a2 = [1, sigmoid(a1 Theta1')].
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    a2 = sigmoid(X @ Theta1[:, 1:].T + Theta1[:, 0])
    return a2 @ Theta2[:, 1:].T + Theta2[:, 0]


def feed_forward(Theta1, Theta2, X):
    """The network's output units a3 = sigmoid(z3), shape (m, labels): forward propagation.

    Each output is in (0, 1), one independent sigmoid per digit, so a row need not sum to 1.
    """
    return sigmoid(output_layer(Theta1, Theta2, X))


def unroll(Theta1, Theta2):
    """Flatten both weight matrices into one parameter vector (row-major, Theta1 first)."""
    return np.concatenate((np.ravel(Theta1), np.ravel(Theta2)))


def roll(nn_params, input_layer_size, hidden_layer_size, num_labels):
    """Split a parameter vector back into Theta1 (hidden x input+1) and Theta2 (labels x hidden+1).

    Returns views of `nn_params`: callers must not write into them.
    """
    nn_params = np.asarray(nn_params)
    split = hidden_layer_size * (input_layer_size + 1)
    expected = split + num_labels * (hidden_layer_size + 1)
    if nn_params.shape != (expected,):
        raise ValueError(
            f"nn_params has shape {nn_params.shape}, expected ({expected},) for a "
            f"{input_layer_size}-{hidden_layer_size}-{num_labels} network")
    Theta1 = nn_params[:split].reshape(hidden_layer_size, input_layer_size + 1)
    Theta2 = nn_params[split:].reshape(num_labels, hidden_layer_size + 1)
    return Theta1, Theta2


def add_bias_column(X, dtype=np.float64, scale=1.0):
    """Return [1, X * scale] as a new C-contiguous array of `dtype`, shape (m, n + 1)."""
    X = np.asarray(X)
    A = np.empty((X.shape[0], X.shape[1] + 1), dtype=dtype)
    A[:, 0] = 1
    if scale == 1.0:
        A[:, 1:] = X
    else:
        # Divide rather than multiply by 1/scale so float64 pixels match X / 255 bit for bit.
        np.divide(X, 1.0 / scale, out=A[:, 1:], dtype=dtype, casting="unsafe")
    return A


def one_hot(y, num_labels, dtype=np.float64):
    """Labels 0..num_labels-1 as an (m, num_labels) matrix of 0s and 1s."""
    y = np.asarray(y).ravel()
    labels = y.astype(np.intp)
    if not np.array_equal(labels, y) or labels.min(initial=0) < 0 or labels.max(initial=0) >= num_labels:
        raise ValueError(f"labels must be whole numbers in 0..{num_labels - 1}")
    Y = np.zeros((labels.size, num_labels), dtype=dtype)
    Y[np.arange(labels.size), labels] = 1
    return Y


def neural_network(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lamb):
    """Cost J and gradient of the network at `nn_params`: the reference tutorial's function.

    The course's maths, vectorised over the m examples (the rows of X). Same arguments and
    results as the reference; it leaves its arguments unchanged. For training, build a
    `CostFunction` once instead: the same numbers, several times faster.
    """
    Theta1, Theta2 = roll(np.asarray(nn_params, dtype=np.float64), input_layer_size, hidden_layer_size, num_labels)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != input_layer_size:
        raise ValueError(f"X has shape {X.shape}, expected (m, {input_layer_size})")
    m = X.shape[0]
    Y = one_hot(y, num_labels)                   # (m, labels): row i is 1 at label y_i, else 0
    if Y.shape[0] != m:
        raise ValueError(f"X has {m} examples but y has {Y.shape[0]} labels")

    # Forward propagation.
    a1 = add_bias_column(X)                      # (m, input + 1)
    z2 = a1 @ Theta1.T                           # (m, hidden)
    a2 = add_bias_column(sigmoid(z2))            # (m, hidden + 1)
    z3 = a2 @ Theta2.T                           # (m, labels)
    a3 = sigmoid(z3)

    # Cost. -log(a3) = softplus(-z3) and -log(1 - a3) = softplus(z3): the same numbers, but
    # finite even where a3 rounds to exactly 0 or 1.
    J = np.sum(Y * softplus(-z3) + (1 - Y) * softplus(z3)) / m
    J += lamb / (2 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))

    # Backpropagation, with sigmoid'(z2) = a2 * (1 - a2) (a2 without its bias column).
    delta3 = a3 - Y                                                  # (m, labels)
    delta2 = (delta3 @ Theta2[:, 1:]) * a2[:, 1:] * (1 - a2[:, 1:])  # (m, hidden)
    Theta1_grad = delta2.T @ a1 / m
    Theta2_grad = delta3.T @ a2 / m

    # Regularisation, leaving the bias columns out.
    Theta1_grad[:, 1:] += lamb / m * Theta1[:, 1:]
    Theta2_grad[:, 1:] += lamb / m * Theta2[:, 1:]
    return J, unroll(Theta1_grad, Theta2_grad)


# ---- The same cost and gradient, fast: for training -------------------------------------------

BLOCK_ROWS = 1024  # examples per block of the sums over examples (see CostFunction)


class CostFunction:
    """Cost and gradient of the network on one fixed training set: `neural_network`, fast.

    Call it with a parameter vector to get `(J, grad)`, as `scipy.optimize.minimize(..., jac=True)`
    expects. The numbers are neural_network's (to rounding, 1e-9 or better in float64); the work
    is arranged differently:

    * The inputs with their bias column (`A1`) and the one-hot labels (`Y`) are made once, here.
      X may be raw pixels; `scale` multiplies them (1/255 for MNIST bytes) while A1 is built, so
      no float64 copy of the unscaled images is ever made.
    * Inputs that are 0 in every example (MNIST: 67 corner pixels of 784) add nothing to any
      sum, so their columns are left out of A1 (about 9 % less work); their weights' gradient
      is the regularisation term alone.
    * The sums over examples run over blocks of `block_rows` examples, small enough that a
      block's rows of A1 and its (examples x hidden) arrays are still in the CPU's cache when
      the backward pass needs them again. The blocks are shared out between `threads` threads
      (default: as many as NumPy's BLAS uses), each doing its blocks' matrix products on one
      core and its own element-wise work, so every core works on every step, not only on the
      products. The blocks' sums are added up in block order, so the results are the same
      whatever the number of threads, and no thread outlives the call.
    * With dtype=float32 the products and the element-wise work run in single precision (about
      twice as fast); the cost and the gradient are still summed in float64 and returned in
      float64.
    """

    def __init__(self, X, y, input_layer_size, hidden_layer_size, num_labels, lamb,
                 dtype=np.float64, scale=1.0, block_rows=BLOCK_ROWS, threads=None):
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != input_layer_size:
            raise ValueError(f"X has shape {X.shape}, expected (m, {input_layer_size})")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, not {self.dtype}")
        self.sizes = (input_layer_size, hidden_layer_size, num_labels)
        self.lamb = float(lamb)
        self.m = X.shape[0]
        if self.m == 0:
            raise ValueError("X has no examples")
        if block_rows < 1 or (threads is not None and threads < 1):
            raise ValueError("block_rows and threads must be at least 1")
        self.block_rows = int(block_rows)
        self.threads = threads
        used_pixels = np.flatnonzero(np.any(X != 0, axis=0))
        self.columns = np.concatenate(([0], used_pixels + 1))  # of Theta1: bias, then used inputs
        self.A1 = add_bias_column(X[:, used_pixels], self.dtype, scale)
        self.Y = one_hot(y, num_labels, self.dtype)
        if self.Y.shape[0] != self.m:
            raise ValueError(f"X has {self.m} examples but y has {self.Y.shape[0]} labels")
        self._spare_work_arrays = collections.deque()  # one set per thread, kept between calls

    def __call__(self, nn_params):
        m, lamb = self.m, self.lamb
        params = np.asarray(nn_params, dtype=np.float64)
        Theta1_64, Theta2_64 = roll(params, *self.sizes)
        # The weights as the products use them: Theta1's used columns, in the working precision.
        Theta1 = Theta1_64.take(self.columns, axis=1).astype(self.dtype, copy=False)
        Theta2 = Theta2_64.astype(self.dtype, copy=False)

        data_cost, Theta1_data_grad, Theta2_data_grad = self._sum_over_blocks(Theta1, Theta2)

        reg_cost = np.sum(Theta1_64[:, 1:] ** 2) + np.sum(Theta2_64[:, 1:] ** 2)
        J = data_cost / m + lamb / (2 * m) * reg_cost

        # The gradient, written straight into the vector returned: the regularisation term for
        # every weight but the biases, plus the data term where there is one.
        grad = np.empty_like(params)
        Theta1_grad, Theta2_grad = roll(grad, *self.sizes)
        np.multiply(Theta1_64, lamb / m, out=Theta1_grad)
        np.multiply(Theta2_64, lamb / m, out=Theta2_grad)
        Theta1_grad[:, 0] = 0
        Theta2_grad[:, 0] = 0
        Theta1_data_grad /= m
        Theta2_data_grad /= m
        Theta1_grad[:, self.columns] += Theta1_data_grad
        Theta2_grad += Theta2_data_grad
        return float(J), grad

    def _sum_over_blocks(self, Theta1, Theta2):
        """The cost and the gradients' data terms, summed over all examples (float64)."""
        todo = collections.deque(enumerate(range(0, self.m, self.block_rows)))
        sums = [0.0, np.zeros(Theta1.shape), np.zeros(Theta2.shape)]
        done = {}                # blocks finished out of turn, waiting to be added
        next_block = 0
        lock = threading.Lock()
        errors = []

        def add_in_block_order(block, result):
            nonlocal next_block
            with lock:
                done[block] = result
                while next_block in done:
                    cost, grad1, grad2 = done.pop(next_block)
                    sums[0] += cost
                    sums[1] += grad1
                    sums[2] += grad2
                    next_block += 1

        def work():
            arrays = self._work_arrays()
            try:
                while todo:
                    try:
                        block, start = todo.popleft()
                    except IndexError:  # another thread took the last one
                        break
                    rows = slice(start, start + self.block_rows)
                    add_in_block_order(block, block_cost_and_gradient(self.A1[rows], self.Y[rows],
                                                                      Theta1, Theta2, arrays))
            except BaseException as error:  # noqa: B036 - raised again in the calling thread
                todo.clear()
                errors.append(error)
            finally:
                self._spare_work_arrays.append(arrays)

        threads = min(self.threads or numpy_blas_threads(), len(todo))
        if threads <= 1:
            work()
        else:
            with _blas_single_threaded():
                helpers = [threading.Thread(target=work, name="CostFunction blocks", daemon=True)
                           for _ in range(threads - 1)]
                try:
                    for helper in helpers:
                        helper.start()
                    work()
                finally:
                    todo.clear()  # after Ctrl-C here, the helpers stop at the end of their block
                    for helper in helpers:
                        if helper.ident is not None:
                            helper.join()
        if errors:
            raise errors[0]
        return sums

    def _work_arrays(self):
        try:
            return self._spare_work_arrays.pop()
        except IndexError:
            return work_arrays(min(self.block_rows, self.m), self.sizes[1], self.sizes[2], self.dtype)


def work_arrays(rows, hidden_layer_size, num_labels, dtype):
    """Arrays for block_cost_and_gradient's intermediate results on up to `rows` examples."""
    return {"hidden": np.empty((3, rows, hidden_layer_size), dtype),
            "labels": np.empty((2, rows, num_labels), dtype)}


def block_cost_and_gradient(A1, Y, Theta1, Theta2, arrays=None):
    """Forward and backward pass over some examples: A1 = [1, X] (rows: examples), Y one-hot.

    Returns the summed cross-entropy (float64) and the summed, unregularised, unaveraged
    gradients of Theta1 (in A1's precision) and Theta2 (float64). `arrays` (from work_arrays)
    holds the intermediate results; without it they are allocated.
    """
    rows = A1.shape[0]
    if arrays is None:
        arrays = work_arrays(rows, Theta1.shape[0], Theta2.shape[0], A1.dtype)
    a2, delta2, slope = arrays["hidden"][:, :rows]
    z3, scratch = arrays["labels"][:, :rows]
    # Theta2 = [bias b2 | weights W2]. The reference appends a column of ones to a2 and
    # multiplies by Theta2; adding b2 instead is the same sum without copying a2.
    b2, W2 = Theta2[:, 0], Theta2[:, 1:]

    # Forward pass.
    np.matmul(A1, Theta1.T, out=a2)              # z2 (examples, hidden)
    sigmoid(a2, out=a2)                          # a2, in place: z2 is not needed again
    np.matmul(a2, W2.T, out=z3)                  # (examples, labels)
    z3 += b2

    # Cross-entropy: -y log(a3) - (1 - y) log(1 - a3) = y softplus(-z3) + (1 - y) softplus(z3)
    # = softplus(z3) - y z3. Finite even where a3 rounds to exactly 0 or 1.
    cost = np.sum(softplus(z3, out=scratch), dtype=np.float64)
    cost -= np.sum(np.multiply(Y, z3, out=scratch), dtype=np.float64)

    # Backward pass, with sigmoid'(z2) = a2 * (1 - a2).
    delta3 = sigmoid(z3, out=z3)                 # a3, then
    delta3 -= Y                                  # a3 - y (examples, labels)
    np.matmul(delta3, W2, out=delta2)            # (examples, hidden)
    np.subtract(1, a2, out=slope)
    slope *= a2
    delta2 *= slope

    Theta1_grad = delta2.T @ A1
    Theta2_grad = np.empty(Theta2.shape)
    Theta2_grad[:, 0] = delta3.sum(axis=0, dtype=np.float64)   # the bias unit's activation is 1
    Theta2_grad[:, 1:] = delta3.T @ a2
    return cost, Theta1_grad, Theta2_grad


# ---- Threads for the BLAS ---------------------------------------------------------------------

_blas_lock = threading.Lock()
_blas = {"numpy": None, "limiter": None, "users": 0}


def _numpy_blas():
    """threadpoolctl's controller of the BLAS NumPy's products use (found once: it takes ms)."""
    with _blas_lock:
        if _blas["numpy"] is None:
            from threadpoolctl import ThreadpoolController
            blas = ThreadpoolController().select(user_api="blas")
            numpy_dir = os.path.realpath(os.path.dirname(np.__file__))  # a prefix of numpy.libs/ too
            own = [lib for lib in blas.lib_controllers
                   if lib.filepath and os.path.realpath(lib.filepath).startswith(numpy_dir)]
            _blas["numpy"] = blas.select(filepath=[lib.filepath for lib in own]) if own else blas
        return _blas["numpy"]


def numpy_blas_threads():
    """How many threads NumPy's BLAS uses for a matrix product (1 if it cannot be told)."""
    return max([lib.num_threads for lib in _numpy_blas().lib_controllers] or [1])


@contextlib.contextmanager
def _blas_single_threaded():
    """NumPy's BLAS on one thread (each product on the thread that asks for it) for the duration.

    The BLAS's thread count is one setting for the whole process, so overlapping uses from
    several threads are counted: the first sets it, the last puts it back.
    """
    blas = _numpy_blas()
    with _blas_lock:
        if _blas["users"] == 0:
            _blas["limiter"] = blas.limit(limits=1)
        _blas["users"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas["users"] -= 1
            if _blas["users"] == 0:
                _blas["limiter"].restore_original_limits()
                _blas["limiter"] = None
