"""The network's cost function and its gradient, written by hand.

A 3-layer network (input -> sigmoid hidden layer -> sigmoid output layer) with
the cross-entropy cost of the reference tutorial:

    J = 1/m * sum_i sum_k [ -y_ik log(a3_ik) - (1 - y_ik) log(1 - a3_ik) ]
        + lambda/(2m) * (sum Theta1[:, 1:]**2 + sum Theta2[:, 1:]**2)

and its gradient by backpropagation. Bias columns (column 0 of each Theta) are
not regularised.

`neural_network` keeps the reference's signature. `CostFunction` is the form
for training: it builds the bias-augmented inputs and one-hot labels once and
reuses them on every evaluation, which is where most of the reference's time
and memory went.
"""
import numpy as np


def sigmoid(z, out=None):
    """1 / (1 + exp(-z)), evaluated as 0.5 * tanh(z / 2) + 0.5.

    The same function, but tanh never overflows (no warnings at z = -1000). `out` may be `z`
    itself.
    """
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def softplus(z):
    """log(1 + exp(z)) = -log(sigmoid(-z)) = -log(1 - sigmoid(z)), finite for every finite z.

    Written as max(z, 0) + log1p(exp(-|z|)): exp never overflows and nothing is lost to
    rounding where the sigmoid saturates (softplus(1000) is 1000, not inf).
    """
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


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


BLOCK_ROWS = 8192  # examples per block of the cost function's sums (see CostFunction.__call__)


class CostFunction:
    """Cost and gradient of the network on one fixed training set.

    Call it with a parameter vector to get `(J, grad)`, as `scipy.optimize.minimize(..., jac=True)`
    expects. The inputs with their bias column (`A1`) and the one-hot labels (`Y`) are made once
    here. With dtype=float32 the matrix products run in single precision (about twice as fast);
    the cost is still summed in float64 and the gradient is returned as float64.

    X may be raw pixels; `scale` multiplies them (1/255 for MNIST bytes) while A1 is built, so
    no float64 copy of the unscaled images is ever made.
    """

    def __init__(self, X, y, input_layer_size, hidden_layer_size, num_labels, lamb,
                 dtype=np.float64, scale=1.0, block_rows=BLOCK_ROWS):
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
        self.block_rows = block_rows
        # Inputs that are 0 in every example (MNIST: 67 corner pixels of 784) add nothing to any
        # product, so their columns are left out of A1: about 9 % less work, the same sums.
        # Their weights' gradient is then the regularisation term alone.
        used_pixels = np.flatnonzero(np.any(X != 0, axis=0))
        self.columns = np.concatenate(([0], used_pixels + 1))  # of Theta1: bias, then used inputs
        self.A1 = add_bias_column(X[:, used_pixels], self.dtype, scale)
        self.Y = one_hot(y, num_labels, self.dtype)
        if self.Y.shape[0] != self.m:
            raise ValueError(f"X has {self.m} examples but y has {self.Y.shape[0]} labels")

    def __call__(self, nn_params):
        m, lamb = self.m, self.lamb
        Theta1_64, Theta2_64 = roll(np.asarray(nn_params, dtype=np.float64), *self.sizes)
        Theta1 = Theta1_64.astype(self.dtype, copy=False)
        Theta2 = Theta2_64.astype(self.dtype, copy=False)

        # Sum the cost and gradient over blocks of examples: the same sums as over all m at
        # once, but the (examples x hidden) temporaries stay a few MB instead of ~50 MB each.
        Theta1_used = Theta1[:, self.columns]
        data_cost = 0.0
        Theta1_used_grad, Theta2_grad = np.zeros(Theta1_used.shape), np.zeros(Theta2.shape)
        for start in range(0, m, self.block_rows):
            rows = slice(start, start + self.block_rows)
            cost, grad1, grad2 = block_cost_and_gradient(self.A1[rows], self.Y[rows], Theta1_used, Theta2)
            data_cost += cost
            Theta1_used_grad += grad1
            Theta2_grad += grad2
        Theta1_grad = np.zeros(Theta1.shape)
        Theta1_grad[:, self.columns] = Theta1_used_grad

        reg_cost = np.sum(Theta1_64[:, 1:] ** 2) + np.sum(Theta2_64[:, 1:] ** 2)
        J = data_cost / m + lamb / (2 * m) * reg_cost
        Theta1_grad /= m
        Theta2_grad /= m
        # Regularisation gradient, leaving the bias columns out (without touching Theta).
        Theta1_grad[:, 1:] += lamb / m * Theta1_64[:, 1:]
        Theta2_grad[:, 1:] += lamb / m * Theta2_64[:, 1:]
        return float(J), unroll(Theta1_grad, Theta2_grad)


def block_cost_and_gradient(A1, Y, Theta1, Theta2):
    """Forward and backward pass over some examples: A1 = [1, X] (rows: examples), Y one-hot.

    Returns the summed cross-entropy (float64) and the summed, unregularised, unaveraged
    gradients of Theta1 and Theta2.
    """
    # Theta2 = [bias b2 | weights W2]. The reference appends a column of ones to a2 and
    # multiplies by Theta2; adding b2 instead is the same sum without copying a2.
    b2, W2 = Theta2[:, 0], Theta2[:, 1:]

    # Forward pass.
    z2 = A1 @ Theta1.T                           # (examples, hidden)
    a2 = sigmoid(z2, out=z2)                     # in place: z2 itself is not needed again
    z3 = a2 @ W2.T + b2                          # (examples, labels)
    a3 = sigmoid(z3)

    # Cross-entropy: -y log(a3) - (1 - y) log(1 - a3) = y softplus(-z3) + (1 - y) softplus(z3)
    # = softplus(z3) - y z3. Finite even where a3 rounds to exactly 0 or 1.
    cost = np.sum(softplus(z3), dtype=np.float64) - np.sum(Y * z3, dtype=np.float64)

    # Backward pass, with sigmoid'(z2) = a2 * (1 - a2).
    delta3 = a3 - Y                              # (examples, labels)
    delta2 = delta3 @ W2                         # (examples, hidden)
    delta2 *= a2
    delta2 *= 1 - a2

    Theta1_grad = delta2.T @ A1
    Theta2_grad = np.empty(Theta2.shape, dtype=np.float64)
    Theta2_grad[:, 0] = delta3.sum(axis=0, dtype=np.float64)   # the bias unit's activation is 1
    Theta2_grad[:, 1:] = delta3.T @ a2
    return cost, Theta1_grad, Theta2_grad


def neural_network(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lamb):
    """Cost J and gradient of the network at `nn_params`: the reference tutorial's function.

    Same arguments and results as the reference; it leaves its arguments unchanged. For
    repeated calls on the same data (training) build a `CostFunction` once instead.
    """
    cost = CostFunction(X, y, input_layer_size, hidden_layer_size, num_labels, lamb)
    return cost(nn_params)
