"""train_minibatch's `sample`: a pool of alternative images of which a fresh few are trained on
each epoch (16 drawings of each pen digit, 8 a pass), beside all the other images every epoch."""
import numpy as np
import pytest

from digits.nets.base import Network
from digits.nets.minibatch import train_minibatch


class Recorder(Network):
    """A network that learns nothing and writes down which images each batch held (image i
    carries i in its first two pixels)."""

    kind = "recorder"

    def __init__(self):
        super().__init__()
        self.params = {"W": np.zeros((1, 10))}
        self.seen = []

    def scores(self, X):
        return np.zeros((len(X), 10))

    def loss(self, X, y, lamb=0.0):
        pixels = np.rint(np.asarray(X, dtype=np.float64)[:, :2] * 255).astype(int)
        self.seen.extend(pixels[:, 0] + 256 * pixels[:, 1])
        return 1.0, {"W": np.zeros((1, 10))}


def numbered_images(n):
    images = np.zeros((n, 784), np.uint8)
    images[:, 0], images[:, 1] = np.arange(n) % 256, np.arange(n) // 256
    return images, np.arange(n) % 10


def epochs_seen(pool, count, epochs=4, n=300, batch_size=32, rng=0):
    """Which images each epoch trained on, in order, and the progress calls' totals."""
    images, labels = numbered_images(n)
    net, totals = Recorder(), []
    result = train_minibatch(net, images, labels, epochs=epochs, batch_size=batch_size, rng=rng, report=None,
                             workers=1, sample=None if pool is None else (pool, count),
                             progress=lambda done, total, seconds: totals.append(total))
    per_epoch = len(net.seen) // epochs
    return [np.array(net.seen[e * per_epoch:(e + 1) * per_epoch]) for e in range(epochs)], totals, result


def test_each_epoch_takes_every_other_image_and_count_fresh_ones_of_the_pool():
    pool = np.arange(100, 260)                         # 160 alternatives, 80 a pass
    epochs, totals, result = epochs_seen(pool, 80)
    others = np.setdiff1d(np.arange(300), pool)
    chosen = []
    for seen in epochs:
        assert len(seen) == 140 + 80 and np.unique(seen).size == len(seen)      # each image at most once
        np.testing.assert_array_equal(np.intersect1d(seen, others), others)       # every other image, every epoch
        from_pool = np.intersect1d(seen, pool)
        assert from_pool.size == 80
        chosen.append(set(from_pool.tolist()))
    assert len({frozenset(c) for c in chosen}) == 4                               # a fresh choice each epoch
    assert len(set().union(*chosen)) > 120                                        # and over the run, most of the pool
    assert set(totals) == {220} and result.steps == 4                             # an epoch is 220 images


def test_the_images_are_visited_in_a_shuffled_order_and_a_seed_repeats_it():
    first, _, _ = epochs_seen(np.arange(0, 300, 2), 50, rng=5)
    again, _, _ = epochs_seen(np.arange(0, 300, 2), 50, rng=5)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.sort(first[0]), first[0])


def test_without_a_sample_the_run_is_what_it_was():
    """No pool: every image every epoch, in the order rng.permutation gives, as before the option."""
    epochs, totals, _ = epochs_seen(None, 0, epochs=2, rng=9)
    rng = np.random.default_rng(9)
    for seen in epochs:
        np.testing.assert_array_equal(seen, rng.permutation(300))
    assert set(totals) == {300}


def test_a_sample_that_takes_the_whole_pool_trains_on_every_image():
    epochs, _, _ = epochs_seen(np.arange(50), 50, epochs=2)
    for seen in epochs:
        np.testing.assert_array_equal(np.sort(seen), np.arange(300))


@pytest.mark.parametrize("pool, count", [
    (np.arange(10), 0), (np.arange(10), 11), (np.array([1, 1, 2]), 1), (np.array([-1, 2]), 1),
    (np.array([299, 300]), 1), (np.array([0.0, 1.0]), 1), (np.zeros((2, 2), int), 1)])
def test_a_bad_sample_is_refused_before_any_step(pool, count):
    images, labels = numbered_images(300)
    net = Recorder()
    with pytest.raises(ValueError, match="sample"):
        train_minibatch(net, images, labels, epochs=1, report=None, workers=1, sample=(pool, count))
    assert net.seen == []


def test_epoch_sample_points_at_the_pen_drawings_where_training_images_puts_them():
    from digits.data import training_set
    rng = np.random.default_rng(1)
    X_train, y_train = rng.integers(0, 256, (50, 784), dtype=np.uint8), rng.integers(0, 10, 50)
    pen, others = np.full((32, 784), 7, np.uint8), np.full((5, 784), 9, np.uint8)    # 16 copies of 2 digits; 5 more
    extra = training_set.Extra(np.concatenate([pen, others]), np.r_[np.zeros(32, int), np.full(5, 10)], 32)
    X_fit, y_fit = training_set.training_images(X_train, y_train, seed=0, pen=extra, say=lambda line: None)
    pool, count = training_set.epoch_sample(len(y_fit), extra, copies=16, per_epoch=8)
    assert count == 16
    np.testing.assert_array_equal(X_fit[pool], pen)                       # the pen drawings, and only they
    np.testing.assert_array_equal(np.delete(X_fit, pool, axis=0), np.concatenate([X_train, others]))
    assert training_set.epoch_sample(len(y_fit), extra, copies=16, per_epoch=16) is None    # all of them: no turns
    assert training_set.epoch_sample(len(y_fit), extra, copies=16, per_epoch=None) is None
    assert training_set.epoch_sample(len(y_fit), None, copies=16, per_epoch=8) is None
    assert training_set.epoch_sample(len(y_fit), extra._replace(pen=0), copies=16, per_epoch=8) is None


def test_the_mlp_trained_on_all_its_images_at_every_step_refuses_a_sample():
    from digits.nets.mlp import MLP
    images, labels = numbered_images(20)
    with pytest.raises(ValueError, match="no sample"):
        MLP.train(images, labels, lamb=0.1, seed=0, report=None, maxiter=1, hidden=3, sample=(np.arange(5), 2))
