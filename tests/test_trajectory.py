"""The stroke reader (digits.nets.trajectory): its features, its gradient, its file, the join."""
import copy
import os
import shutil

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from digits import nets, recognise
from digits.data import pendigits
from digits.errors import WeightsError
from digits.nets import trajectory
from digits.nets.gradcheck import numerical_gradient, relative_error

SEVEN = [np.array([[40, 40], [120, 40], [110, 60], [90, 110], [70, 170]])]          # bar, then down-left
ONE_WITH_FLAG = [np.array([[70, 80], [120, 40], [110, 90], [100, 140], [95, 170]])]  # up the flag, then down
FOUR = [np.array([[60, 40], [45, 110], [130, 110]]), np.array([[105, 50], [100, 180]])]


def test_features_do_not_depend_on_size_place_or_sampling():
    f = trajectory.path_features(FOUR)
    assert f.shape == (trajectory.FEATURES,)
    moved = [3.5 * s + [200, -40] for s in FOUR]
    assert np.allclose(trajectory.path_features(moved), f, atol=1e-12)
    # the same path sampled four times as densely (points added along each segment)
    dense = [np.vstack([a + (b - a) * t for a, b in zip(s[:-1], s[1:]) for t in (0, .25, .5, .75)] + [s[-1]])
             for s in FOUR]
    assert sum(map(len, dense)) == 14      # 3 segments of 4 points, and the two ends
    assert np.allclose(trajectory.path_features(dense), f, atol=1e-12)


def test_features_see_the_direction_and_order_of_the_strokes():
    f = trajectory.path_features(FOUR)
    assert not np.allclose(trajectory.path_features([s[::-1] for s in FOUR]), f, atol=0.1)
    assert not np.allclose(trajectory.path_features(FOUR[::-1]), f, atol=0.1)
    # one stroke or two: the pen-up flags and the count of strokes differ
    joined = trajectory.path_features([np.concatenate(FOUR)])
    assert joined[4 * trajectory.POINTS:5 * trajectory.POINTS].min() == 1.0
    assert f[4 * trajectory.POINTS:5 * trajectory.POINTS].min() == 0.0


def test_a_dot_is_left_out_as_the_picture_leaves_it_out():
    f = trajectory.path_features(FOUR)
    tap = np.array([[300, 250], [301, 251]])
    assert np.array_equal(trajectory.path_features(FOUR + [tap]), f)
    # a 7's bar drawn apart is no dot: it is kept
    bar = np.array([[40, 100], [110, 100]])
    assert len(trajectory.without_dots(FOUR + [bar])) == 3
    # a drawing that is only a dot is read as it is
    assert trajectory.path_features([tap]).shape == (trajectory.FEATURES,)
    assert np.all(np.isfinite(trajectory.path_features([np.array([[5, 5]])])))
    with pytest.raises(ValueError):
        trajectory.path_features([np.zeros((0, 2))])


@pytest.mark.parametrize("outputs", [10, 11])
def test_gradient_matches_central_differences(outputs):
    rng = np.random.default_rng(0)
    reader = trajectory.TrajectoryReader(outputs=outputs)
    reader.params = {k: rng.normal(0, 0.1, v.shape) for k, v in reader.params.items()}     # float64
    F = trajectory.features_of([FOUR, SEVEN, ONE_WITH_FLAG, [s[::-1] for s in FOUR]])
    y = np.array([4, 7, 1, outputs - 1])
    J, grads = reader.loss(F, y, lamb=0.3)
    for name, p in reader.params.items():
        picks = rng.choice(p.size, size=min(p.size, 12), replace=False)
        numeric = numerical_gradient(lambda: reader.loss(F, y, lamb=0.3)[0], p, indices=picks)
        assert relative_error(grads[name].ravel()[picks], numeric.ravel()[picks]) < 1e-7, name


def test_join_is_a_weighted_geometric_mean():
    p = np.array([0.7, 0.2, 0.1] + [0.0] * 7)
    q = np.array([0.1, 0.8, 0.1] + [0.0] * 7)
    assert np.allclose(trajectory.join(p, q, 0.0), p)
    assert np.allclose(trajectory.join(p, q, 1.0), q)
    j = trajectory.join(p, q, 0.5)
    assert j.sum() == pytest.approx(1.0)
    expected = np.sqrt(p[:3] * q[:3]) / np.sqrt(p[:3] * q[:3]).sum()
    assert np.allclose(j[:3], expected) and np.all(j[3:] < 1e-100)
    assert trajectory.join(p, q, 0.5).argmax() == 1          # 0.4 against 0.26: the second


def test_the_eleventh_output_is_none_and_the_digits_a_softmax_of_their_own():
    rng = np.random.default_rng(2)
    reader = trajectory.TrajectoryReader(outputs=11)
    reader.params = {k: rng.normal(0, 0.3, v.shape) for k, v in reader.params.items()}
    F = trajectory.features_of([FOUR, SEVEN])
    z = reader.scores(F)
    shares, none = reader.probabilities_and_none(F)
    assert np.allclose(none, np.exp(z[:, 10]) / np.exp(z).sum(axis=1))
    assert np.allclose(shares, np.exp(z[:, :10]) / np.exp(z[:, :10]).sum(axis=1, keepdims=True))
    with pytest.raises(ValueError, match="0 to 9"):
        trajectory.TrajectoryReader().loss(F, [4, 10])
    # joined: the digits as before, "none" the weighted mean of the two
    p, p_none = np.full(10, 0.1), 0.2
    F = trajectory.features_of([FOUR])
    joined, joined_none = reader.joined(p[None], np.array([p_none]), F)
    q, q_none = reader.read(FOUR)
    assert np.allclose(joined[0], trajectory.join(p, q, reader.weight))
    assert joined_none[0] == pytest.approx((1 - reader.weight) * p_none + reader.weight * q_none)
    assert trajectory.TrajectoryReader().joined(p[None], np.array([p_none]), F)[1][0] == p_none   # ten outputs: the picture's


@pytest.mark.parametrize("outputs", [10, 11])
def test_saved_reader_reads_back_with_its_weight_and_line(tmp_path, outputs):
    reader = trajectory.TrajectoryReader(weight=0.4, sure_above=0.9, outputs=outputs)
    reader.params = {k: v + 0.01 for k, v in reader.params.items()}
    reader.save(tmp_path)
    back = trajectory.TrajectoryReader.load(tmp_path, "advice")
    assert back.weight == 0.4 and back.sure_above == 0.9 and back.outputs == outputs
    F = trajectory.features_of([FOUR])
    assert np.array_equal(back.probabilities_and_none(F)[1], reader.probabilities_and_none(F)[1])
    assert np.array_equal(back.predict_proba(F), reader.predict_proba(F))
    # no line saved: the picture network's line holds; no kind saved: joined with any
    trajectory.TrajectoryReader(weight=0.2).save(tmp_path / "b")
    assert trajectory.TrajectoryReader.load(tmp_path / "b", "advice").sure_above is None
    assert back.network is None and trajectory.joined_with(tmp_path / "b") == ""
    trajectory.TrajectoryReader(network="cnn").save(tmp_path / "c")
    assert trajectory.TrajectoryReader.load(tmp_path / "c", "advice").network == "cnn"
    assert trajectory.joined_with(tmp_path / "c") == "cnn" and trajectory.joined_with(tmp_path / "d") is None


def test_a_bad_reader_file_is_one_clear_error(tmp_path):
    trajectory.TrajectoryReader(weight=1.5).save(tmp_path)
    with pytest.raises(WeightsError, match="invalid weight 1.5.*restore it"):
        trajectory.TrajectoryReader.load(tmp_path, "restore it")
    trajectory.TrajectoryReader(network="Committee; rm -rf").save(tmp_path)
    with pytest.raises(WeightsError, match="invalid network .*name of a kind of network.*restore it"):
        trajectory.TrajectoryReader.load(tmp_path, "restore it")
    assert trajectory.joined_with(tmp_path) == "?"
    (tmp_path / trajectory.FILE).write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(WeightsError, match="restore it"):
        trajectory.TrajectoryReader.load(tmp_path, "restore it")


def shipped_copy(tmp_path):
    folder = tmp_path / "committee"
    shutil.copytree(nets.pretrained_dir("committee"), folder)
    if os.path.exists(folder / trajectory.FILE):
        os.remove(folder / trajectory.FILE)
    return folder


def test_a_network_with_a_stroke_reader_joins_the_two_readings(tmp_path):
    folder = shipped_copy(tmp_path)
    alone = nets.load_network(folder)
    assert alone.stroke_reader is None
    reader = trajectory.TrajectoryReader(weight=0.5, sure_above=0.5, outputs=11)
    reader.params = {k: np.random.default_rng(1).normal(0, 0.2, v.shape).astype(np.float32)
                     for k, v in reader.params.items()}
    reader.save(folder)
    joined = nets.load_network(folder)
    assert joined.stroke_reader.weight == 0.5
    picture = recognise.read_strokes(FOUR, 350, 290, alone)
    both = recognise.read_strokes(FOUR, 350, 290, joined)
    assert np.allclose(both.probabilities, trajectory.join(picture.probabilities, reader.read(FOUR)[0], 0.5))
    assert both.not_a_digit == pytest.approx(0.5 * picture.not_a_digit + 0.5 * reader.read(FOUR)[1])
    assert both.sure == (both.confidence >= 0.5 and both.not_a_digit <= 0.5)
    # a picture without its strokes (a drawing read as an image) is read by the picture alone
    image = recognise.stroke_drawing.render(FOUR, 350, 290)
    assert np.array_equal(recognise.read_drawing(image, joined).probabilities, picture.probabilities)
    # a number's digits are joined with their own strokes
    number = recognise.read_number_strokes(FOUR + [s + [150, 0] for s in SEVEN], 350, 290, joined)
    assert len(number.digits) == 2
    second = [s + [150, 0] for s in SEVEN]
    alone_second = recognise.read_strokes(second, 350, 290, alone)
    assert np.allclose(number.digits[1].probabilities,
                       trajectory.join(alone_second.probabilities, reader.read(second)[0], 0.5))


def test_fine_tuning_on_a_writers_samples_learns_their_way_and_keeps_the_rest():
    # a writer whose 1 is written as the reader's 7 (a long flag): five samples of it
    reader = nets.load_pretrained().stroke_reader
    assert reader.read(SEVEN)[0].argmax() == 7
    rows = [{"label": 1, "strokes": [s.tolist() for s in SEVEN]}] * 5 + [{"label": 3, "strokes": [[]]}]
    samples = trajectory.samples_as_digits(rows)
    assert len(samples) == 5 and samples[0].label == 1          # a sample without ink is left out
    assert np.array_equal(samples[0].strokes[0], SEVEN[0] * [1, -1])     # tablet coordinates: y upwards
    mine = copy.deepcopy(reader).fine_tune(samples)
    assert mine.read(SEVEN)[0].argmax() == 1
    assert mine.read(FOUR)[0].argmax() == 4                      # what it did not see stays
    assert np.mean(mine.probabilities_and_none(trajectory.non_digit_paths(200, 5))[1] > 0.5) > 0.9
    again = copy.deepcopy(reader).fine_tune(samples)
    assert all(np.array_equal(mine.params[k], again.params[k]) for k in mine.params)    # seeded
    assert not np.array_equal(mine.params["out_W"], reader.params["out_W"])


def test_fine_tuning_takes_any_sample_the_apps_keep():
    # a dot, a point pressed twice, a dot beside a line, a flat line, the largest canvas's corners
    rows = [{"label": d, "strokes": s} for d, s in enumerate((
        [[[10, 10]]], [[[10, 10], [10, 10]]], [[[5, 5]], [[10, 10], [10, 100]]], [[[10, 10], [200, 10]]],
        [[[0, 0], [1023, 1023]]]))]
    reader = copy.deepcopy(nets.load_pretrained().stroke_reader).fine_tune(trajectory.samples_as_digits(rows),
                                                                           copies=2, epochs=1, non_digits=50)
    assert all(np.isfinite(v).all() for v in reader.params.values())


def test_a_reader_joined_with_another_kind_is_not_attached(tmp_path):
    folder = shipped_copy(tmp_path)
    trajectory.TrajectoryReader(network="cnn").save(folder)
    assert nets.load_network(folder).stroke_reader is None
    trajectory.TrajectoryReader(network="committee").save(folder)
    assert nets.load_network(folder).stroke_reader.network == "committee"
    assert nets.load_pretrained().stroke_reader.network == "committee"      # the shipped one says so


def test_a_damaged_reader_file_stops_the_network_loading(tmp_path):
    folder = shipped_copy(tmp_path)
    (folder / trajectory.FILE).write_bytes(b"damaged")
    with pytest.raises(WeightsError, match="strokes.npz"):
        nets.load_network(folder)


def test_a_reader_trained_on_some_writers_reads_others(pendigits_file):
    digits = pendigits.load(pendigits_file)
    train = [d for d in digits if d.writer <= 20]
    unseen = [d for d in digits if d.writer > 26]
    reader = trajectory.TrajectoryReader.train(train, seed=0, copies=1, epochs=6, non_digits=3000)
    rng = np.random.default_rng(3)
    F = trajectory.features_of([recognise.stroke_drawing.fit_to_canvas(d.strokes, 350, 290, rng) for d in unseen])
    shares, none = reader.probabilities_and_none(F)
    assert np.mean(shares.argmax(axis=1) == [d.label for d in unseen]) > 0.95
    assert np.mean(none > 0.5) < 0.08            # a small reader (1 copy, 6 epochs)
    # fresh drawings that are not digits (another seed), most of them called so by the path alone
    _, drawn_none = reader.probabilities_and_none(trajectory.non_digit_paths(300, seed=99, pen_digits=unseen))
    assert np.mean(drawn_none > 0.5) > 0.7
    # seeded: the same digits and seed give the same reader
    again = trajectory.TrajectoryReader.train(train[:300], seed=0, copies=1, epochs=1)
    assert all(np.array_equal(again.params[k], trajectory.TrajectoryReader.train(train[:300], seed=0, copies=1,
                                                                                  epochs=1).params[k])
               for k in again.params)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(-50, 1100), st.integers(-50, 1100)), min_size=1, max_size=30),
                min_size=1, max_size=12))
def test_any_strokes_give_finite_features_of_one_shape(strokes):
    f = trajectory.path_features([np.array(s) for s in strokes])
    assert f.shape == (trajectory.FEATURES,) and np.all(np.isfinite(f))
    assert np.all(np.abs(f[:2 * trajectory.POINTS]) <= 1 + 1e-12)        # inside the box, scaled to [-1, 1]


def test_the_writer_group_benchmark_chooses_a_weight_and_saves_a_reader(pendigits_file, tmp_path, capsys):
    from benchmarks import stroke_reader_groups
    digits = pendigits.load(pendigits_file)
    groups = [[d for d in digits if (d.writer - 1) // 10 == g] for g in range(3)]
    # picture readings that are right four times in five, and then not sure
    rng = np.random.default_rng(0)
    labels = np.concatenate([[d.label for d in g] for g in groups])
    read = np.where(rng.random(len(labels)) < 0.8, labels, (labels + 1) % 10)
    shares = np.full((len(labels), 10), 0.4 / 9)
    shares[np.arange(len(labels)), read] = 0.6
    readings = tmp_path / "readings.npz"
    np.savez(readings, before=shares, scores=np.log(shares), labels=labels, recipe="made up",
             group=np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)]))
    folder = shipped_copy(tmp_path)
    networks = tmp_path / "groups"          # each group's network, trained without it (here: the shipped CNN)
    for g in (1, 2, 3):
        shutil.copytree(nets.pretrained_dir("cnn"), networks / f"group{g}")
    assert stroke_reader_groups.main(["--readings", str(readings), "--pen-digits", str(pendigits_file),
                                      "--copies", "0", "--epochs", "2", "--non-digits", "300", "--save", str(folder),
                                      "--save-groups", str(networks)]) == 0
    out = capsys.readouterr().out
    assert "weight chosen on the other groups" in out and "Stroke reader trained on all 7494 pen digits" in out
    assert "holds no 'not a digit' readings" in out and "called 'not a digit' by the picture 0" in out
    # the path reads far better than these pictures, so the join leans on it
    reader = nets.load_network(folder).stroke_reader
    assert reader.weight >= 0.5 and reader.sure_above is None and reader.outputs == 11
    # each group's reader lands beside its network, for the number benchmark of unseen writers
    for g in (1, 2, 3):
        assert nets.load_network(networks / f"group{g}").stroke_reader.outputs == 11
    from benchmarks import bench_numbers
    bench_numbers.main(["--numbers", "3", "--groups", "3", "--networks", str(networks), "--photos", "0",
                        "--ruled-photos", "0", "--big-photos", "0", "--pen-digits", str(pendigits_file)])
    out = capsys.readouterr().out
    assert "(one per group, from" in out and "with a stroke reader" in out and "writers 21-30" in out
    assert "NumPy SIMD: baseline " in out                    # beside its timings, the SIMD level
    assert "the search reading pictures only (right after each): median" in out
    for row in ("number reading", "paths for the digits found", "the picture alone"):
        assert f"  {row} " in out
    # each writer's reader fine-tuned on their first digits, the rest read before and after
    from benchmarks import personal_paths
    readings_with_none = tmp_path / "readings2.npz"
    np.savez(readings_with_none, before=shares, labels=labels, none=np.zeros(len(labels)),
             group=np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)]))
    assert personal_paths.main(["--readings", str(readings_with_none), "--readers", str(networks),
                                "--writers", "1", "--pen-digits", str(pendigits_file)]) == 0
    out = capsys.readouterr().out
    for writer in (1, 11, 21):
        assert f"  writer {writer:2d} (" in out
    assert "all writers, " in out and "misread by the path alone" in out
    shutil.rmtree(networks / "group3")
    with pytest.raises(SystemExit):
        bench_numbers.main(["--groups", "3", "--networks", str(networks), "--pen-digits", str(pendigits_file)])
    assert "group3" in capsys.readouterr().err


@pytest.mark.parametrize("search_paths", [True, False])
def test_the_number_search_reads_each_run_by_its_picture_and_its_path(tmp_path, monkeypatch, search_paths):
    folder = shipped_copy(tmp_path)
    reader = trajectory.TrajectoryReader(weight=0.5, outputs=11)
    reader.params = {k: np.random.default_rng(2).normal(0, 0.2, v.shape).astype(np.float32)
                     for k, v in reader.params.items()}
    reader.save(folder)
    network = nets.load_network(folder)
    strokes = FOUR + [s + [150, 0] for s in SEVEN]
    monkeypatch.setattr(recognise, "SEARCH_PATHS", search_paths)
    answers, searched, sides = [], [], []
    real_answer, real_best = recognise.network_answer, recognise.segment.best_reading

    def answer(X, net):
        answers.append(real_answer(X, net))
        return answers[-1]

    def best_reading(boxes, orders, read, **search):
        sides.append(search.get("side", recognise.segment.SIDE))

        def spy(runs):
            before = len(answers)
            shares = read(runs)
            searched.append((list(runs), shares, answers[before:]))
            return shares
        return real_best(boxes, orders, spy, **search)

    monkeypatch.setattr(recognise, "network_answer", answer)
    monkeypatch.setattr(recognise.segment, "best_reading", best_reading)
    recognise.read_number_strokes(strokes, 350, 290, network)
    assert any(len(run) == 2 for runs, _, _ in searched for run in runs)     # the 4's two strokes together
    # two tall strokes side by side cost less as one digit when their path is read too
    assert sides == [recognise.segment.SIDE_WITH_PATHS if search_paths else recognise.segment.SIDE]
    for runs, shares, [(found, none)] in searched:
        if search_paths:
            q, q_none = reader.probabilities_and_none(trajectory.features_of([[strokes[i] for i in r] for r in runs]))
            found, none = trajectory.join(found, q, 0.5), trajectory.join_none(none, q_none, 0.5)
        expected = found * (1 - none)[:, None]
        expected[none > recognise.NOT_A_DIGIT_ABOVE] = np.nan
        assert np.allclose(shares, expected, equal_nan=True)
