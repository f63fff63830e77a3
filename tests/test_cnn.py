"""The CNN kind (digits.nets.cnn) and the minibatch trainer (digits.nets.minibatch)."""
import os
import zipfile

import numpy as np
import pytest

from digits.errors import WeightsError
from digits.nets import cnn as cnn_module
from digits.nets.base import Network
from digits.nets.cnn import CNN
from digits.nets.gradcheck import numerical_gradient, relative_error
from digits.imaging.distort import distort_batch
from digits.nets.minibatch import train_minibatch

ADVICE = "train one with: python main.py --model cnn"


def tiny(seed=0, dtype=np.float64, **arch):
    arch = {"convs": (2, 3), "hidden": (5,), "kernel": 3, **arch}
    rng = np.random.default_rng(seed)
    net = CNN.random(rng, dtype=dtype, **arch)
    for p in net.params.values():              # biases away from 0, so that they are checked too
        p += 0.05 * rng.standard_normal(p.shape)
    return net


def kink_distance(net, X):
    """How close any ReLU input or any max-pool runner-up is to switching: central differences
    across such a kink are wrong, so the gradient checks use inputs where this is not tiny."""
    from digits.nets import layers
    p, pad, gaps = net.params, net.kernel // 2, []
    a = X.reshape(-1, 28, 28, 1)
    for i in range(1, len(net.convs) + 1):
        a, _ = layers.conv_forward(a, p[f"conv{i}_W"], p[f"conv{i}_b"], 1, pad)
        N, H, W, C = a.shape
        w = a[:, :H // 2 * 2, :W // 2 * 2].reshape(N, H // 2, 2, W // 2, 2, C).transpose(0, 1, 3, 5, 2, 4)
        top2 = np.sort(w.reshape(-1, 4), axis=1)[:, -2:]
        gaps.append(np.min(top2[:, 1] - top2[:, 0]))
        a = np.maximum(a, 0)[:, :H // 2 * 2, :W // 2 * 2].reshape(N, H // 2, 2, W // 2, 2, C).max(axis=(2, 4))
        gaps.append(np.min(np.abs(top2[:, 1])))
    a = a.reshape(len(X), -1)
    for i in range(1, len(net.hidden) + 1):
        a = a @ p[f"fc{i}_W"] + p[f"fc{i}_b"]
        gaps.append(np.min(np.abs(a)))
        a = np.maximum(a, 0)
    return min(gaps)


@pytest.mark.parametrize("seed,arch", [(0, {}), (1, {}), (2, {"convs": (3,), "hidden": (), "kernel": 5}),
                                       (3, {"convs": (2, 2, 2), "hidden": (4, 3)})])
def test_network_gradient(seed, arch):
    rng = np.random.default_rng(100 + seed)
    for attempt in range(20):                  # random weights and inputs with no kink within 1e-4
        net = tiny(seed + 1000 * attempt, **arch)
        X, y, lamb = rng.random((3, 784)), rng.integers(0, 10, 3), 0.7
        if kink_distance(net, X) > 1e-4:
            break
    J, grads = net.loss(X, y, lamb)
    assert list(grads) == list(net.params)
    for name, p in net.params.items():
        idx = rng.choice(p.size, min(p.size, 25), replace=False)
        num = numerical_gradient(lambda: net.loss(X, y, lamb)[0], p, indices=idx)
        err = relative_error(num.ravel()[idx], grads[name].ravel()[idx])
        assert err < 1e-6, f"{name}: relative error {err:.2e}"


def test_loss_convention():
    """J = mean cross-entropy + lamb / (2m) * squared weights, biases excluded."""
    net = tiny(4)
    rng = np.random.default_rng(4)
    X, y = rng.random((6, 784)), rng.integers(0, 10, 6)
    J0, _ = net.loss(X, y, 0.0)
    J1, _ = net.loss(X, y, 2.0)
    squares = sum(np.sum(p ** 2) for name, p in net.params.items() if name.endswith("_W"))
    assert J1 - J0 == pytest.approx(2.0 / (2 * 6) * squares, rel=1e-10)
    proba = net.predict_proba(X)
    assert J0 == pytest.approx(-np.mean(np.log(proba[np.arange(6), y])), rel=1e-10)


def test_float32_network_agrees_with_float64():
    net64 = tiny(5)
    net32 = CNN({k: v.astype(np.float32) for k, v in net64.params.items()}, **net64.architecture())
    rng = np.random.default_rng(5)
    X, y = rng.random((4, 784)), rng.integers(0, 10, 4)
    J64, g64 = net64.loss(X, y, 0.1)
    J32, g32 = net32.loss(X.astype(np.float32), y, 0.1)
    assert J32 == pytest.approx(J64, rel=1e-5)
    for name in g64:
        assert g32[name].dtype == np.float32
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-3, atol=1e-5)


def test_scores_in_batches(monkeypatch):
    net = tiny(6, dtype=np.float32)
    X = np.random.default_rng(6).random((23, 784))
    whole = net.scores(X)
    monkeypatch.setattr(cnn_module, "PREDICT_BATCH", 5)
    np.testing.assert_array_equal(net.scores(X), whole)
    assert whole.shape == (23, 10) and whole.dtype == np.float32
    np.testing.assert_allclose(net.predict_proba(X).sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(ValueError):
        net.scores(np.zeros((2, 783)))


def test_describe_and_random():
    net = CNN.random(0)
    assert net.describe() == "CNN conv16-pool-conv32-pool-fc128 (5x5)"
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert not net.params["conv1_b"].any()
    std = net.params["conv2_W"].std()
    assert std == pytest.approx(np.sqrt(2 / (5 * 5 * 16)), rel=0.05)     # He
    with pytest.raises(ValueError):
        CNN.random(0, convs=(4,), kernel=4)


# Files ---------------------------------------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    net = tiny(7, dtype=np.float32)
    net.temperature = 1.5
    path = net.save(tmp_path / "w")
    assert os.path.basename(path) == "cnn.npz" and CNN.saved_in(tmp_path / "w")
    assert not CNN.saved_in(tmp_path)
    back = CNN.load(tmp_path / "w", advice=ADVICE)
    assert back.describe() == net.describe() and back.temperature == 1.5
    X = np.random.default_rng(7).random((9, 784))
    np.testing.assert_array_equal(back.scores(X), net.scores(X))
    np.testing.assert_array_equal(back.predict(X), net.predict(X))
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))
    assert [f for f in os.listdir(tmp_path / "w")] == ["cnn.npz"]      # no temporary file left


def _write_npz(folder, **arrays):
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "cnn.npz", **arrays)


def _good_arrays():
    net = tiny(8, dtype=np.float32)
    return {"kind": np.array("cnn"), "format": np.array(1), "convs": np.array(net.convs),
            "hidden": np.array(net.hidden), "kernel": np.array(net.kernel), **net.params}


def _broken(name):
    a = _good_arrays()
    if name == "wrong kind":
        a["kind"] = np.array("mlp")
    elif name == "no kind":
        del a["kind"]
    elif name == "unknown format":
        a["format"] = np.array(99)
    elif name == "missing array":
        del a["fc1_W"]
    elif name == "mismatched shape":
        a["conv2_W"] = a["conv2_W"][:, :, :1]
    elif name == "mismatched architecture":
        a["hidden"] = np.array([7])
    elif name == "nan":
        a["out_b"] = a["out_b"].copy()
        a["out_b"][3] = np.nan
    elif name == "integers":
        a["out_b"] = a["out_b"].astype(np.int64)
    elif name == "extra array":
        a["conv9_W"] = np.zeros(3)
    elif name == "bad temperature":
        a["temperature"] = np.array(-1.0)
    elif name == "impossible architecture":
        a["kernel"] = np.array(4)
    return a


@pytest.mark.parametrize("name", ["wrong kind", "no kind", "unknown format", "missing array", "mismatched shape",
                                  "mismatched architecture", "nan", "integers", "extra array", "bad temperature",
                                  "impossible architecture"])
def test_bad_npz_is_one_clear_line(tmp_path, name):
    _write_npz(tmp_path, **_broken(name))
    with pytest.raises(WeightsError) as e:
        CNN.load(tmp_path, advice=ADVICE)
    message = str(e.value)
    assert "\n" not in message and message.endswith(ADVICE) and "cnn.npz" in message


def test_missing_not_npz_and_truncated_files(tmp_path):
    for setup in ("missing", "text", "truncated", "empty", "corrupt"):
        folder = tmp_path / setup
        folder.mkdir()
        if setup != "missing":
            tiny(9, dtype=np.float32).save(folder)
            data = (folder / "cnn.npz").read_bytes()
            if setup == "text":
                data = b"0.1 0.2 0.3\n" * 100
            elif setup == "truncated":
                data = data[:len(data) // 2]
            elif setup == "empty":
                data = b""
            elif setup == "corrupt":                   # a member's bytes changed: its CRC fails
                data = bytearray(data)
                with zipfile.ZipFile(folder / "cnn.npz") as z:
                    info = z.getinfo("conv1_W.npy")
                start = info.header_offset + 30 + len(info.filename) + 200
                data[start:start + 8] = b"\xff" * 8
                data = bytes(data)
            (folder / "cnn.npz").write_bytes(data)
        with pytest.raises(WeightsError) as e:
            CNN.load(folder, advice=ADVICE)
        message = str(e.value)
        assert "\n" not in message and message.endswith(ADVICE), (setup, message)


def test_save_is_atomic(tmp_path, monkeypatch):
    net = tiny(10, dtype=np.float32)
    net.save(tmp_path)
    before = (tmp_path / "cnn.npz").read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(Exception):
        tiny(11, dtype=np.float32).save(tmp_path)
    assert (tmp_path / "cnn.npz").read_bytes() == before
    assert os.listdir(tmp_path) == ["cnn.npz"]


# Training -------------------------------------------------------------------------------------------

def bars(n, rng):
    """n 28x28 uint8 images of one bar each, label 0: horizontal, 1: vertical, 2: diagonal,
    3: anti-diagonal, at random positions, with noise."""
    images = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
    labels = rng.integers(0, 4, n)
    offsets = rng.integers(4, 24, n)
    ramp = np.arange(5, 23)
    for image, label, k in zip(images, labels, offsets):
        if label == 0:
            image[k - 1:k + 1, 4:24] = 255
        elif label == 1:
            image[4:24, k - 1:k + 1] = 255
        elif label == 2:
            image[ramp, np.clip(ramp + k - 14, 0, 27)] = 255
        else:
            image[ramp, np.clip(41 - ramp - k, 0, 27)] = 255
    return images.reshape(n, 784), labels


def history_of(*args, **kwargs):
    """train_minibatch's (history, the interruption or None)."""
    result = train_minibatch(*args, **kwargs)
    assert result.unit == "epoch" and result.diverged is None
    return result.history, result.interruption


def test_tiny_network_learns_bars():
    rng = np.random.default_rng(0)
    images, labels = bars(200, rng)
    net = CNN.random(rng, convs=(4,), hidden=(16,), kernel=3)
    lines, calls = [], []
    history, interrupted = history_of(net, images, labels, epochs=8, batch_size=20, lr=3e-3, rng=rng,
                                           validation=(images[:50], labels[:50]), report=lines.append,
                                           progress=lambda *a: calls.append(a))
    assert not interrupted and len(lines) == 8 and len(history["loss"]) == 8
    accuracy = np.mean(net.predict_pixels(images) == labels)
    assert accuracy > 0.9, (accuracy, lines)
    assert history["loss"][-1] < history["loss"][0]
    assert history["validation_accuracy"][-1] is not None and history["train_accuracy"][-1] > 0.8
    assert calls[-1][:2] == (200, 200) and len(calls) == 8 * 10


def test_ctrl_c_keeps_the_last_finished_epoch():
    rng = np.random.default_rng(1)
    images, labels = bars(60, rng)
    net = CNN.random(rng, convs=(2,), hidden=(), kernel=3)
    initial = {k: v.copy() for k, v in net.params.items()}
    after_epoch = []
    batches = [0]

    def progress(done, total, seconds):
        batches[0] += 1
        if batches[0] == 2 * 6 + 3:            # the third batch of the third epoch
            raise KeyboardInterrupt

    history, interrupted = history_of(
        net, images, labels, epochs=5, batch_size=10, lr=1e-2, rng=rng, progress=progress,
        report=lambda line: after_epoch.append({k: v.copy() for k, v in net.params.items()}))
    assert interrupted and len(history["loss"]) == 2
    assert len(after_epoch) == 2               # two epochs finished
    for name, p in net.params.items():
        np.testing.assert_array_equal(p, after_epoch[1][name])
        assert not np.array_equal(p, initial[name]) or name.endswith("_b")

    net2 = CNN.random(2, convs=(2,), hidden=(), kernel=3)
    start = {k: v.copy() for k, v in net2.params.items()}

    def stop(*args):
        raise KeyboardInterrupt
    history, interrupted = history_of(net2, images, labels, epochs=2, batch_size=10, rng=rng,
                                           progress=stop, report=None)
    assert interrupted and history["loss"] == []
    for name, p in net2.params.items():
        np.testing.assert_array_equal(p, start[name])


def test_a_learning_rate_far_too_large_stops_as_diverged_with_the_last_finished_epoch():
    rng = np.random.default_rng(7)
    images, labels = bars(60, rng)
    net = CNN.random(rng, convs=(2,), hidden=(), kernel=3)
    start = {k: v.copy() for k, v in net.params.items()}
    result = train_minibatch(net, images, labels, epochs=3, batch_size=10, lr=1e39, rng=rng, report=None)
    assert result.diverged and "epoch 1" in result.diverged and result.steps == 0
    for name, p in net.params.items():        # no epoch finished: the initial parameters, all finite
        np.testing.assert_array_equal(p, start[name])


class Softmax(Network):
    """A network without `loss_and_scores`: the trainer's generic path."""

    kind = "softmax"

    def __init__(self):
        super().__init__()
        self.params = {"W": np.zeros((784, 10)), "b": np.zeros(10)}

    def scores(self, X):
        return np.asarray(X) @ self.params["W"] + self.params["b"]

    def loss(self, X, y, lamb=0.0):
        s = self.scores(X)
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        m = len(y)
        J = -np.mean(np.log(p[np.arange(m), y])) + lamb / (2 * m) * np.sum(self.params["W"] ** 2)
        p[np.arange(m), y] -= 1
        return J, {"W": X.T @ p / m + lamb / m * self.params["W"], "b": p.sum(axis=0) / m}


def test_trainer_works_with_any_network():
    rng = np.random.default_rng(3)
    images, labels = bars(100, rng)
    net = Softmax()
    history, interrupted = history_of(net, images, labels, epochs=3, batch_size=25, lr=1e-2, rng=rng,
                                           report=None, lamb=1.0, optimizer="momentum", schedule=0.5)
    assert not interrupted and len(history["train_accuracy"]) == 3 and history["loss"][-1] < history["loss"][0]


def test_distort_batch():
    rng = np.random.default_rng(4)
    images, _ = bars(16, rng)
    X = images / 255.0
    np.testing.assert_array_equal(distort_batch(X, rng, 0, 0, 0), X.astype(np.float32))
    Y = distort_batch(X, rng)
    assert Y.shape == X.shape and Y.dtype == np.float32
    assert Y.min() >= 0 and Y.max() <= 1 + 1e-6
    assert not np.allclose(Y, X)
    assert Y.sum() == pytest.approx(X.sum(), rel=0.15)
    # A shift of exactly one pixel moves the image by one pixel.
    one = np.zeros((1, 28, 28))
    one[0, 10, 12] = 1.0

    class Fixed:
        def uniform(self, low, high, size=None):
            return np.full(size, high)
    shifted = distort_batch(one.reshape(1, 784), Fixed(), 0, 0, 1.0).reshape(28, 28)
    assert shifted[11, 13] == pytest.approx(1.0)


def test_worker_threads_take_the_same_steps_as_one():
    """The batch split between threads (sizes 13 + 12, then 5 + 5) gives the whole batch's step."""
    images, labels = bars(60, np.random.default_rng(5))
    results = []
    for workers in (1, 2, 3):
        net = tiny(12)                         # float64
        history, _ = history_of(net, images, labels, epochs=2, batch_size=25, lr=1e-2,
                                     rng=np.random.default_rng(6), distort=True, lamb=3.0, report=None,
                                     workers=workers)
        results.append((net.params, history))
    for params, history in results[1:]:
        for name, p in params.items():
            np.testing.assert_allclose(p, results[0][0][name], rtol=1e-9, atol=1e-12)
        assert history["train_accuracy"] == results[0][1]["train_accuracy"]
        np.testing.assert_allclose(history["loss"], results[0][1]["loss"], rtol=1e-10)


def test_a_seed_gives_the_same_network_whatever_the_threads_timing(monkeypatch):
    """Two runs of one seed on 2 workers, one with the batches' preparation slowed at random
    (so that the parts and the batch prepared ahead finish in other orders), end bitwise equal."""
    import random
    import time as time_module

    from digits.nets import minibatch
    images, labels = bars(90, np.random.default_rng(7))
    runs = []
    for jitter in (False, True):
        if jitter:
            prepared, delays = minibatch._prepared, random.Random(1)

            def slow(*args):
                time_module.sleep(delays.random() * 0.01)
                return prepared(*args)
            monkeypatch.setattr(minibatch, "_prepared", slow)
        net = tiny(13, dtype=np.float32)
        history, _ = history_of(net, images, labels, epochs=2, batch_size=20, lr=1e-2,
                                rng=np.random.default_rng(8), distort=True, lamb=3.0, report=None, workers=2)
        runs.append((net.params, history["loss"]))
    for name, p in runs[0][0].items():
        np.testing.assert_array_equal(p, runs[1][0][name])
    assert runs[0][1] == runs[1][1]


def test_network_gradient_with_dropout():
    """With dropout the loss is that of the thinned network its Generator picks: the gradient
    of that same thinned network (a Generator seeded alike each call) against central differences."""
    rng = np.random.default_rng(140)
    for attempt in range(20):
        net = tiny(40 + 1000 * attempt, hidden=(6, 5))
        X, y, lamb = rng.random((4, 784)), rng.integers(0, 10, 4), 0.7
        if kink_distance(net, X) > 1e-4:
            break

    def loss():
        return net.loss_and_scores(X, y, lamb, dropout=(0.5, np.random.default_rng(41)))
    J, grads, _ = loss()
    assert J != net.loss(X, y, lamb)[0]                       # some unit was dropped
    for name, p in net.params.items():
        idx = rng.choice(p.size, min(p.size, 25), replace=False)
        num = numerical_gradient(lambda: loss()[0], p, indices=idx)
        err = relative_error(num.ravel()[idx], grads[name].ravel()[idx])
        assert err < 1e-6, f"{name}: relative error {err:.2e}"


def test_dropout_trains_reproducibly_and_reading_is_never_random():
    """A seed gives the same network with dropout on 2 workers; dropout changes the steps taken;
    the trained network then reads the same inputs the same way every time (no dropout)."""
    images, labels = bars(90, np.random.default_rng(9))
    nets = []
    for dropout in (0.5, 0.5, 0.0):
        net = tiny(14, dtype=np.float32)
        history_of(net, images, labels, epochs=2, batch_size=20, lr=1e-2, rng=np.random.default_rng(10),
                   distort=True, lamb=3.0, report=None, workers=2, dropout=dropout)
        nets.append(net)
    for name, p in nets[0].params.items():
        np.testing.assert_array_equal(p, nets[1].params[name])
    assert any(not np.array_equal(p, nets[2].params[name]) for name, p in nets[0].params.items())
    X = images[:30].reshape(30, -1) / 255.0
    np.testing.assert_array_equal(nets[0].scores(X), nets[0].scores(X))
    np.testing.assert_allclose(nets[0].scores(X), nets[0].loss_and_scores(X, labels[:30])[2][:, :10], rtol=1e-6)


def test_dropout_is_an_option_of_cnn_training():
    """CNN.train(dropout=p) reaches the trainer (a step with dropout differs from one without)."""
    images, labels = bars(40, np.random.default_rng(11))
    a, _ = CNN.train(images, labels, lamb=1.0, seed=3, report=None, epochs=1, batch_size=20, dropout=0.5)
    b, _ = CNN.train(images, labels, lamb=1.0, seed=3, report=None, epochs=1, batch_size=20)
    c, _ = CNN.train(images, labels, lamb=1.0, seed=3, report=None, epochs=1, batch_size=20, dropout=0.5)
    assert not np.array_equal(a.params["fc1_W"], b.params["fc1_W"])
    np.testing.assert_array_equal(a.params["fc1_W"], c.params["fc1_W"])
