"""The network's cost function and its gradient, written by hand.

A 3-layer network (input -> sigmoid hidden layer -> sigmoid output layer) with
the cross-entropy cost of the reference tutorial:

    J = 1/m * sum_i sum_k [ -y_ik log(a3_ik) - (1 - y_ik) log(1 - a3_ik) ]
        + lambda/(2m) * (sum Theta1[:, 1:]**2 + sum Theta2[:, 1:]**2)

and its gradient by backpropagation. Bias columns (column 0 of each Theta) are
not regularised.

`neural_network` is that maths written out plainly, with the reference's signature and
results: read it to see what the network computes. `digits/nets/fast_mlp.py` computes the same
cost and gradient for training, several times faster (as CS231n keeps `fast_layers.py` beside
`layers.py`); the tests hold the two equal to 1e-9.
"""
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
    `digits.nets.fast_mlp.CostFunction` once instead: the same numbers, several times faster.
    """
    Theta1, Theta2 = roll(np.asarray(nn_params, dtype=np.float64), input_layer_size, hidden_layer_size, num_labels)
    J, Theta1_grad, Theta2_grad = cost_and_gradients(Theta1, Theta2, X, y, lamb)
    return J, unroll(Theta1_grad, Theta2_grad)


def cost_and_gradients(Theta1, Theta2, X, y, lamb):
    """`neural_network` on the two matrices themselves: (J, Theta1_grad, Theta2_grad).

    Theta1 (hidden, n + 1) and Theta2 (labels, hidden + 1), bias column first; X (m, n) inputs
    scaled to [0, 1]; y (m,) labels 0..labels-1. The gradients have the Thetas' shapes.
    """
    Theta1, Theta2 = np.asarray(Theta1, dtype=np.float64), np.asarray(Theta2, dtype=np.float64)
    num_labels = Theta2.shape[0]
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != Theta1.shape[1] - 1:
        raise ValueError(f"X has shape {X.shape}, expected (m, {Theta1.shape[1] - 1})")
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
    return J, Theta1_grad, Theta2_grad
