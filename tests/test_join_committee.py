"""python -m digits.join_committee OUT IN...: saved CNNs and committees joined into one committee."""
import os
import subprocess
import sys

import numpy as np
import pytest

from digits import join_committee
from digits.nets import load_network
from digits.nets.calibration import save_calibration
from digits.nets.cnn import CNN
from digits.nets.committee import Committee
from digits.nets.mlp import MLP

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cnn(seed, convs=(4, 6)):
    return CNN.random(seed, convs=convs, hidden=(8,), kernel=3, outputs=11)


def saved(net, folder):
    net.save(str(folder))
    return str(folder)


def run(*args):
    return subprocess.run([sys.executable, "-m", "digits.join_committee", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_a_cnn_and_a_committee_become_one_committee_that_averages_them_all(tmp_path):
    one, pair = cnn(1), Committee([cnn(2), cnn(3)])
    a, b = saved(one, tmp_path / "a"), saved(pair, tmp_path / "b")
    save_calibration(b, 1.5, 0.9, note="the pair's own")       # not the joined committee's
    result = run(tmp_path / "out", a, b)
    assert result.returncode == 0, result.stderr
    assert "committee of 3" in result.stdout and "not calibrated" in result.stdout
    joined = load_network(tmp_path / "out")
    assert isinstance(joined, Committee) and len(joined.members) == 3
    assert joined.temperature is None and joined.sure_above == 0.0
    assert not os.path.exists(tmp_path / "out" / "calibration.json")
    X = np.random.default_rng(0).random((7, 784))
    mean = np.mean([n.predict_proba(X) for n in [one] + pair.members], axis=0)
    np.testing.assert_allclose(joined.predict_proba(X), mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(joined.not_a_digit(X),
                               np.mean([n.not_a_digit(X) for n in [one] + pair.members], axis=0), atol=1e-12)


def test_some_members_of_a_committee_can_be_picked(tmp_path):
    five, three = Committee([cnn(i) for i in range(5)]), Committee([cnn(10 + i) for i in range(3)])
    a, b = saved(five, tmp_path / "a"), saved(three, tmp_path / "b")
    result = run(tmp_path / "out", f"{a}:1,2,3", f"{b}:3,1")
    assert result.returncode == 0, result.stderr
    joined = load_network(tmp_path / "out")
    expected = five.members[:3] + [three.members[2], three.members[0]]
    assert len(joined.members) == 5
    for got, want in zip(joined.members, expected):
        assert all(np.array_equal(got.params[k], want.params[k]) for k in want.params)


@pytest.mark.parametrize("make, words", [
    (lambda tmp: [saved(Committee([cnn(1), cnn(2)]), tmp / "a") + ":3"], "holds 2 networks, no member 3"),
    (lambda tmp: [saved(Committee([cnn(1), cnn(2)]), tmp / "a") + ":0"], "counted from 1"),
    (lambda tmp: [saved(Committee([cnn(1), cnn(2)]), tmp / "a") + ":1,1"], "each named once"),
    (lambda tmp: [saved(Committee([cnn(1), cnn(2)]), tmp / "a") + ":one"], "':' takes the members to keep"),
    (lambda tmp: [str(tmp / "nowhere")], "no network in"),
    (lambda tmp: [saved(cnn(1), tmp / "a"), saved(MLP.random(5, np.random.default_rng(0)), tmp / "m")],
     "holds a mlp network; only CNNs and committees of CNNs"),
    (lambda tmp: [saved(cnn(1), tmp / "a"), saved(cnn(2, convs=(3, 5)), tmp / "b")], "differ in architecture"),
    (lambda tmp: [saved(Committee([cnn(i) for i in range(5)]), tmp / "a"),
                  saved(Committee([cnn(i) for i in range(5)]), tmp / "b")], "at most 9"),
])
def test_what_cannot_join_is_one_line_and_writes_nothing(tmp_path, make, words):
    folders = make(tmp_path)
    result = run(tmp_path / "out", *folders)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and words in result.stderr, result.stderr
    assert not os.path.exists(tmp_path / "out" / "committee.npz")


@pytest.mark.parametrize("taken", ["committee.npz", "calibration.json", "cnn.npz", "deep.npz", "Theta1.txt+Theta2.txt"])
def test_nothing_is_overwritten(tmp_path, taken):
    a, b = saved(cnn(1), tmp_path / "a"), saved(cnn(2), tmp_path / "b")
    out = tmp_path / "out"
    out.mkdir()
    for name in taken.split("+"):
        (out / name).write_bytes(b"the user's")
    result = run(out, a, b)
    assert result.returncode == 1 and "already holds" in result.stderr and "nothing is overwritten" in result.stderr
    assert all((out / name).read_bytes() == b"the user's" for name in taken.split("+"))


def test_out_cannot_be_one_of_the_inputs(tmp_path):
    a, b = saved(cnn(1), tmp_path / "a"), saved(cnn(2), tmp_path / "b")
    before = open(os.path.join(a, "cnn.npz"), "rb").read()
    assert "one of the folders to join" in join_committee_error(a, a, b)
    assert "one of the folders to join" in join_committee_error(a, f"{a}:1", b)
    assert open(os.path.join(a, "cnn.npz"), "rb").read() == before


def join_committee_error(*args):
    """The error line of the command run in this process (it exits 1)."""
    import contextlib
    import io
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert join_committee.main([str(a) for a in args]) == 1
    return err.getvalue()


def test_the_joined_committee_can_read_each_picture_turned(tmp_path):
    a, b = saved(cnn(1), tmp_path / "a"), saved(cnn(2), tmp_path / "b")
    result = run("--rotations", "0,10,-10", tmp_path / "out", a, b)
    assert result.returncode == 0, result.stderr
    assert "turned +10°, -10°" in result.stdout
    joined = load_network(tmp_path / "out")
    assert joined.rotations == (0, 10, -10)
    X = np.random.default_rng(1).random((3, 784))
    np.testing.assert_allclose(joined.predict_proba(X),
                               Committee([cnn(1), cnn(2)], (0, 10, -10)).predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("value, words", [("0,x", "whole degrees separated by commas"), ("0,40", "within +-30"),
                                          ("5,5", "distinct")])
def test_impossible_turns_are_one_line_and_write_nothing(tmp_path, value, words):
    a = saved(cnn(1), tmp_path / "a")
    result = run("--rotations", value, tmp_path / "out", a)
    assert result.returncode == 2 and "Traceback" not in result.stderr and words in result.stderr, result.stderr
    assert not os.path.exists(tmp_path / "out")
