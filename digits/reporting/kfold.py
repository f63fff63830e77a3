"""Stratified k-fold split: k (train, validation) index pairs with every class spread evenly."""
import numpy as np


def stratified_kfold(y, k, rng):
    """Split indices 0..len(y)-1 into k folds, shuffled with `rng`, stratified by class.

    Returns a list of k pairs (train_idx, val_idx) of sorted int64 index arrays. Every index is
    in exactly one validation fold, and in the training part of the other k - 1. Within each
    class the fold sizes differ by at most one, and so do the folds' total sizes.

    `rng` is a numpy Generator (or a seed for one). Raises ValueError when k < 2 or when some
    class has fewer than k examples (a fold would then miss that class).
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array of labels, got shape {y.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be a whole number of folds, at least 2, not {k!r}")
    rng = np.random.default_rng(rng)
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < k:
        smallest = classes[np.argmin(counts)]
        raise ValueError(f"{k} folds need at least {k} examples of every class, but class "
                         f"{smallest} has only {counts.min()}; use fewer folds or more data")

    fold_of = np.empty(y.size, dtype=np.int64)
    start = 0   # which fold gets the next left-over example, carried across classes
    for label in classes:
        members = rng.permutation(np.flatnonzero(y == label))
        # Deal the shuffled members round-robin: fold sizes within the class differ by at most
        # one, and starting where the previous class stopped keeps the totals even as well.
        fold_of[members] = (start + np.arange(members.size)) % k
        start = (start + members.size) % k

    folds = []
    for fold in range(k):
        in_fold = fold_of == fold
        folds.append((np.flatnonzero(~in_fold), np.flatnonzero(in_fold)))
    return folds
