"""The committee kind: its shares are its members' averaged, whatever reads with it."""
import numpy as np
import pytest

from digits.errors import WeightsError
from digits.nets import load_network
from digits.nets.cnn import CNN
from digits.nets.committee import MAX_MEMBERS, Committee


def members(k, outputs=11):
    return [CNN.random(seed, convs=(4, 6), hidden=(8,), kernel=3, outputs=outputs) for seed in range(k)]


def inputs(m=9, seed=0):
    return np.random.default_rng(seed).random((m, 784))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_shares_are_the_members_mean_at_any_temperature():
    nets = members(3)
    committee = Committee(nets)
    X = inputs()
    mean = np.mean([n.predict_proba(X) for n in nets], axis=0)
    np.testing.assert_allclose(committee.predict_proba(X), mean, atol=1e-12)
    np.testing.assert_allclose(softmax(committee.scores(X)), mean, atol=1e-9)
    committee.temperature = 2.0
    hot = np.mean([softmax(np.asarray(n.scores(X), dtype=np.float64) / 2.0) for n in nets], axis=0)
    np.testing.assert_allclose(committee.predict_proba(X), hot, atol=1e-12)
    assert not np.allclose(hot, mean)
    np.testing.assert_allclose(committee.not_a_digit(X), np.mean([n.not_a_digit(X) for n in nets], axis=0))


@pytest.mark.parametrize("outputs", [10, 11])
@pytest.mark.parametrize("temperature", [None, 1.7])
def test_one_pass_gives_what_the_two_calls_give(outputs, temperature):
    """probabilities_and_none (one forward pass of each member, what every reading asks for) is
    predict_proba and not_a_digit, for a committee and for each member alone."""
    nets = members(3, outputs)
    X = inputs(12, 2)
    for net in nets + [Committee(nets)]:
        net.temperature = temperature
        probabilities, none = net.probabilities_and_none(X)
        np.testing.assert_allclose(probabilities, net.predict_proba(X), rtol=0, atol=1e-15)
        np.testing.assert_allclose(none, net.not_a_digit(X), rtol=0, atol=1e-15)
        assert probabilities.shape == (12, 10) and none.shape == (12,)
        assert (np.ptp(none) > 0) == (outputs == 11)     # a real eleventh output, or none at all


def read_counting_passes(monkeypatch, rotations=(0,)):
    """(the Reading of one drawing by a committee of three, the rows of each member's forward pass)."""
    nets = members(3)
    calls = []
    for net in nets:
        forward = net.all_scores
        monkeypatch.setattr(net, "all_scores", lambda X, forward=forward: calls.append(len(X)) or forward(X))
    from digits import recognise
    return recognise.recognise(inputs(1, 3)[0], Committee(nets, rotations)), calls


def test_a_reading_runs_each_member_once(monkeypatch):
    """A drawing read by a committee of three costs three forward passes, not six."""
    reading, calls = read_counting_passes(monkeypatch)
    assert len(calls) == 3 and reading.probabilities.shape == (10,)


def test_a_committee_of_one_reads_as_its_member():
    net = members(1)[0]
    X = inputs(20, 1)
    np.testing.assert_allclose(Committee([net]).predict_proba(X), net.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(Committee([net]).predict(X), net.predict(X))


def test_parameters_are_the_members_live_arrays():
    nets = members(2)
    committee = Committee(nets)
    assert set(committee.params) == {f"m{i}.{name}" for i in range(2) for name in nets[0].params}
    assert committee.params["m1.out_W"] is nets[1].params["out_W"]
    committee.params["m1.out_W"] = np.zeros_like(nets[1].params["out_W"])
    assert not nets[1].params["out_W"].any()
    with pytest.raises(KeyError):
        committee.params["m2.out_W"]


def test_members_must_share_one_architecture():
    with pytest.raises(ValueError, match="one architecture"):
        Committee([members(1)[0], CNN.random(0, convs=(4,), hidden=(8,), kernel=3)])
    with pytest.raises(ValueError, match="1 to"):
        Committee([])


def test_saved_and_read_back_with_every_member(tmp_path):
    nets = members(3)
    Committee(nets).save(tmp_path)
    back = load_network(tmp_path)
    assert isinstance(back, Committee) and len(back.members) == 3
    X = inputs()
    np.testing.assert_allclose(back.predict_proba(X), Committee(nets).predict_proba(X), atol=1e-6)


def test_the_largest_committee_trained_is_read_back(tmp_path):
    # --members allows up to MAX_MEMBERS; a committee of 8 once saved a file its own loader refused.
    nets = members(MAX_MEMBERS)
    Committee(nets, rotations=(0, 10, -10)).save(tmp_path)
    back = load_network(tmp_path)
    assert len(back.members) == MAX_MEMBERS and back.rotations == (0, 10, -10)
    X = inputs()
    np.testing.assert_allclose(back.predict_proba(X), Committee(nets, rotations=(0, 10, -10)).predict_proba(X), atol=1e-6)


def test_a_file_missing_a_member_is_refused_in_one_line(tmp_path):
    Committee(members(2)).save(tmp_path)
    path = tmp_path / "committee.npz"
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if not k.startswith("m1.")}
    np.savez(path, **arrays)
    with pytest.raises(WeightsError, match="lacks the array m1") as e:
        load_network(tmp_path)
    assert "\n" not in str(e.value)


# Reading each picture turned as well (test-time augmentation) -----------------------------------

def test_turned_readings_are_the_mean_over_members_and_turns():
    """The fast path (one forward pass of each member over every turned copy) against the slow
    reference: each member reading each turned copy alone, the shares averaged."""
    from digits.imaging.distort import warp
    nets = members(3)
    committee = Committee(nets, rotations=(0, 10, -10))
    X = inputs(6, 4)
    shares, none = [], []
    for net in nets:
        for degrees in (0, 10, -10):
            turned = warp(X, np.tile([np.radians(degrees), 1.0, 1.0, 0.0, 0.0], (len(X), 1)))
            shares.append(net.predict_proba(turned))
            none.append(net.not_a_digit(turned))
    np.testing.assert_allclose(committee.predict_proba(X), np.mean(shares, axis=0), rtol=0, atol=1e-6)
    np.testing.assert_allclose(committee.not_a_digit(X), np.mean(none, axis=0), rtol=0, atol=1e-6)
    assert not np.allclose(committee.predict_proba(X), Committee(nets).predict_proba(X), atol=1e-4)


def test_a_turn_of_zero_is_the_picture_as_given():
    nets = members(2)
    X = inputs(5, 5)
    np.testing.assert_array_equal(Committee(nets, rotations=(0,)).predict_proba(X), Committee(nets).predict_proba(X))
    from digits.nets.committee import turned_copies
    copies = turned_copies(X, (5, 0, -5))
    assert copies.shape == (15, 784)
    np.testing.assert_array_equal(copies[5:10], X)
    assert turned_copies(X, (0,)) is X
    assert not np.allclose(copies[:5], copies[10:])          # +5 and -5 are different pictures


def test_a_turned_reading_runs_each_member_once(monkeypatch):
    """Three members reading three turns: three forward passes of three rows each, not nine."""
    reading, calls = read_counting_passes(monkeypatch, rotations=(0, 10, -10))
    assert calls == [3, 3, 3] and reading.probabilities.shape == (10,)
    assert "turned +10°, -10°" in reading.network


@pytest.mark.parametrize("rotations, words", [((0, 0), "distinct"), ((0, 45), r"within \+-30"), ((), "1 to 9"),
                                              ((0.5,), "whole degrees"), (tuple(range(10)), "1 to 9")])
def test_impossible_turns_are_refused(rotations, words):
    with pytest.raises(ValueError, match=words):
        Committee(members(1), rotations=rotations)


def test_turns_are_saved_and_read_back(tmp_path):
    nets = members(2)
    Committee(nets, rotations=(0, 10, -10)).save(tmp_path / "turned")
    back = load_network(tmp_path / "turned")
    assert back.rotations == (0, 10, -10)
    X = inputs(4, 6)
    np.testing.assert_allclose(back.predict_proba(X), Committee(nets, (0, 10, -10)).predict_proba(X), atol=1e-6)
    Committee(nets).save(tmp_path / "plain")                 # no turns: the file is as before, no 'rotations'
    with np.load(tmp_path / "plain" / "committee.npz") as f:
        assert "rotations" not in f.files
    assert load_network(tmp_path / "plain").rotations == (0,)


def test_a_file_with_impossible_turns_is_refused_in_one_line(tmp_path):
    Committee(members(2), rotations=(0, 10)).save(tmp_path)
    path = tmp_path / "committee.npz"
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["rotations"] = np.array([0, 90])
    np.savez(path, **arrays)
    with pytest.raises(WeightsError, match="within") as e:
        load_network(tmp_path)
    assert "\n" not in str(e.value)


def test_training_on_keeps_the_turns():
    nets = members(2)
    X, y = (inputs(8, 7) * 255).astype(np.uint8), np.arange(8) % 10
    trained, _ = Committee.train(X, y, lamb=0.0, seed=0, report=None, start=Committee(nets, rotations=(0, 8, -8)),
                                 epochs=1, batch_size=4)
    assert trained.rotations == (0, 8, -8)


def test_a_committee_split_into_runs_is_the_committee_trained_at_once():
    # --first-member 2 --members 1 trains member 2 of --members 2, to the last bit, so a long
    # committee can be trained in several runs and joined.
    X, y = (inputs(8, 7) * 255).astype(np.uint8), np.arange(8) % 10
    both, _ = Committee.train(X, y, lamb=0.0, seed=0, report=None, members=2, epochs=1, batch_size=4)
    second, _ = Committee.train(X, y, lamb=0.0, seed=0, report=None, members=1, first_member=2, epochs=1, batch_size=4)
    first, _ = Committee.train(X, y, lamb=0.0, seed=0, report=None, members=1, epochs=1, batch_size=4)
    for name, p in both.members[1].params.items():
        np.testing.assert_array_equal(second.members[0].params[name], p)
    for name, p in both.members[0].params.items():
        np.testing.assert_array_equal(first.members[0].params[name], p)
    assert not np.array_equal(first.members[0].params["conv1_W"], second.members[0].params["conv1_W"])
    defaults = {o.name: o.default for o in Committee.OPTIONS}
    assert Committee.describe_training({**defaults, "members": 1, "first_member": 2}, 30.0).startswith(
        "member 2 of a committee, a CNN")
    assert Committee.describe_training({**defaults, "members": 3, "first_member": 3}, 30.0).startswith(
        "members 3-5 of a committee")


def test_members_of_other_filters_are_trained_saved_and_read_back(tmp_path):
    # --convs 4,8: every member has that architecture, the file keeps it, and training on
    # from the committee with other filters is refused rather than silently changing them.
    X, y = (inputs(8, 7) * 255).astype(np.uint8), np.arange(8) % 10
    narrow, _ = Committee.train(X, y, lamb=0.0, seed=0, report=None, members=2, epochs=1, batch_size=4, convs=(4, 8))
    assert [m.convs for m in narrow.members] == [(4, 8), (4, 8)]
    assert narrow.members[0].params["conv1_W"].shape == (5, 5, 1, 4)
    narrow.save(tmp_path)
    again = Committee.load(tmp_path)
    np.testing.assert_array_equal(again.scores(X / 255.0), narrow.scores(X / 255.0))
    defaults = {o.name: o.default for o in Committee.OPTIONS}
    assert "conv4-pool-conv8-pool-fc128" in Committee.describe_training({**defaults, "convs": (4, 8)}, 30.0)
    with pytest.raises(ValueError, match=r"convolutions of \(4, 8\) filters, not \(16, 32\)"):
        Committee.train(X, y, lamb=0.0, seed=0, report=None, start=narrow, epochs=1, batch_size=4, convs=(16, 32))
    tuned, _ = Committee.train(X, y, lamb=0.0, seed=0, report=None, start=narrow, epochs=1, batch_size=4)
    assert [m.convs for m in tuned.members] == [(4, 8), (4, 8)]
