"""The writer-group benchmark reading saved networks (`--networks`) instead of training them."""
import json

import numpy as np
import pytest

from benchmarks import pen_writer_groups
from benchmarks.pen_drawings import app_inputs, load_pen_digits
from digits.nets.cnn import CNN


def test_each_group_is_read_by_its_saved_network_without_training(tmp_path, mnist_dir, pendigits_file, monkeypatch,
                                                                 capsys):
    """... and --misread-picture FILE draws every unseen pen digit the network misread."""
    from PIL import Image
    nets = tmp_path / "nets"
    net = CNN.random(0, convs=(4, 6), hidden=(8,), kernel=3, outputs=11)
    net.save(nets / "group1")

    def no_training(*args, **kwargs):
        raise AssertionError("--networks must not train")
    monkeypatch.setattr(CNN, "train", no_training)
    readings = tmp_path / "readings.npz"
    code = pen_writer_groups.main_(["--groups", "3", "--limit-groups", "1", "--networks", str(nets), "--data",
                                    str(mnist_dir), "--pen-digits", str(pendigits_file.parent),
                                    "--save-readings", str(readings), "--misread-picture", str(tmp_path / "m.png")])
    assert code == 0
    unseen = [d for d in load_pen_digits(str(pendigits_file.parent)) if d.writer <= 10]     # group 1: writers 1-10
    X = app_inputs(unseen, np.random.default_rng(101))
    with np.load(readings) as saved:
        np.testing.assert_array_equal(saved["labels"], [d.label for d in unseen])
        np.testing.assert_allclose(saved["before"], net.predict_proba(X))
    wrong = int(np.count_nonzero(net.predict(X) != np.array([d.label for d in unseen])))
    assert wrong > 100                                      # untrained: it misreads most of them
    assert f"The {wrong} misread pen digits drawn in {tmp_path / 'm.png'}" in capsys.readouterr().out
    with Image.open(tmp_path / "m.png") as image:          # all of them, not the gallery's usual first 100
        assert image.format == "PNG" and image.height > 100 * 28


def test_a_missing_group_network_is_refused_in_one_line_before_any_work(tmp_path, capsys):
    (tmp_path / "nets" / "group1").mkdir(parents=True)
    with pytest.raises(SystemExit) as e:
        pen_writer_groups.main_(["--groups", "3", "--networks", str(tmp_path / "nets")])
    assert e.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "no folder group2" in error and "--save-networks" in error


@pytest.mark.parametrize("reading", ["--networks", "--readings"])
def test_training_options_with_saved_networks_are_refused_not_ignored(tmp_path, capsys, reading):
    """Nothing is trained when the networks (or their readings) are read: a training option
    given beside them would silently change nothing, so it is refused, naming it."""
    with pytest.raises(SystemExit) as e:
        pen_writer_groups.main_(["--groups", "3", reading, str(tmp_path / "saved"), "--model", "committee",
                                 "--pen-copies", "16", "--pen-per-epoch", "8", "--pen-elastic", "0.05", "--epochs", "12",
                                 "--pen-digits", "pens"])
    assert e.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error:" in error
    for flag in ("--model", "--pen-copies", "--pen-per-epoch", "--pen-elastic", "--epochs"):
        assert flag in error
    assert "leave them out" in error and reading in error


def test_only_the_groups_asked_for_are_read_each_as_in_the_full_run(tmp_path, mnist_dir, pendigits_file):
    """--only-groups 2 reads group 2 alone (writers 11-20), with the same inputs as the full run
    gives group 2: a long run can be done in parts. Only group 2's network need be there."""
    nets = tmp_path / "nets"
    net = CNN.random(1, convs=(4, 6), hidden=(8,), kernel=3, outputs=11)
    net.save(nets / "group2")
    readings = tmp_path / "readings.npz"
    code = pen_writer_groups.main_(["--groups", "3", "--only-groups", "2", "--networks", str(nets), "--data",
                                    str(mnist_dir), "--pen-digits", str(pendigits_file.parent),
                                    "--save-readings", str(readings)])
    assert code == 0
    unseen = [d for d in load_pen_digits(str(pendigits_file.parent)) if 11 <= d.writer <= 20]
    assert unseen
    with np.load(readings) as saved:
        np.testing.assert_array_equal(saved["labels"], [d.label for d in unseen])
        np.testing.assert_allclose(saved["before"], net.predict_proba(app_inputs(unseen, np.random.default_rng(102))))


@pytest.mark.parametrize("groups, says", [("4", "only 3 groups"), ("0", "start at 1"), ("2,x", "not a list")])
def test_group_numbers_that_are_not_there_are_refused_in_one_line(tmp_path, capsys, groups, says):
    with pytest.raises(SystemExit) as e:
        pen_writer_groups.main_(["--groups", "3", "--only-groups", groups, "--networks", str(tmp_path)])
    assert e.value.code == 2
    assert says in capsys.readouterr().err.strip().splitlines()[-1]


def _saved_readings(path, rng):
    """Readings of 3 groups as --save-readings writes them: confident readings mostly right,
    doubtful ones often wrong."""
    n = 600
    labels = rng.integers(0, 10, n)
    confidence = rng.uniform(0.3, 1.0, n)
    wrong = rng.random(n) < (1 - confidence) * 0.2
    read = np.where(wrong, (labels + 1) % 10, labels)
    before = np.full((n, 10), 0.0)
    before[np.arange(n), read] = confidence
    before[np.arange(n), (read + 2) % 10] = 1 - confidence
    with np.errstate(divide="ignore"):
        scores = np.maximum(np.log(before), -745.0)
    np.savez(path, scores=scores, before=before, labels=labels,
             group=np.repeat([0, 1, 2], n // 3), recipe="recipe: made up for a test")
    return before, labels


def test_the_sure_line_is_fitted_at_the_accuracy_asked_and_shown_by_group(tmp_path, capsys):
    """--sure-accuracy 99.75 fits "not sure" where readings are right 99.75 % of the time, and the
    benchmark prints, for each group, the share of readings shown as sure and how many of those
    are wrong (each group read with the line chosen on the other groups), as the apps' users meet them."""
    from digits.nets import calibration
    before, labels = _saved_readings(tmp_path / "readings.npz", np.random.default_rng(5))
    for percent in ("95", "99.75"):
        folder = tmp_path / percent
        folder.mkdir()
        assert pen_writer_groups.main_(["--readings", str(tmp_path / "readings.npz"), "--sure-accuracy", percent,
                                        "--calibrate", str(folder)]) == 0
        out = capsys.readouterr().out
        expected, _ = calibration.sure_threshold(before, labels, float(percent) / 100)
        with open(folder / "calibration.json") as f:
            assert json.load(f)["sure_above"] == pytest.approx(expected)
        group = slice(400, 600)        # group 3, with the line chosen on groups 1 and 2
        line, _ = calibration.sure_threshold(before[:400], labels[:400], float(percent) / 100)
        sure = before[group].max(axis=1) >= line
        wrong = before[group].argmax(axis=1)[sure] != labels[group][sure]
        assert f"{100 * sure.mean():.1f} % / {100 * wrong.mean():.2f} %;" in out
        assert f"right {percent} % of the time" in out
    assert json.load(open(tmp_path / "99.75" / "calibration.json"))["sure_above"] > \
        json.load(open(tmp_path / "95" / "calibration.json"))["sure_above"]


@pytest.mark.parametrize("percent, says", [("100", "below 100"), ("40", "above 50"), ("high", "not a percentage")])
def test_a_sure_accuracy_that_is_no_percentage_is_refused_in_one_line(tmp_path, capsys, percent, says):
    with pytest.raises(SystemExit) as e:
        pen_writer_groups.main_(["--readings", str(tmp_path / "r.npz"), "--sure-accuracy", percent])
    assert e.value.code == 2
    assert says in capsys.readouterr().err.strip().splitlines()[-1]



@pytest.mark.parametrize("flag, make, says", [
    ("--misread-picture", lambda tmp: tmp / "a-folder", "--misread-picture {} is a folder; give a file name"),
    ("--save-readings", lambda tmp: tmp / "a-file" / "readings.npz", "a-file is a file"),
    ("--save-networks", lambda tmp: tmp / "a-file", "is a file, not a folder"),
    ("--calibrate", lambda tmp: tmp / "a-file" / "sub", "a-file is a file"),
])
def test_where_it_writes_is_checked_before_any_work(tmp_path, capsys, monkeypatch, flag, make, says):
    """A place it cannot write to is refused in one line at once, not after hours of training."""
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("mine")
    monkeypatch.setattr(pen_writer_groups.mnist, "load_mnist", lambda *a: pytest.fail("work started"))
    path = make(tmp_path)
    with pytest.raises(SystemExit) as stop:
        pen_writer_groups.main_(["--groups", "3", "--model", "cnn", flag, str(path)])
    assert stop.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert says.format(path) in error
    assert (tmp_path / "a-file").read_text() == "mine"
