"""Saying "not a digit": drawings that are none of the digits, a network's eleventh output, and
how the recognition path, the API and prediction.py answer."""
import subprocess
import sys

import numpy as np
import pytest

from digits import recognise
from digits.constants import NOT_A_DIGIT
from digits.data import non_digits
from digits.data.training_set import non_digit_drawings
from digits.nets import MLP, load_network
from digits.nets.cnn import CNN
from digits.nets.gradcheck import numerical_gradient, relative_error
from digits.web.app import create_app
from helpers import SEVEN, polyline


def test_every_family_draws_strokes_a_canvas_can_take():
    rng = np.random.default_rng(0)
    pen = [type("Pen", (), {"label": k % 10, "strokes": [np.array([[0, 0], [100 * k, 300]], float)]})()
           for k in range(1, 12)]
    for family in {**non_digits.FAMILIES, **non_digits.UNSEEN_FAMILIES}:
        for _ in range(20):
            strokes = non_digits.draw(family, rng, pen)
            assert strokes and all(np.asarray(s).ndim == 2 and np.asarray(s).shape[1] == 2 for s in strokes)
            assert all(np.all(np.isfinite(s)) for s in strokes), family


def test_the_families_kept_for_measuring_are_never_trained_on(monkeypatch):
    """The letters and symbols that measure kinds of drawing never seen are none of the training's:
    not its families, not its templates, and the training drawings never ask for them."""
    assert not set(non_digits.UNSEEN_FAMILIES) & set(non_digits.FAMILIES)
    trained = set(non_digits.LETTERS) | set(non_digits.SYMBOLS) | set(non_digits._curves())
    assert not trained & (set(non_digits.UNSEEN_LETTERS) | set(non_digits.UNSEEN_SYMBOLS))
    asked = []
    draw = non_digits.draw
    monkeypatch.setattr(non_digits, "draw", lambda family, *a: asked.append(family) or draw(family, *a))
    non_digit_drawings(60, seed=2, say=lambda line: None)
    assert asked and set(asked) <= set(non_digits.FAMILIES)


def test_non_digit_drawings_are_prepared_inputs_labelled_not_a_digit():
    X, y = non_digit_drawings(40, seed=1, say=lambda line: None)
    assert X.dtype == np.uint8 and X.shape == (40, 784) and set(y) == {NOT_A_DIGIT}
    assert all(x.max() > 200 for x in X)          # ink in every one
    X2, _ = non_digit_drawings(40, seed=1, say=lambda line: None)
    np.testing.assert_array_equal(X, X2)            # seeded


def eleven_class_problem(n, rng):
    """Bars (digits 0..3) and noise blobs labelled NOT_A_DIGIT."""
    from test_cnn import bars
    X, y = bars(n, rng)
    blobs = (rng.random((n // 2, 784)) ** 8 * 255).astype(np.uint8)
    return np.vstack([X, blobs]), np.r_[y, np.full(n // 2, NOT_A_DIGIT)]


def test_an_eleventh_output_has_a_correct_gradient():
    rng = np.random.default_rng(2)
    net = CNN.random(rng, convs=(2,), hidden=(4,), kernel=3, dtype=np.float64, outputs=11)
    X, y = eleven_class_problem(6, rng)
    X = X / 255.0
    for name, p in net.params.items():
        J, grads = net.loss(X, y, 0.5)
        numeric = numerical_gradient(lambda: net.loss(X, y, 0.5)[0], p, step=1e-7)
        assert relative_error(grads[name], numeric) < 1e-5, name


def test_a_cnn_trained_with_non_digits_learns_to_say_so_and_keeps_ten_shares(tmp_path):
    rng = np.random.default_rng(3)
    X, y = eleven_class_problem(300, rng)
    net, result = CNN.train(X, y, lamb=1.0, seed=0, report=None, epochs=6, batch_size=20)
    assert net.outputs == 11 and result.steps == 6
    Xt, yt = eleven_class_problem(100, np.random.default_rng(4))
    none = net.not_a_digit(Xt / 255.0)
    assert np.mean(none[yt == NOT_A_DIGIT] > 0.5) > 0.9 and np.mean(none[yt != NOT_A_DIGIT] < 0.5) > 0.9
    shares = net.predict_proba(Xt / 255.0)
    assert shares.shape == (len(yt), 10) and np.allclose(shares.sum(axis=1), 1)
    net.save(tmp_path)
    back = load_network(tmp_path)
    assert back.outputs == 11 and "not-a-digit" in back.describe()
    np.testing.assert_allclose(back.not_a_digit(Xt / 255.0), none, rtol=1e-5, atol=1e-7)


class Refuser(MLP):
    """A tiny MLP, told to find every picture none of the digits with probability `none`."""

    none = 0.93

    def not_a_digit(self, X):
        return np.full(np.atleast_2d(X).shape[0], self.none)


def refuser(none=0.93):
    net = Refuser(np.zeros((3, 785)), np.zeros((10, 4)))
    net.none = none
    return net


def test_a_reading_that_is_no_digit_keeps_its_shares_and_says_so():
    reading = recognise.recognise(np.full(784, 0.5), refuser())
    assert reading.digit is None and reading.sure is False and reading.not_a_digit == pytest.approx(0.93)
    assert reading.message.startswith("Not a digit") and "93%" in reading.message
    assert reading.probabilities.shape == (10,) and reading.image.shape == (28, 28)


def test_the_api_answers_digit_null_with_a_message_and_the_shares(monkeypatch):
    from digits import nets
    monkeypatch.setattr(nets, "load_network", lambda folder, kind=None: refuser())
    client = create_app(choices=[nets.Choice("refuser", "refuser", "unused", "mlp")]).test_client()
    strokes = [polyline(SEVEN, 100, 40, 200).tolist()]
    answer = client.post("/api/predict", json={"strokes": strokes, "width": 350, "height": 290}).get_json()
    assert answer["digit"] is None and answer["not_a_digit"] == pytest.approx(0.93)
    assert answer["message"].startswith("Not a digit") and len(answer["probabilities"]) == 10
    assert answer["sure"] is False and np.array(answer["image"]).shape == (28, 28)


def test_prediction_prints_not_a_digit(tmp_path, repo_root, monkeypatch):
    import prediction
    from PIL import Image
    from digits.imaging.strokes import render
    path = tmp_path / "x.png"
    render([polyline(SEVEN, 20, 20, 150)], 200, 200).save(path)
    lines = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: lines.append(" ".join(map(str, a))))
    assert prediction.predict_files(refuser(0.97), [str(path)]) == 0
    assert lines == [f"{path}: not a digit (97% sure)"]
    # An image file needs the network surer than a drawing: scans look unlike its training.
    lines.clear()
    assert prediction.predict_files(refuser(0.93), [str(path)]) == 0
    assert lines and "not a digit" not in lines[0]


def test_non_digits_are_refused_for_a_kind_that_cannot_learn_them(repo_root):
    result = subprocess.run([sys.executable, str(repo_root / "main.py"), "--non-digits", "100"],
                            capture_output=True, text=True, cwd=repo_root)
    assert result.returncode == 2
    assert "--non-digits: --model mlp cannot learn 'not a digit'; choose --model committee or --model cnn" in result.stderr


def test_the_benchmark_reports_kinds_never_trained_on_each_alone(tmp_path, mnist_dir, pendigits_file, capsys):
    """benchmarks.not_a_digit --by-kind: a row for each family never trained on, then one for each
    of their letters and symbols, whose shares caught and counts read add up to the drawings."""
    from benchmarks import not_a_digit
    CNN.random(0, convs=(2,), hidden=(4,), kernel=3, outputs=11).save(tmp_path)
    not_a_digit.main(["--weights-dir", str(tmp_path), "--drawings", "8", "--by-kind", "--data", str(mnist_dir),
                      "--pen-digits", str(pendigits_file.parent)])
    rows = {line.split(" | ")[0].strip("| "): line for line in capsys.readouterr().out.splitlines()}
    for family in non_digits.UNSEEN_FAMILIES:
        assert family in rows
    for name in {**non_digits.UNSEEN_LETTERS, **non_digits.UNSEEN_SYMBOLS}:
        caught, read = rows[name].strip("| ").split(" | ")[1:]
        others = sum(int(part.split(": ")[1]) for part in read.split(", ")) if read != "-" else 0
        assert float(caught.rstrip(" %")) == pytest.approx(100 * (8 - others) / 8, abs=0.05)
