"""Initial weights and forward prediction."""
import numpy as np
import pytest

from prediction import predict, predict_proba
from rand_initialise import initialise


def test_initial_weights_have_bias_column_and_range():
    W = initialise(100, 784, rng=np.random.default_rng(0))
    assert W.shape == (100, 785)
    assert W.min() >= -0.15 and W.max() <= 0.15
    # Uniform over the whole interval, not bunched: both ends are approached.
    assert W.min() < -0.149 and W.max() > 0.149
    assert abs(W.mean()) < 0.01


def test_initialisation_is_reproducible_with_a_generator():
    a = initialise(5, 3, rng=np.random.default_rng(42))
    b = initialise(5, 3, rng=np.random.default_rng(42))
    c = initialise(5, 3, rng=np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_custom_epsilon():
    W = initialise(50, 50, epsilon=0.01, rng=np.random.default_rng(0))
    assert np.abs(W).max() <= 0.01


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        initialise(0, 3)


def test_prediction_with_hand_made_weights():
    # Hidden unit j copies input j (large weight), output unit k copies hidden unit k:
    # the prediction is the index of the brightest of the first three pixels.
    Theta1 = np.zeros((3, 5))
    Theta1[:, 1:4] = 20 * np.eye(3)
    Theta1[:, 0] = -10
    Theta2 = np.zeros((3, 4))
    Theta2[:, 1:] = 20 * np.eye(3)
    Theta2[:, 0] = -10
    X = np.array([[1, 0, 0, 0.5], [0, 1, 0, 0.9], [0, 0, 1, 0], [0, 0.9, 0, 1]], dtype=float)
    np.testing.assert_array_equal(predict(Theta1, Theta2, X), [0, 1, 2, 1])
    proba = predict_proba(Theta1, Theta2, X)
    assert proba.shape == (4, 3)
    assert proba[0, 0] > 0.99 and proba[0, 1] < 0.01


def test_prediction_of_a_single_vector():
    Theta1 = np.zeros((2, 3))
    Theta2 = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    assert predict(Theta1, Theta2, np.array([0.3, 0.7])).tolist() == [1]
