"""The MLP's cost and gradient, fast: `model.neural_network`'s numbers, arranged for training.

`model.py` holds the tutorial's maths written plainly (the reference); this file computes the
same cost and gradient on a fixed training set several times faster, as CS231n keeps
`fast_layers.py` beside `layers.py`. The tests hold the two equal to 1e-9
(tests/test_model.py); benchmarks/bench_training.py measures them side by side.
"""
import collections
import threading

import numpy as np

from digits.blas import blas_single_threaded, numpy_blas_threads
from model import add_bias_column, one_hot, roll, sigmoid, softplus

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
            with blas_single_threaded():
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
