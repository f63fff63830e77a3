"""Confidence that means something: temperature scaling, calibration error, a "not sure" line.

A network's raw shares are over-confident on drawings unlike its training data (an L-shaped
scribble read "6 (99% sure)" with the MLP's outputs divided by their sum). Temperature
scaling (Guo et al., "On Calibration of Modern Neural Networks", 2017) divides the scores by
one number T, fitted on held-out readings so that their negative log-likelihood is least:

    p = softmax(scores / T)

The ranking of the digits, so every answer, is unchanged; only how sure it says it is moves.
The expected calibration error (ECE) measures the gap between confidence and accuracy:
readings are put in bins by confidence, and ECE = sum over bins of (bin size / n) *
|accuracy in the bin - mean confidence in the bin|.

A network's calibration is kept beside it in `calibration.json` (the temperature, and the
confidence below which the apps say "not sure"); `load_calibration` applies it on load.
"""
import json
import math
import os

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from digits import json_input
from digits.errors import WeightsError
from digits.files import atomic_write, open_input

FILE = "calibration.json"
BINS = 15
# Readings at least this often right on held-out writers are "sure". Writers outside pendigits
# make more mistakes than our writer groups show, and more of them sure: with the line where the
# groups' readings were right 99.5 % of the time (0.58 % of their sure readings wrong), 1.01 % of
# those writers' sure readings were wrong, 1.7 times as many. For the shipped committee of eight,
# 99.7 % left 0.34 % of the groups' sure readings wrong, 0.61 % in the hardest group (each group
# read with the line chosen on the others), so about 0.6 % for other writers, over the 0.5 % the
# apps aim at; 99.8 % leaves 0.23 % wrong (0.41 % in the hardest group) with 98.3 % of readings
# still sure (98.2 % in the hardest group); 99.85 % is no better in the hardest group and doubts
# more. `python -m benchmarks.pen_writer_groups --readings FILE --sure-accuracy P` shows the
# trade (README, "Confidence that means something").
SURE_ACCURACY = 0.998
# A temperature outside this range is no calibration: fitting searches exp(-3)..exp(4) (0.05 to
# 55), and dividing scores by 1e-310 turns every reading into NaN.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 100.0
MAX_FILE_BYTES = 64 << 10       # a calibration file takes about 200 bytes
ADVICE = "delete it to read uncalibrated"


def valid_temperature(value):
    """Whether `value` is a usable temperature: a number (not a boolean) from MIN_TEMPERATURE to
    MAX_TEMPERATURE."""
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)) \
        and math.isfinite(value) and MIN_TEMPERATURE <= value <= MAX_TEMPERATURE


def probabilities(scores, temperature=1.0):
    """softmax(scores / temperature), row by row."""
    return np.exp(log_softmax(np.asarray(scores, dtype=np.float64) / temperature, axis=1))


def nll(scores, labels, temperature):
    """Mean negative log-likelihood of the true labels under softmax(scores / temperature)."""
    logp = log_softmax(np.asarray(scores, dtype=np.float64) / temperature, axis=1)
    return float(-np.mean(logp[np.arange(len(labels)), labels]))


def fit_temperature(scores, labels):
    """The temperature T > 0 that minimises the NLL of held-out `scores` (m, 10) with `labels`."""
    result = minimize_scalar(lambda log_t: nll(scores, labels, np.exp(log_t)), bounds=(-3, 4), method="bounded")
    return float(np.exp(result.x))


def expected_calibration_error(probs, labels, bins=BINS):
    """ECE of probabilities (m, 10) against labels, with `bins` equal-width confidence bins."""
    probs = np.asarray(probs)
    confidence = probs.max(axis=1)
    right = probs.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            ece += members.mean() * abs(right[members].mean() - confidence[members].mean())
    return float(ece)


def sure_threshold(probs, labels, accuracy=SURE_ACCURACY):
    """The lowest confidence t such that readings at least t confident are right at least
    `accuracy` of the time (on these held-out readings). Returns (t, share of readings >= t)."""
    probs = np.asarray(probs)
    confidence = probs.max(axis=1)
    right = probs.argmax(axis=1) == np.asarray(labels)
    order = np.argsort(-confidence)
    hits = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    good = np.flatnonzero(hits >= accuracy)
    if good.size == 0:
        return 1.0, 0.0
    k = good[-1]                        # the most readings kept while still accurate enough
    return float(confidence[order[k]]), float((k + 1) / len(order))


def save_calibration(folder, temperature, sure_above, note="", network=None):
    """Write `folder`/calibration.json (atomically). temperature None: the network's own shares
    are kept (measured as calibrated as temperature scaling would make them), only the
    threshold is set. `network`: the kind it is for ("cnn", ...), where a folder may hold
    networks of several kinds (weights/); None: whatever network the folder holds."""
    settings = {"temperature": temperature, "sure_above": sure_above, "note": note}
    if network is not None:
        settings["network"] = network
    with atomic_write(os.path.join(folder, FILE), "w") as f:
        json.dump(settings, f, indent=1)
        f.write("\n")


def fitted_for(folder):
    """Whose calibration `folder` holds: None (no calibration.json), "" (one for whatever network
    the folder holds), the kind its "network" names, or "?" if load_calibration would refuse it."""
    path = os.path.join(folder, FILE)
    if not os.path.lexists(path):
        return None
    try:
        return _settings(_read(path, ""), path, "")[2] or ""
    except WeightsError:
        return "?"


def load_calibration(net, folder):
    """Apply `folder`/calibration.json to `net`, if there is one; WeightsError if it is damaged,
    not a regular file, or holds values of the wrong type or out of range."""
    path = os.path.join(folder, FILE)
    if not os.path.lexists(path):
        return net
    temperature, sure_above, network = _settings(_read(path, ADVICE), path, ADVICE)
    if network is None or network == net.kind:      # a calibration for another network in the folder: not this one's
        net.temperature, net.sure_above = temperature, sure_above
    return net


def _read(path, advice):
    """The JSON value of the calibration file at `path`; WeightsError (with `advice`) if it is not
    a regular readable file, is too large, or is not JSON."""
    with open_input(path, WeightsError, advice) as f:
        text = f.read(MAX_FILE_BYTES + 1)
    if len(text) > MAX_FILE_BYTES:
        raise WeightsError(f"{path} is larger than {MAX_FILE_BYTES >> 10} kB, so not a calibration file; {advice}")
    try:
        return json_input.parse(text)
    except json_input.JSONInputError as e:
        raise WeightsError(f"{path} {e}; {advice}") from None


def _settings(data, path, advice):
    """(temperature or None, sure_above, network kind or None) from a calibration file's JSON
    value, checked."""
    if not isinstance(data, dict) or "temperature" not in data or "sure_above" not in data:
        raise WeightsError(f'{path} is not a calibration file (expected {{"temperature": T, "sure_above": S}}); '
                           f"{advice}")
    temperature, sure_above = data["temperature"], data["sure_above"]
    if temperature is not None and not valid_temperature(temperature):
        raise WeightsError(f"{path}: the temperature must be a number from {MIN_TEMPERATURE} to {MAX_TEMPERATURE} "
                           f"(or null), got {json.dumps(temperature)[:40]}; {advice}")
    if not (isinstance(sure_above, (int, float)) and not isinstance(sure_above, bool) and 0 <= sure_above <= 1):
        raise WeightsError(f"{path}: sure_above must be a number from 0 to 1, got {json.dumps(sure_above)[:40]}; "
                           f"{advice}")
    network = data.get("network")
    if network is not None and not (isinstance(network, str) and network.isidentifier() and len(network) <= 40):
        raise WeightsError(f"{path}: network must name a kind of network such as \"cnn\", got "
                           f"{json.dumps(network)[:40]}; {advice}")
    return (None if temperature is None else float(temperature)), float(sure_above), network
