"""Elastic distortions of training batches (digits.nets.elastic) and the trainer with them."""
import numpy as np

from digits.imaging.distort import random_distortions, warp
from digits.nets import elastic
from tests.test_cnn import bars, history_of, tiny


def test_a_zero_field_is_the_affine_warp():
    rng = np.random.default_rng(0)
    X = rng.random((5, 784)).astype(np.float32)
    d = random_distortions(rng, 5)
    np.testing.assert_array_equal(elastic.warp(X, d, np.zeros((5, 2, 4, 4))), warp(X, d))


def test_the_field_is_smooth_and_reaches_every_pixel():
    U = elastic.upsampling(4)
    assert U.shape == (16, 784)
    np.testing.assert_allclose(U.sum(axis=0), 1, rtol=1e-6)              # a partition of unity
    corners = U.reshape(16, 28, 28)[[0, 3, 12, 15]][:, [0, 0, 27, 27], [0, 27, 0, 27]]
    np.testing.assert_array_equal(np.diag(corners), 1)                  # control points at the corners


def test_a_uniform_field_shifts_the_image():
    """The same displacement everywhere moves the image by that much: the output at (r, c)
    reads the source at (r + 1, c - 2)."""
    rng = np.random.default_rng(1)
    X = np.zeros((1, 28, 28), np.float32)
    X[0, 10:14, 8:20] = rng.random((4, 12))
    still = np.array([[0.0, 1.0, 1.0, 0.0, 0.0]])
    field = np.zeros((1, 2, 4, 4))
    field[0, 0], field[0, 1] = 1.0, -2.0
    out = elastic.warp(X.reshape(1, -1), still, field).reshape(28, 28)
    np.testing.assert_allclose(out[9:13, 10:22], X[0, 10:14, 8:20], atol=1e-6)
    assert elastic.random_fields(rng, 3).shape == (3, 2, elastic.GRID, elastic.GRID)
    assert np.abs(elastic.random_fields(rng, 100)).max() <= elastic.AMPLITUDE


def test_training_with_elastic_distortions_is_reproducible_and_learns():
    images, labels = bars(120, np.random.default_rng(3))
    runs = []
    for workers in (1, 2, 2):
        net = tiny(14, dtype=np.float32)
        history, _ = history_of(net, images, labels, epochs=3, batch_size=20, lr=1e-2,
                                rng=np.random.default_rng(9), distort="elastic", lamb=1.0, report=None,
                                workers=workers)
        runs.append((net.params, history["loss"]))
    for params, losses in runs[1:]:
        for name, p in params.items():
            np.testing.assert_allclose(p, runs[0][0][name], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(runs[1][0]["out_W"], runs[2][0]["out_W"])
    assert runs[0][1][-1] < runs[0][1][0]
