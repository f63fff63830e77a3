"""The scores benchmarks.sure_scores ranks a committee's readings by, worked by hand."""
import numpy as np

from benchmarks.sure_scores import scores, wrong_among_surest


def test_each_score_of_two_members_by_hand():
    # Reading 0: both members say 3 (0.9, 0.7). Reading 1: they split, 5 (0.8) against 6 (0.6).
    shares = np.zeros((2, 2, 10))
    shares[0, 0, [3, 4]] = 0.9, 0.1
    shares[1, 0, [3, 4]] = 0.7, 0.3
    shares[0, 1, [5, 6]] = 0.8, 0.2
    shares[1, 1, [5, 6]] = 0.4, 0.6
    s = scores(shares)
    np.testing.assert_allclose(s["mean share (shipped)"], [0.8, 0.6])
    np.testing.assert_allclose(s["least member share"], [0.7, 0.4])
    np.testing.assert_allclose(s["mean - std of members"], [0.8 - 0.1, 0.6 - 0.2])
    np.testing.assert_allclose(s["members agreeing"], [2 + 0.8, 1 + 0.6])
    np.testing.assert_allclose(s["margin of the first two"], [0.8 - 0.2, 0.6 - 0.4])


def test_wrong_among_the_surest_counts_only_the_readings_kept():
    score = np.array([0.9, 0.8, 0.7, 0.6])
    right = np.array([True, False, True, False])
    assert wrong_among_surest(score, right, 0.5) == 1       # the two surest: one wrong
    assert wrong_among_surest(score, right, 0.25) == 0
    assert wrong_among_surest(score, right, 1.0) == 2
