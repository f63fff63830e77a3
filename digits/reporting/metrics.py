"""Accuracy, confusion matrix, precision and recall, from plain label arrays."""
import numpy as np


def accuracy(y_true, y_pred):
    """Fraction of labels predicted right."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def confusion_matrix(y_true, y_pred, num_labels=10):
    """counts[i, j] = how many examples of true class i were predicted as class j."""
    counts = np.zeros((num_labels, num_labels), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, dtype=np.intp), np.asarray(y_pred, dtype=np.intp)), 1)
    return counts


def precision_recall(counts):
    """Per-class precision (column-wise) and recall (row-wise) of a confusion matrix.

    A class never predicted has precision 0 (and a class absent from y_true recall 0), as in
    scikit-learn with zero_division=0.
    """
    correct = np.diag(counts).astype(np.float64)
    predicted = counts.sum(axis=0)
    actual = counts.sum(axis=1)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, actual, out=np.zeros_like(correct), where=actual > 0)
    return precision, recall
