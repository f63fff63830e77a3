"""The network contract (digits/nets/base.py), held over every kind registered in KINDS.

A new kind gets these tests for free by its one registry line: gradient check, training by
its own trainer, predict shapes, save/load round trip, bad files, calibration, and that the
command line offers its options.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from digits.errors import WeightsError
from digits.nets import KINDS, base, load_network
from digits.nets.calibration import save_calibration
from digits.nets.gradcheck import numerical_gradient, relative_error
from digits.nets.training import TrainingResult

SMALL = {"mlp": {"hidden": 4, "maxiter": 3}, "cnn": {"epochs": 1, "batch_size": 16}, "deep": {"hidden": (6, 5), "epochs": 2},
         "committee": {"epochs": 1, "batch_size": 16, "members": 2}}


def tiny_data(n=48, seed=0):
    """Learnable raw pixels: class k lights rows 2k+4..2k+7."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    X = rng.integers(0, 40, (n, 28, 28))
    for i, label in enumerate(y):
        X[i, 2 * label + 4:2 * label + 8, 6:22] = 220
    return X.reshape(n, 784).astype(np.uint8), y


@pytest.fixture(scope="module", params=list(KINDS))
def trained(request):
    """Each kind, trained briefly by its own trainer on tiny data: (kind, net, result)."""
    cls = KINDS[request.param]
    X, y = tiny_data()
    options = {o.name: o.default for o in cls.OPTIONS}
    options.update(SMALL.get(request.param, {}))
    net, result = cls.train(X, y, lamb=cls.LAMBDA, seed=0, report=None, **options)
    return request.param, net, result


def test_every_kind_declares_its_recipe():
    for kind, cls in KINDS.items():
        assert cls.kind == kind and cls.FILES and isinstance(cls.LAMBDA, float)
        assert cls.OPTIONS and all(o.flag.startswith("--") for o in cls.OPTIONS)
        for o in cls.OPTIONS:         # the defaults survive the trip through the option's parser
            text = ",".join(map(str, o.default)) if isinstance(o.default, tuple) else str(o.default)
            assert o.parse(text) == o.default, (kind, o.name)


def test_training_returns_a_network_of_its_kind_and_one_result_type(trained):
    kind, net, result = trained
    assert isinstance(net, KINDS[kind]) and isinstance(result, TrainingResult)
    assert result.steps >= 1 and not result.stopped_early and result.why == "finished"
    assert result.unit in ("iteration", "epoch") and all(np.isfinite(result.history["loss"]))
    assert net.describe() and KINDS[kind].describe_training(
        {o.name: o.default for o in KINDS[kind].OPTIONS}, KINDS[kind].LAMBDA)


def test_gradient_matches_central_differences_in_float64(trained):
    kind, net, _ = trained
    rng = np.random.default_rng(1)
    X, y = tiny_data(6, 2)
    X = X / 255.0
    saved = {k: p.copy() for k, p in net.params.items()}
    try:
        for name in net.params:
            net.params[name] = net.params[name].astype(np.float64)
        J, grads = net.loss(X, y, 0.7)
        assert set(grads) == set(net.params)
        for name, p in net.params.items():
            picks = rng.choice(p.size, size=min(12, p.size), replace=False)
            # A small step: ReLU and max pooling have kinks, which a step must not cross.
            numeric = numerical_gradient(lambda: net.loss(X, y, 0.7)[0], p, step=1e-7, indices=picks)
            assert relative_error(grads[name].reshape(-1)[picks], numeric.reshape(-1)[picks]) < 1e-5, (kind, name)
    finally:
        net.params.update(saved)


def test_loss_and_scores_and_objective_agree_with_loss(trained):
    kind, net, _ = trained
    X, y = tiny_data(10, 3)
    J, grads = net.loss(X / 255.0, y, 0.3)
    J2, grads2, scores = net.loss_and_scores(X / 255.0, y, 0.3)
    assert J2 == pytest.approx(J) and scores.shape == (10, 10)
    for name in grads:
        np.testing.assert_allclose(grads2[name], grads[name], rtol=1e-5, atol=1e-7)
    f = net.objective(X, y, 0.3)
    J3, vector = f(base.pack(net.params))
    assert J3 == pytest.approx(J, rel=1e-4) and vector.shape == base.pack(net.params).shape


def test_predict_shapes_and_probabilities(trained):
    kind, net, _ = trained
    X, y = tiny_data(7, 4)
    probabilities = net.predict_proba(X / 255.0)
    assert probabilities.shape == (7, 10) and probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-12)
    assert net.predict(X / 255.0).shape == (7,) and net.scores(X / 255.0).shape == (7, 10)
    np.testing.assert_array_equal(net.predict_pixels(X), net.predict(X / 255.0))
    assert net.predict_pixels(X[:0]).shape == (0,)
    what, pictures = net.first_layer()
    assert what and pictures.ndim == 3 and pictures.shape[1] == pictures.shape[2]


def test_save_load_round_trip_with_calibration(trained, tmp_path):
    kind, net, _ = trained
    path = net.save(tmp_path)
    assert KINDS[kind].saved_in(tmp_path) and str(path).startswith(str(tmp_path))
    save_calibration(tmp_path, 1.7, 0.8)
    back = load_network(tmp_path)
    assert type(back) is type(net) and back.temperature == 1.7 and back.sure_above == 0.8
    X, _ = tiny_data(5, 5)
    np.testing.assert_allclose(back.scores(X / 255.0), net.scores(X / 255.0), rtol=1e-5, atol=1e-6)
    net.temperature = None


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_a_damaged_file_gives_one_line(trained, tmp_path, damage):
    kind, net, _ = trained
    net.save(tmp_path)
    for name in KINDS[kind].FILES:
        f = tmp_path / name
        if f.exists():
            data = f.read_bytes()
            f.write_bytes({"truncated": data[:len(data) // 2], "empty": b"", "garbage": b"\x00\xffnot a network" * 9}[damage])
    with pytest.raises(WeightsError) as error:
        load_network(tmp_path, kind)
    assert "\n" not in str(error.value) and str(tmp_path) in str(error.value)


def test_a_damaged_calibration_gives_one_line(trained, tmp_path):
    kind, net, _ = trained
    net.save(tmp_path)
    (tmp_path / "calibration.json").write_text(json.dumps({"temperature": "hot", "sure_above": 0.5}))
    with pytest.raises(WeightsError) as error:
        load_network(tmp_path)
    assert "calibration" in str(error.value) and "\n" not in str(error.value)


def test_the_command_line_offers_every_kinds_options(repo_root):
    help_text = subprocess.run([sys.executable, str(repo_root / "main.py"), "--help"], capture_output=True,
                               text=True, cwd=repo_root).stdout
    for kind, cls in KINDS.items():
        assert kind in help_text
        for option in cls.OPTIONS:
            assert option.flag in help_text and f"{kind}: {option.help.split(',')[0]}" in " ".join(help_text.split())
