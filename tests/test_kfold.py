"""Properties of the stratified k-fold split."""
import os
import sys

import numpy as np
import pytest


from digits.reporting.kfold import stratified_kfold


def unbalanced_labels(seed=0):
    # Class sizes that do not divide evenly by k, in no particular order.
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(10), [53, 61, 47, 50, 58, 44, 49, 52, 60, 56])
    return rng.permutation(y)


@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_every_index_validated_exactly_once_and_trained_elsewhere(k):
    y = unbalanced_labels()
    folds = stratified_kfold(y, k, np.random.default_rng(1))
    assert len(folds) == k
    all_val = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(all_val), np.arange(y.size))
    for train, val in folds:
        assert np.intersect1d(train, val).size == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(y.size))


@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_folds_are_stratified_and_even(k):
    y = unbalanced_labels()
    folds = stratified_kfold(y, k, np.random.default_rng(2))
    per_class = np.array([[np.sum(y[val] == c) for c in range(10)] for _, val in folds])
    # Within each class the folds differ by at most one example...
    assert np.all(per_class.max(axis=0) - per_class.min(axis=0) <= 1)
    # ...and so do the folds' total sizes.
    sizes = np.array([val.size for _, val in folds])
    assert sizes.max() - sizes.min() <= 1


def test_shuffled_with_the_generator():
    y = unbalanced_labels()
    a = stratified_kfold(y, 5, np.random.default_rng(7))
    b = stratified_kfold(y, 5, np.random.default_rng(7))
    c = stratified_kfold(y, 5, np.random.default_rng(8))
    for (ta, va), (tb, vb) in zip(a, b):
        np.testing.assert_array_equal(va, vb)
        np.testing.assert_array_equal(ta, tb)
    assert any(not np.array_equal(va, vc) for (_, va), (_, vc) in zip(a, c))
    # Not simply consecutive runs of each class: the first fold's members are spread out.
    sorted_y = np.sort(y)
    first_val = stratified_kfold(sorted_y, 5, np.random.default_rng(7))[0][1]
    assert np.max(np.diff(first_val)) > 5


def test_k_larger_than_smallest_class_is_refused():
    y = np.array([0] * 10 + [1] * 3 + [2] * 10)
    assert len(stratified_kfold(y, 3, np.random.default_rng(0))) == 3
    with pytest.raises(ValueError, match="class 1 has only 3"):
        stratified_kfold(y, 4, np.random.default_rng(0))


@pytest.mark.parametrize("k", [1, 0, -3, 2.5, True])
def test_bad_k_is_refused(k):
    with pytest.raises(ValueError, match="at least 2"):
        stratified_kfold(unbalanced_labels(), k, np.random.default_rng(0))


def test_empty_labels_are_refused():
    with pytest.raises(ValueError, match="non-empty"):
        stratified_kfold(np.array([], dtype=int), 2, np.random.default_rng(0))
