"""Temperature scaling, the calibration error, and the "not sure" threshold."""
import json

import numpy as np
import pytest

from digits import nets, recognise
from digits.errors import WeightsError
from digits.nets import MLP, calibration


def sampled(rng, m=20000, true_temperature=2.5):
    """Scores whose labels are drawn from softmax(scores / T): T is the right temperature."""
    scores = rng.normal(0, 4, (m, 10))
    p = calibration.probabilities(scores, true_temperature)
    labels = (p.cumsum(axis=1) > rng.random((m, 1))).argmax(axis=1)
    return scores, labels


def test_fit_temperature_recovers_the_true_one():
    scores, labels = sampled(np.random.default_rng(0))
    assert calibration.fit_temperature(scores, labels) == pytest.approx(2.5, rel=0.05)


def test_calibration_lowers_the_error_and_keeps_every_answer():
    scores, labels = sampled(np.random.default_rng(1))
    before = calibration.probabilities(scores)
    after = calibration.probabilities(scores, calibration.fit_temperature(scores, labels))
    assert calibration.expected_calibration_error(after, labels) < 0.02
    assert calibration.expected_calibration_error(before, labels) > 0.1
    np.testing.assert_array_equal(before.argmax(axis=1), after.argmax(axis=1))


def test_expected_calibration_error_by_hand():
    # Two readings at 0.9 confidence, one right and one wrong: |0.5 - 0.9| = 0.4 in their bin.
    probs = np.array([[0.9, 0.1] + [0] * 8, [0.9, 0.1] + [0] * 8])
    assert calibration.expected_calibration_error(probs, np.array([0, 1])) == pytest.approx(0.4)


def test_sure_threshold_keeps_the_most_readings_that_are_right_often_enough():
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    probs = np.zeros((6, 10))
    probs[:, 0] = confidence
    probs[:, 1] = 1 - confidence
    labels = np.array([0, 0, 0, 1, 0, 1])           # wrong at 0.8 and 0.6
    t, share = calibration.sure_threshold(probs, labels, accuracy=0.75)
    assert t == 0.7 and share == pytest.approx(5 / 6)   # 4 of the 5 readings >= 0.7 are right
    assert calibration.sure_threshold(probs, labels, accuracy=1.0) == (0.9, 0.5)


def test_a_calibrated_network_reads_with_its_temperature_and_says_not_sure(tmp_path):
    net = MLP.random(4, np.random.default_rng(0))
    net.save(tmp_path)
    calibration.save_calibration(tmp_path, 3.0, 0.5)
    loaded = nets.load_network(tmp_path)
    x = np.random.default_rng(1).random((5, 784))
    assert loaded.temperature == 3.0 and loaded.sure_above == 0.5
    np.testing.assert_allclose(loaded.predict_proba(x), calibration.probabilities(net.scores(x), 3.0))
    reading = recognise.recognise(x[0], loaded)       # a random net: about 1/10 on each digit
    assert not reading.sure and reading.message.startswith("Not sure")


@pytest.mark.parametrize("contents", ["not json", json.dumps({"temperature": -1, "sure_above": 0.5}),
                                      json.dumps({"temperature": 1})])
def test_a_damaged_calibration_file_is_one_clear_error(tmp_path, contents):
    MLP.random(3, np.random.default_rng(0)).save(tmp_path)
    (tmp_path / calibration.FILE).write_text(contents)
    with pytest.raises(WeightsError, match="calibration"):
        nets.load_network(tmp_path)


def test_a_null_temperature_keeps_the_networks_own_shares_and_sets_the_threshold(tmp_path):
    net = MLP.random(4, np.random.default_rng(0))
    net.save(tmp_path)
    calibration.save_calibration(tmp_path, None, 0.25)
    loaded = nets.load_network(tmp_path)
    x = np.random.default_rng(2).random((5, 784))
    assert loaded.temperature is None and loaded.sure_above == 0.25
    outputs = net.outputs(x)
    np.testing.assert_allclose(loaded.predict_proba(x), outputs / outputs.sum(axis=1, keepdims=True))


def test_a_calibration_for_one_kind_applies_to_that_kind_only(tmp_path):
    """weights/ may hold an MLP and a CNN side by side: a calibration that names its kind is
    that network's, and the other reads uncalibrated."""
    from digits.nets.cnn import CNN
    MLP.random(4, np.random.default_rng(0)).save(tmp_path)
    CNN.random(0, convs=(4, 6), hidden=(8,), kernel=3, outputs=11).save(tmp_path)
    calibration.save_calibration(tmp_path, None, 0.7, network="cnn")
    assert calibration.fitted_for(tmp_path) == "cnn"
    assert nets.load_network(tmp_path, "cnn").sure_above == 0.7
    assert nets.load_network(tmp_path, "mlp").sure_above == 0.0
    calibration.save_calibration(tmp_path, None, 0.6)               # naming none: for whatever is there
    assert calibration.fitted_for(tmp_path) == ""
    assert nets.load_network(tmp_path, "mlp").sure_above == nets.load_network(tmp_path, "cnn").sure_above == 0.6
    (tmp_path / calibration.FILE).write_text(json.dumps({"temperature": None, "sure_above": 0.5, "network": [1]}))
    with pytest.raises(WeightsError, match="network must name a kind"):
        nets.load_network(tmp_path, "mlp")
    (tmp_path / calibration.FILE).write_text("not json")
    assert calibration.fitted_for(tmp_path) == "?"
    (tmp_path / calibration.FILE).unlink()
    assert calibration.fitted_for(tmp_path) is None
