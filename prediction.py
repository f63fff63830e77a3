"""Forward propagation: what the trained network says about new images."""
import numpy as np

from activations import sigmoid


def predict_proba(Theta1, Theta2, X):
    """Output-unit activations, shape (m, labels): each in (0, 1), one per digit.

    The output units are independent sigmoids (as trained), so a row need not sum to 1;
    the predicted digit is the most active unit.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    a2 = sigmoid(X @ Theta1[:, 1:].T + Theta1[:, 0])
    return sigmoid(a2 @ Theta2[:, 1:].T + Theta2[:, 0])


def predict(Theta1, Theta2, X):
    """Predicted digit for each row of X (pixels scaled to [0, 1]), as in the reference."""
    return np.argmax(predict_proba(Theta1, Theta2, X), axis=1)
