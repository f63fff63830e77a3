"""The training command, run as a user runs it: a subprocess with arguments."""
import gzip
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from digits.data.idx import idx_bytes
from digits.nets import load_network


def run_main(repo_root, *args, timeout=600):
    return subprocess.run([sys.executable, str(repo_root / "main.py"), *args], cwd=repo_root,
                          capture_output=True, text=True, timeout=timeout)


def signal_main_at(repo_root, line_start, sig, *args, delay=0.0):
    """Run main.py with `args`, send it `sig` `delay` seconds after a line of its output starts
    with `line_start`; returns (exit code, the rest of stdout, stderr)."""
    process = subprocess.Popen([sys.executable, str(repo_root / "main.py"), *args], cwd=repo_root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith(line_start):
            time.sleep(delay)
            process.send_signal(sig)
            break
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def write_idx(folder, X_train, y_train, X_test, y_test):
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in (("train-images-idx3-ubyte", X_train.reshape(-1, 28, 28)), ("train-labels-idx1-ubyte", y_train),
                        ("t10k-images-idx3-ubyte", X_test.reshape(-1, 28, 28)), ("t10k-labels-idx1-ubyte", y_test)):
        (folder / (name + ".gz")).write_bytes(gzip.compress(idx_bytes(array)))
    return folder


def synthetic_digits(n, seed):
    """Learnable fake digits: class k is a bright bar on rows 2k..2k+3, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    X = rng.integers(0, 60, (n, 28, 28))
    for i, label in enumerate(y):
        X[i, 2 * label + 4:2 * label + 8, 6:22] = rng.integers(180, 256)
    return X.reshape(n, 784).astype(np.uint8), y.astype(np.uint8)


def one_line_error(result):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("args, words", [
    (["--maxiter", "0"], "--maxiter"),
    (["--maxiter", "ten"], "--maxiter"),
    (["--lambda", "-1"], "--lambda"),
    (["--hidden", "0"], "--hidden"),
    (["--dtype", "float16"], "--dtype"),
    (["--test-fraction", "1.5"], "--test-fraction"),
    (["--test-fraction", "1/0"], "--test-fraction"),
    (["--no-such-option"], "unrecognized"),
])
def test_bad_options_exit_with_one_line(repo_root, args, words):
    result = run_main(repo_root, *args)
    assert result.returncode == 2
    assert words in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("make_path, words", [
    (lambda tmp: tmp / "missing.mat", "not found"),
    (lambda tmp: (tmp / "junk.mat").write_text("junk") and tmp / "junk.mat", "not a readable MATLAB"),
    (lambda tmp: tmp, "lacks"),
])
def test_bad_data_paths_exit_with_one_line(repo_root, tmp_path, make_path, words):
    result = run_main(repo_root, "--data", str(make_path(tmp_path)), "--weights-dir", str(tmp_path / "w"))
    assert words in one_line_error(result)
    assert not (tmp_path / "w").exists()


def test_unwritable_weights_dir_is_one_line(repo_root, tmp_path):
    X, y = synthetic_digits(300, 0)
    data = write_idx(tmp_path / "data", X[:250], y[:250], X[250:], y[250:])
    blocker = tmp_path / "file"
    blocker.write_text("a file where the weights folder should go")
    result = run_main(repo_root, "--data", str(data), "--hidden", "5", "--maxiter", "2", "--no-report", "--weights-dir", str(blocker / "w"))
    assert str(blocker) in one_line_error(result)
    assert blocker.read_text().startswith("a file")


def test_end_to_end_on_synthetic_digits(repo_root, tmp_path):
    X, y = synthetic_digits(1400, 1)
    data = write_idx(tmp_path / "data", X[:1200], y[:1200], X[1200:], y[1200:])
    result = run_main(repo_root, "--data", str(data), "--hidden", "12", "--maxiter", "40", "--seed", "3", "--no-report",
                      "--weights-dir", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "iteration   40" in out
    test_accuracy = float(out.split("Test Set Accuracy: ")[1].split()[0])
    assert test_accuracy > 95
    net = load_network(tmp_path / "w"); Theta1, Theta2 = net.params["Theta1"], net.params["Theta2"]
    assert Theta1.shape == (12, 785) and Theta2.shape == (10, 13)
    # The saved weights are the ones evaluated: predicting with them gives the printed accuracy.
    from prediction import predict
    assert np.mean(predict(Theta1, Theta2, X[1200:] / 255) == y[1200:]) * 100 == pytest.approx(test_accuracy)


def test_same_seed_same_weights(repo_root, tmp_path):
    X, y = synthetic_digits(300, 2)
    data = write_idx(tmp_path / "data", X[:250], y[:250], X[250:], y[250:])
    for name in ("a", "b"):
        assert run_main(repo_root, "--data", str(data), "--hidden", "4", "--maxiter", "5", "--no-report",
                        "--weights-dir", str(tmp_path / name)).returncode == 0
    for file in ("Theta1.txt", "Theta2.txt"):
        # The same numbers to the last digit (each save has its own run id in its comment line).
        np.testing.assert_array_equal(np.loadtxt(tmp_path / "a" / file), np.loadtxt(tmp_path / "b" / file))


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_save_what_it_has(repo_root, tmp_path, sig, code):
    rng = np.random.default_rng(5)
    X = rng.integers(0, 256, (6000, 784)).astype(np.uint8)
    y = rng.integers(0, 10, 6000).astype(np.uint8)  # random labels: training never converges early
    data = write_idx(tmp_path / "data", X[:5000], y[:5000], X[5000:], y[5000:])
    returncode, out, err = signal_main_at(repo_root, "iteration    3", sig, "--data", str(data), "--hidden", "30",
                                          "--maxiter", "100000", "--no-report", "--weights-dir", str(tmp_path / "w"))
    assert returncode == code, err
    assert "stopped early" in out and "Test Set Accuracy" in out and "Weights saved" in out
    assert "Traceback" not in err
    net = load_network(tmp_path / "w"); Theta1, Theta2 = net.params["Theta1"], net.params["Theta2"]
    assert Theta1.shape == (30, 785)
    assert not [p for p in os.listdir(tmp_path / "w") if p.endswith(".part")]


def test_real_mnist_subset_reaches_known_accuracy(repo_root, tmp_path, mnist_dir):
    """A few thousand real digits, a few dozen iterations: well above chance, as on the full set."""
    from digits.data import mnist as dataset
    X, y = dataset.load_mnist(str(mnist_dir))
    data = write_idx(tmp_path / "data", X[:5000], y[:5000], X[60000:61000], y[60000:61000])
    result = run_main(repo_root, "--data", str(data), "--test-fraction", "1/6", "--maxiter", "40", "--no-report",
                      "--weights-dir", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    test_accuracy = float(result.stdout.split("Test Set Accuracy: ")[1].split()[0])
    assert test_accuracy > 85


def write_kaggle_csv(path, X, y):
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = [",".join(map(str, [label, *pixels])) for label, pixels in zip(y, X)]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_kaggle_csv_with_test_fraction_and_report(repo_root, tmp_path):
    X, y = synthetic_digits(700, 6)
    csv = write_kaggle_csv(tmp_path / "train.csv", X, y)
    result = run_main(repo_root, "--data", str(csv), "--test-fraction", "0.2", "--hidden", "10", "--maxiter", "30",
                      "--weights-dir", str(tmp_path / "w"), "--report-dir", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    assert "Training on 560 images, testing on 140" in result.stdout
    assert float(result.stdout.split("Test Set Accuracy: ")[1].split()[0]) > 90
    assert "Misclassified test images:" in result.stdout and " of 140" in result.stdout
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == \
        ["confusion_matrix.png", "filters.png", "misclassified.png", "training_curve.png"]


def test_kfold_prints_each_fold_and_saves_no_weights(repo_root, tmp_path):
    X, y = synthetic_digits(600, 7)
    data = write_idx(tmp_path / "data", X[:500], y[:500], X[500:], y[500:])
    result = run_main(repo_root, "--data", str(data), "--test-fraction", "1/6", "--kfold", "3", "--hidden", "8",
                      "--maxiter", "25", "--weights-dir", str(tmp_path / "w"), "--report-dir", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    fold_accuracies = [float(line.split(": ")[1].split()[0]) for line in result.stdout.splitlines()
                       if line.startswith("Fold ") and "accuracy" in line]
    assert len(fold_accuracies) == 3 and min(fold_accuracies) > 80
    summary = result.stdout.split("Cross-validated accuracy over 3 folds: ")[1]
    mean, std = float(summary.split()[0]), float(summary.split()[2])
    assert mean == pytest.approx(np.mean(fold_accuracies), abs=0.01)
    assert std == pytest.approx(np.std(fold_accuracies, ddof=1), abs=0.01)
    assert (tmp_path / "r" / "fold_accuracies.png").exists()
    assert not (tmp_path / "w").exists()


def test_kfold_with_too_few_examples_is_one_line(repo_root, tmp_path):
    X, y = synthetic_digits(60, 8)
    data = write_idx(tmp_path / "data", X[:50], y[:50], X[50:], y[50:])
    assert "folds" in one_line_error(run_main(repo_root, "--data", str(data), "--test-fraction", "1/6", "--kfold", "40"))


def test_augment_multiplies_the_training_images(repo_root, tmp_path):
    X, y = synthetic_digits(240, 9)
    data = write_idx(tmp_path / "data", X[:200], y[:200], X[200:], y[200:])
    result = run_main(repo_root, "--data", str(data), "--test-fraction", "1/6", "--augment", "2", "--hidden", "6",
                      "--maxiter", "3", "--no-report", "--weights-dir", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    assert "Training on 600 images, testing on 40" in result.stdout
    assert "Report:" not in result.stdout


def test_scans_join_the_training_images(repo_root, tmp_path):
    X, y = synthetic_digits(240, 11)
    data = write_idx(tmp_path / "data", X[:200], y[:200], X[200:], y[200:])
    result = run_main(repo_root, "--data", str(data), "--test-fraction", "1/6", "--augment", "1", "--scans", "30",
                      "--hidden", "6", "--maxiter", "3", "--no-report", "--weights-dir", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    n_scans = int(result.stdout.split("Scans: ")[1].split()[0])
    assert 25 <= n_scans <= 30                  # a scan whose ink is lost is left out
    assert f"Training on {400 + n_scans} images" in result.stdout


def test_pen_digits_join_the_training_images(repo_root, tmp_path, pendigits_file):
    X, y = synthetic_digits(240, 10)
    data = write_idx(tmp_path / "data", X[:200], y[:200], X[200:], y[200:])
    result = run_main(repo_root, "--data", str(data), "--test-fraction", "1/6", "--pen-digits", str(pendigits_file),
                      "--pen-writers", "1", "--pen-copies", "1", "--hidden", "6", "--maxiter", "3", "--no-report",
                      "--weights-dir", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    n_pen = int(result.stdout.split("Pen digits: ")[1].split()[0])
    assert 200 < n_pen < 300  # one drawing of each of writer 1's ~250 digits
    assert f"Training on {200 + n_pen} images" in result.stdout


def test_pen_digits_bent_by_pen_elastic_join_the_training_images(repo_root, tmp_path, pendigits_file):
    X, y = synthetic_digits(240, 10)
    data = write_idx(tmp_path / "data", X[:200], y[:200], X[200:], y[200:])
    result = run_main(repo_root, "--data", str(data), "--test-fraction", "1/6", "--pen-digits", str(pendigits_file),
                      "--pen-writers", "1", "--pen-copies", "1", "--pen-elastic", "0.05", "--hidden", "6",
                      "--maxiter", "3", "--no-report", "--weights-dir", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    assert "bent by 0.05" in result.stdout
    n_pen = int(result.stdout.split("Pen digits: ")[1].split()[0])
    assert f"Training on {200 + n_pen} images" in result.stdout


def test_missing_pen_digits_file_is_one_line(repo_root, tmp_path):
    assert "--pen-digits" in one_line_error(run_main(repo_root, "--pen-digits", str(tmp_path / "nope.tra")))


# The convolutional network: python main.py --model cnn ----------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--model", "cnn", "--maxiter", "5"], "--maxiter is an option of --model mlp"),
    (["--model", "cnn", "--hidden", "5"], "--hidden is an option of --model mlp"),
    (["--epochs", "3"], "--epochs is an option of --model committee or --model cnn or --model deep"),
    (["--lr", "0.1"], "--lr is an option of --model committee or --model cnn or --model deep"),
    (["--model", "deep", "--maxiter", "5"], "--maxiter is an option of --model mlp, not of --model deep"),
    (["--model", "deep", "--hidden", "25,x"], "--hidden: must be whole numbers separated by commas"),
    (["--model", "deep", "--hidden", "25,0"], "--hidden: each layer needs at least 1 unit"),
    (["--model", "mlp", "--hidden", "25,15"], "--hidden"),
    (["--model", "mlp", "--dtype", "float16"], "--dtype: must be float64 or float32"),
    (["--seed", "-1"], "--seed"),
    (["--model", "cnn", "--epochs", "0"], "--epochs"),
    (["--model", "cnn", "--lr", "-1"], "--lr"),
    (["--dropout", "0.5"], "--dropout is an option of --model committee or --model cnn"),
    (["--model", "cnn", "--dropout", "1"], "--dropout: must be at least 0 and below 1"),
    (["--model", "committee", "--dropout", "half"], "--dropout: must be a number from 0"),
    (["--model", "rnn"], "--model"),
    (["--model", "cnn", "--pen-per-epoch", "4"], "--pen-per-epoch takes turns among the pen digits' drawings: give --pen-digits"),
    (["--pen-digits", "x.tra", "--pen-per-epoch", "4"], "--pen-per-epoch: --model mlp trains on every image at every step"),
    (["--model", "cnn", "--pen-digits", "x.tra", "--pen-copies", "8", "--pen-per-epoch", "9"],
     "--pen-per-epoch 9 is more than the 8 drawings of each pen digit (--pen-copies); use at most 8"),
    (["--model", "cnn", "--pen-digits", "x.tra", "--pen-per-epoch", "0"], "--pen-per-epoch"),
    (["--convs", "32,64"], "--convs is an option of --model committee or --model cnn, not of --model mlp"),
    (["--model", "cnn", "--convs", "32,x"], "--convs: must be whole numbers separated by commas, such as 32,64"),
    (["--model", "committee", "--convs", "8,16,32,64"], "--convs: give 1 to 3 filter counts"),
    (["--model", "cnn", "--convs", "0,8"], "--convs: give 1 to 3 filter counts, each at least 1"),
])
def test_options_of_the_other_network_are_refused(repo_root, args, words):
    result = run_main(repo_root, *args)
    assert result.returncode == 2
    assert words in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_cnn_end_to_end_on_synthetic_digits(repo_root, tmp_path):
    X, y = synthetic_digits(1400, 11)
    data = write_idx(tmp_path / "data", X[:1200], y[:1200], X[1200:], y[1200:])
    result = run_main(repo_root, "--model", "cnn", "--data", str(data), "--epochs", "2", "--batch-size", "32",
                      "--weights-dir", str(tmp_path / "w"), "--report-dir", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "epoch 1/2" in out and "epoch 2/2" in out and "(2 epochs)" in out
    assert result.stderr == ""              # no progress line where stderr is not a terminal
    test_accuracy = float(out.split("Test Set Accuracy: ")[1].split()[0])
    assert test_accuracy > 90
    assert sorted(os.listdir(tmp_path / "w")) == ["cnn.npz"]
    net = load_network(tmp_path / "w")
    assert net.kind == "cnn"
    # The saved network is the one evaluated: it gives the printed accuracy.
    assert np.mean(net.predict_pixels(X[1200:]) == y[1200:]) * 100 == pytest.approx(test_accuracy)
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == \
        ["confusion_matrix.png", "filters.png", "misclassified.png", "training_curve.png"]


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_cnn_stopped_keeps_its_last_finished_epoch(repo_root, tmp_path, sig, code):
    X, y = synthetic_digits(3000, 12)
    data = write_idx(tmp_path / "data", X[:2500], y[:2500], X[2500:], y[2500:])
    returncode, out, err = signal_main_at(repo_root, "epoch 2/500", sig, "--model", "cnn", "--data", str(data),
                                          "--epochs", "500", "--batch-size", "50", "--no-report",
                                          "--weights-dir", str(tmp_path / "w"))
    assert returncode == code, err
    assert "stopped early after" in out and "Test Set Accuracy" in out and "Weights saved" in out
    assert "Traceback" not in err
    assert load_network(tmp_path / "w").kind == "cnn"
    assert os.listdir(tmp_path / "w") == ["cnn.npz"]


def test_cnn_takes_the_pen_drawings_in_turns_with_pen_per_epoch(repo_root, tmp_path, pendigits_file):
    X, y = synthetic_digits(240, 15)
    data = write_idx(tmp_path / "data", X[:200], y[:200], X[200:], y[200:])
    result = run_main(repo_root, "--model", "cnn", "--data", str(data), "--test-fraction", "1/6",
                      "--pen-digits", str(pendigits_file), "--pen-writers", "1", "--pen-copies", "3",
                      "--pen-per-epoch", "1", "--epochs", "1", "--batch-size", "50", "--no-report",
                      "--weights-dir", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    n_pen = int(result.stdout.split("Pen digits: ")[1].split()[0])
    assert 600 < n_pen < 900                 # three drawings of each of writer 1's ~250 digits
    assert f"Training on {200 + n_pen} images" in result.stdout
    assert (f"Each epoch: {200 + n_pen // 3} of the {200 + n_pen} images, all but the {n_pen} pen drawings and "
            f"{n_pen // 3} of those, a fresh choice every epoch (--pen-per-epoch 1 of --pen-copies 3)") in result.stdout
    assert load_network(tmp_path / "w").kind == "cnn"


def test_cnn_kfold(repo_root, tmp_path):
    X, y = synthetic_digits(600, 13)
    data = write_idx(tmp_path / "data", X[:500], y[:500], X[500:], y[500:])
    result = run_main(repo_root, "--model", "cnn", "--data", str(data), "--test-fraction", "1/6", "--kfold", "2",
                      "--epochs", "2", "--batch-size", "25", "--no-report", "--weights-dir", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    folds = [line for line in result.stdout.splitlines() if line.startswith("Fold ") and "accuracy" in line]
    assert len(folds) == 2 and "Cross-validated accuracy over 2 folds" in result.stdout
    assert not (tmp_path / "w").exists()


def test_cnn_stopped_in_its_first_epoch_saves_nothing(repo_root, tmp_path):
    X, y = synthetic_digits(6000, 14)
    data = write_idx(tmp_path / "data", X[:5000], y[:5000], X[5000:], y[5000:])
    returncode, out, err = signal_main_at(repo_root, "Training on", signal.SIGTERM, "--model", "cnn", "--data",
                                          str(data), "--batch-size", "10", "--no-report",
                                          "--weights-dir", str(tmp_path / "w"), delay=1.5)
    assert returncode == 143, err
    # 1.5 s into an epoch of 500 steps (several seconds): inside the first epoch.
    assert "Terminated before the first epoch finished: nothing saved." in out + err, out + err
    assert "Traceback" not in err
    assert not (tmp_path / "w").exists() or os.listdir(tmp_path / "w") == []


# Training has ended: nothing may cost the user the network, or a good one ---------------------------

def test_a_signal_once_training_has_ended_still_saves_the_network(repo_root, tmp_path):
    """SIGINT right after "Trained in" (the network is being saved): the save completes, held back
    signals come after it, and the exit says interrupted."""
    X, y = synthetic_digits(600, 21)
    data = write_idx(tmp_path / "data", X[:500], y[:500], X[500:], y[500:])
    returncode, out, err = signal_main_at(repo_root, "Trained in", signal.SIGINT, "--data", str(data), "--hidden", "8",
                                          "--maxiter", "5", "--no-report", "--weights-dir", str(tmp_path / "w"))
    assert returncode == 130, err
    assert "Traceback" not in err
    assert load_network(tmp_path / "w").params["Theta1"].shape == (8, 785)


def test_sigterm_during_the_evaluation_keeps_the_saved_network(repo_root, tmp_path):
    X, y = synthetic_digits(600, 22)
    data = write_idx(tmp_path / "data", X[:500], y[:500], X[500:], y[500:])
    returncode, out, err = signal_main_at(repo_root, "Weights saved", signal.SIGTERM, "--model", "cnn", "--data",
                                          str(data), "--epochs", "1", "--no-report", "--weights-dir", str(tmp_path / "w"))
    assert returncode == 143, err
    assert "Traceback" not in err
    assert load_network(tmp_path / "w").kind == "cnn"


def good_network_in(folder, repo_root, data, *args):
    result = run_main(repo_root, "--data", str(data), "--no-report", "--weights-dir", str(folder), *args)
    assert result.returncode == 0, result.stderr
    return {name: (folder / name).read_bytes() for name in os.listdir(folder)}


@pytest.mark.parametrize("args, good", [
    (["--model", "cnn", "--lr", "1e39"], ["--model", "cnn", "--epochs", "1"]),
    (["--model", "cnn", "--lr", "1e20"], ["--model", "cnn", "--epochs", "1"]),
    (["--lambda", "1e308"], ["--hidden", "6", "--maxiter", "3"]),
])
def test_a_diverged_run_is_refused_and_never_replaces_a_good_network(repo_root, tmp_path, args, good):
    X, y = synthetic_digits(600, 23)
    data = write_idx(tmp_path / "data", X[:500], y[:500], X[500:], y[500:])
    before = good_network_in(tmp_path / "w", repo_root, data, *good)
    result = run_main(repo_root, "--data", str(data), "--no-report", "--weights-dir", str(tmp_path / "w"), *args)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: training ") and "nothing saved" in lines[0], lines
    assert "Weights saved" not in result.stdout
    assert {name: (tmp_path / "w" / name).read_bytes() for name in os.listdir(tmp_path / "w")} == before


def test_the_seed_is_checked_before_any_data_is_read(repo_root, tmp_path):
    result = run_main(repo_root, "--seed", "-1", "--data", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "--seed: must be a whole number >= 0, got -1" in result.stderr.strip().splitlines()[-1]


# The course's deeper MLP: python main.py --model deep ------------------------------------------------

def test_deep_mlp_end_to_end_with_any_widths(repo_root, tmp_path):
    X, y = synthetic_digits(700, 24)
    data = write_idx(tmp_path / "data", X[:600], y[:600], X[600:], y[600:])
    result = run_main(repo_root, "--model", "deep", "--hidden", "30,20,12", "--epochs", "12", "--data", str(data),
                      "--weights-dir", str(tmp_path / "w"), "--report-dir", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    assert "deep MLP 784-30-20-12-10 (ReLU, softmax), 12 epochs of batches of 32, Adam lr 0.001" in result.stdout
    assert float(result.stdout.split("Test Set Accuracy: ")[1].split()[0]) > 90
    assert "Scores (before the final squashing) of the first test image" in result.stdout
    net = load_network(tmp_path / "w")
    assert net.kind == "deep" and net.hidden == (30, 20, 12)
    assert sorted(os.listdir(tmp_path / "report")) == ["confusion_matrix.png", "filters.png", "misclassified.png",
                                                       "training_curve.png"]


def test_a_fifo_given_as_the_data_is_refused_at_once(repo_root, tmp_path):
    fifo = tmp_path / "mnist-original.mat"
    os.mkfifo(fifo)
    result = run_main(repo_root, "--data", str(fifo), "--no-report", "--weights-dir", str(tmp_path / "w"), timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: {fifo}: is a FIFO (named pipe), not a regular file; "
                                                  "--data takes mnist-original.mat, a folder of MNIST IDX files "
                                                  "or a Kaggle train.csv"]


def test_your_samples_join_the_training_images_and_count_many_times(repo_root, tmp_path):
    from digits.samples import SampleStore
    X, y = synthetic_digits(400, 25)
    data = write_idx(tmp_path / "data", X[:300], y[:300], X[300:], y[300:])
    store = SampleStore(tmp_path / "mine.sqlite")
    for label in (3, 3, 8):
        store.add(label, [[[10, 10], [40, 60]]], 350, 290, X[label].reshape(28, 28))
    result = run_main(repo_root, "--model", "deep", "--epochs", "1", "--data", str(data), "--test-fraction", "1/4", "--samples",
                      str(tmp_path / "mine.sqlite"), "--samples-copies", "7", "--no-report",
                      "--weights-dir", str(tmp_path / "w"))
    assert result.returncode == 0, result.stderr
    assert f"Your samples: 3 from {tmp_path / 'mine.sqlite'} (3: 2, 8: 1), each counted 7 times" in result.stdout
    assert "Training on 321 images" in result.stdout


def test_a_missing_samples_file_is_said_before_any_work(repo_root, tmp_path):
    result = run_main(repo_root, "--samples", str(tmp_path / "none.sqlite"), "--data", str(tmp_path / "no-data"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: no samples file {tmp_path / 'none.sqlite'}; the apps keep "
                                                  "one when you tell them what a digit was (python gui.py --samples FILE)"]


def test_fine_tuning_goes_on_from_a_saved_network_of_the_kind(repo_root, tmp_path):
    X, y = synthetic_digits(400, 26)
    data = write_idx(tmp_path / "data", X[:300], y[:300], X[300:], y[300:])
    first = run_main(repo_root, "--model", "deep", "--epochs", "1", "--hidden", "12", "--data", str(data),
                     "--no-report", "--weights-dir", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    again = run_main(repo_root, "--model", "deep", "--epochs", "3", "--fine-tune", str(tmp_path / "a"), "--data",
                     str(data), "--no-report", "--weights-dir", str(tmp_path / "b"))
    assert again.returncode == 0, again.stderr
    assert f"going on from the network in {tmp_path / 'a'}" in again.stdout
    first_loss = float(first.stdout.split("epoch 1/1: loss ")[1].split(",")[0])
    assert float(again.stdout.split("epoch 1/3: loss ")[1].split(",")[0]) < first_loss
    assert load_network(tmp_path / "b").hidden == (12,)
    wrong = run_main(repo_root, "--model", "cnn", "--fine-tune", str(tmp_path / "a"), "--data", str(data))
    assert wrong.returncode == 1 and wrong.stderr.startswith(f"error: no cnn.npz in {tmp_path / 'a'}")


@pytest.mark.parametrize("args, words", [
    (["--pen-elastic", "0.05"], "give --pen-digits"),
    (["--pen-elastic", "0.5", "--pen-digits", "x.tra"], "at most 0.2"),
    (["--pen-elastic", "-1", "--pen-digits", "x.tra"], "must be a number >= 0"),
])
def test_pen_elastic_is_checked_before_any_work(repo_root, args, words):
    result = run_main(repo_root, *args)
    assert result.returncode == 2
    assert words in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_cnn_of_other_filters_by_convs_and_fine_tuning_keeps_them(repo_root, tmp_path):
    """--convs 4,8 trains and saves that architecture; fine-tuning it without --convs keeps its
    filters, and with other --convs is refused in one line before any training."""
    X, y = synthetic_digits(400, 29)
    data = write_idx(tmp_path / "data", X[:300], y[:300], X[300:], y[300:])
    common = ["--model", "cnn", "--epochs", "1", "--batch-size", "32", "--data", str(data), "--no-report"]
    first = run_main(repo_root, *common, "--convs", "4,8", "--weights-dir", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    assert "CNN conv4-pool-conv8-pool-fc128 (5x5)" in first.stdout
    net = load_network(tmp_path / "a")
    assert net.convs == (4, 8) and net.params["conv2_W"].shape == (5, 5, 4, 8)
    tuned = run_main(repo_root, *common, "--fine-tune", str(tmp_path / "a"), "--weights-dir", str(tmp_path / "b"))
    assert tuned.returncode == 0, tuned.stderr
    assert load_network(tmp_path / "b").convs == (4, 8)
    refused = run_main(repo_root, *common, "--convs", "16,32", "--fine-tune", str(tmp_path / "a"),
                       "--weights-dir", str(tmp_path / "c"))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: --convs 16,32: the network in {tmp_path / 'a'} has convolutions of 4,8 filters and fine-tuning "
        "keeps them; leave --convs out"]
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


def test_fine_tuning_a_committee_trains_its_members_and_says_how_many(repo_root, tmp_path):
    X, y = synthetic_digits(300, 37)
    data = write_idx(tmp_path / "data", X[:200], y[:200], X[200:], y[200:])
    common = ["--model", "committee", "--convs", "2,4", "--epochs", "1", "--batch-size", "32", "--data", str(data),
              "--no-report"]
    assert run_main(repo_root, *common, "--members", "2", "--weights-dir", str(tmp_path / "a")).returncode == 0
    tuned = run_main(repo_root, *common, "--fine-tune", str(tmp_path / "a"), "--weights-dir", str(tmp_path / "b"))
    assert tuned.returncode == 0, tuned.stderr
    assert "committee of 2, each a CNN" in tuned.stdout and "member 2 of 2" in tuned.stdout
    assert len(load_network(tmp_path / "b").members) == 2
    refused = run_main(repo_root, *common, "--members", "3", "--fine-tune", str(tmp_path / "a"),
                       "--weights-dir", str(tmp_path / "c"))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: --members 3: the committee in {tmp_path / 'a'} has 2 members and fine-tuning trains each of them; "
        "leave --members out"]


def test_a_fine_tuned_network_keeps_the_stroke_reader_of_the_one_it_came_from(repo_root, tmp_path):
    """A personal network (--fine-tune) from a folder with a stroke reader reads drawings by their
    path too: the reader is written beside it, joined with its kind only, and said so. Trained
    afresh in the same place, the carried reader is removed; a reader someone else wrote (naming
    no kind) is never overwritten, only named."""
    from digits.nets import trajectory
    X, y = synthetic_digits(400, 31)
    data = write_idx(tmp_path / "data", X[:300], y[:300], X[300:], y[300:])
    common = ["--model", "deep", "--hidden", "12", "--data", str(data), "--no-report", "--epochs", "1"]
    assert run_main(repo_root, *common, "--weights-dir", str(tmp_path / "a")).returncode == 0
    trajectory.TrajectoryReader(weight=0.25, outputs=11).save(tmp_path / "a")      # names no kind
    tuned = run_main(repo_root, *common, "--fine-tune", str(tmp_path / "a"), "--weights-dir", str(tmp_path / "b"))
    assert tuned.returncode == 0, tuned.stderr
    path = tmp_path / "b" / trajectory.FILE
    assert f"Stroke reader carried over from {tmp_path / 'a'} to {path}" in tuned.stdout
    reader = load_network(tmp_path / "b").stroke_reader
    assert (reader.network, reader.weight, reader.outputs) == ("deep", 0.25, 11)
    assert trajectory.joined_with(tmp_path / "b") == "deep"
    # an MLP saved in the same folder is not joined with the deep network's reader
    assert run_main(repo_root, "--data", str(data), "--maxiter", "2", "--no-report",
                    "--weights-dir", str(tmp_path / "b")).returncode == 0
    assert load_network(tmp_path / "b", "mlp").stroke_reader is None
    assert load_network(tmp_path / "b", "deep").stroke_reader is not None

    afresh = run_main(repo_root, *common, "--weights-dir", str(tmp_path / "b"))
    assert afresh.returncode == 0, afresh.stderr
    assert f"Removed {path}" in afresh.stdout and not path.exists()

    # with the user's samples, the carried reader is fine-tuned on their strokes
    from digits.samples import SampleStore
    store = SampleStore(tmp_path / "samples.sqlite")
    for label, stroke in ((7, [[40, 40], [120, 40], [70, 170]]), (1, [[70, 40], [70, 170]])):
        store.add(label, [stroke], 350, 290, np.zeros(784))
    personal = run_main(repo_root, *common, "--fine-tune", str(tmp_path / "a"), "--samples",
                        str(tmp_path / "samples.sqlite"), "--weights-dir", str(tmp_path / "p"))
    assert personal.returncode == 0, personal.stderr
    assert "fine-tuned on the strokes of your 2 samples" in personal.stdout
    theirs = trajectory.TrajectoryReader.load(tmp_path / "a", "")
    assert not np.array_equal(load_network(tmp_path / "p").stroke_reader.params["out_W"], theirs.params["out_W"])

    trajectory.TrajectoryReader(weight=0.5).save(tmp_path / "b")                   # someone else's
    before = path.read_bytes()
    again = run_main(repo_root, *common, "--fine-tune", str(tmp_path / "a"), "--weights-dir", str(tmp_path / "b"))
    assert again.returncode == 0, again.stderr
    assert "(it names no network) now reads with this one too" in again.stdout and "was not carried over" in again.stdout
    assert path.read_bytes() == before


def test_a_fine_tuned_network_keeps_the_calibration_of_the_one_it_came_from(repo_root, tmp_path):
    """A personal network (--fine-tune) says "not sure" where the network it came from did:
    that calibration is written beside it for its kind, and said so. Trained afresh in the same
    place, the carried calibration (fitted for another network) is removed, and said so; a
    calibration.json someone else wrote is never overwritten, only named."""
    from digits.nets import calibration
    X, y = synthetic_digits(400, 27)
    data = write_idx(tmp_path / "data", X[:300], y[:300], X[300:], y[300:])
    common = ["--model", "deep", "--hidden", "12", "--data", str(data), "--no-report"]
    assert run_main(repo_root, *common, "--epochs", "1", "--weights-dir", str(tmp_path / "a")).returncode == 0
    calibration.save_calibration(tmp_path / "a", 1.5, 0.8)
    tuned = run_main(repo_root, *common, "--epochs", "1", "--fine-tune", str(tmp_path / "a"),
                     "--weights-dir", str(tmp_path / "b"))
    assert tuned.returncode == 0, tuned.stderr
    assert f"Calibration carried over from {tmp_path / 'a'}" in tuned.stdout and "below 0.800" in tuned.stdout
    mine = load_network(tmp_path / "b")
    assert (mine.temperature, mine.sure_above) == (1.5, 0.8)
    assert calibration.fitted_for(tmp_path / "b") == "deep"

    afresh = run_main(repo_root, *common, "--epochs", "1", "--weights-dir", str(tmp_path / "b"))
    assert afresh.returncode == 0, afresh.stderr
    assert f"Removed {tmp_path / 'b' / 'calibration.json'}" in afresh.stdout
    assert load_network(tmp_path / "b").sure_above == 0.0

    calibration.save_calibration(tmp_path / "b", None, 0.3, note="mine")
    before = (tmp_path / "b" / "calibration.json").read_bytes()
    again = run_main(repo_root, *common, "--epochs", "1", "--fine-tune", str(tmp_path / "a"),
                     "--weights-dir", str(tmp_path / "b"))
    assert again.returncode == 0, again.stderr
    assert "now applies to this one too" in again.stdout and "was not carried over" in again.stdout
    assert (tmp_path / "b" / "calibration.json").read_bytes() == before
