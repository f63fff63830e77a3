"""Faults a user can cause or suffer: none may cost them their network or their files.

Each test here stands for a defect found by trying the commands as a new user would (issue
"First run and faults"): it failed before the fix and passes now.
"""
import errno
import gzip
import os
import shutil
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.io
from PIL import Image

from digits import nets
from digits.constants import PRETRAINED_DIR, WEIGHTS_DIR
from digits.data import download, mnist
from digits.data.idx import idx_bytes
from digits.errors import DataError, ImageFileError, OutputError, WeightsError
from digits.nets import MLP, theta_files

from test_main_cli import one_line_error, run_main, synthetic_digits, write_idx


def small_mlp(seed, hidden=3):
    return MLP.random(hidden, np.random.default_rng(seed))


def same(net, other):
    return all(np.array_equal(net.params[k], other.params[k]) for k in net.params)


# 1. Training never overwrites a pretrained network ------------------------------------------------

def test_training_writes_where_git_ignores_and_pretrained_stays_tracked(repo_root):
    if shutil.which("git") is None or not (repo_root / ".git").exists():
        pytest.skip("not a git checkout")
    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=repo_root).returncode == 0
    assert ignored("weights/Theta1.txt") and ignored("weights/Theta2.txt") and ignored("weights/cnn.npz")
    assert not ignored("weights/pretrained/mlp/Theta1.txt")
    assert os.path.abspath(WEIGHTS_DIR) == str(repo_root / "weights")
    assert not os.path.abspath(WEIGHTS_DIR).startswith(os.path.abspath(PRETRAINED_DIR))


def test_main_in_a_clean_clone_leaves_git_status_empty(repo_root, tmp_path):
    if shutil.which("git") is None or not (repo_root / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo_root), str(clone)], check=True)
    pretrained = (clone / "weights/pretrained/mlp/Theta1.txt").read_bytes()
    X, y = synthetic_digits(300, 4)
    data = write_idx(tmp_path / "data", X[:250], y[:250], X[250:], y[250:])
    result = subprocess.run([sys.executable, "main.py", "--data", str(data), "--hidden", "4", "--maxiter", "3"],
                            cwd=clone, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (clone / "weights/Theta1.txt").exists() and (clone / "weights/Theta2.txt").exists()
    assert (clone / "weights/pretrained/mlp/Theta1.txt").read_bytes() == pretrained
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True)
    assert status.stdout == ""


# 2. A saved network is all or nothing -------------------------------------------------------------

KILLER = """
import os, signal, sys
import numpy as np
from digits.nets import MLP
point, calls = int(sys.argv[2]), [0]
def die_at_point(real):
    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == point:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapped
# Every step of a save: each file's writes, each fsync, each rename.
os.replace = die_at_point(os.replace)
os.fsync = die_at_point(os.fsync)
np.savetxt = die_at_point(np.savetxt)
MLP.random(3, np.random.default_rng(2)).save(sys.argv[1])
print("finished")
"""


def test_a_save_killed_at_any_point_leaves_the_old_or_the_new_network(repo_root, tmp_path):
    old, new = small_mlp(1), small_mlp(2)
    outcomes = set()
    for point in range(1, 12):
        folder = tmp_path / f"kill{point}"
        old.save(folder)
        result = subprocess.run([sys.executable, "-c", KILLER, str(folder), str(point)], cwd=repo_root,
                                capture_output=True, text=True, timeout=60)
        loaded = MLP.load(folder)
        assert same(loaded, old) or same(loaded, new), f"killed at point {point}: a mixed network"
        outcomes.add(("new" if same(loaded, new) else "old", result.returncode == -signal.SIGKILL))
        if result.stdout.strip() == "finished":
            assert same(loaded, new)
            break
    # Killed saves that left the old network, killed saves that left the new one, and one that finished.
    assert ("old", True) in outcomes and ("new", True) in outcomes and ("new", False) in outcomes


def test_a_mismatched_pair_without_its_part_file_is_refused(tmp_path):
    small_mlp(1).save(tmp_path / "a")
    small_mlp(2).save(tmp_path / "b")
    shutil.copy(tmp_path / "b" / "Theta2.txt", tmp_path / "a" / "Theta2.txt")
    with pytest.raises(WeightsError, match="different saves"):
        MLP.load(tmp_path / "a")


def test_disk_full_while_saving_keeps_the_old_network_and_says_where(tmp_path, monkeypatch):
    old = small_mlp(1)
    old.save(tmp_path)
    real_savetxt, calls = np.savetxt, [0]

    def savetxt_on_a_full_disk(f, *args, **kwargs):
        calls[0] += 1
        if calls[0] == 2:           # Theta1 fitted, Theta2 does not
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_savetxt(f, *args, **kwargs)
    monkeypatch.setattr(np, "savetxt", savetxt_on_a_full_disk)
    with pytest.raises(OutputError, match="No space left on device") as caught:
        small_mlp(2).save(tmp_path)
    assert str(tmp_path) in str(caught.value)
    monkeypatch.undo()
    assert same(MLP.load(tmp_path), old)
    assert sorted(os.listdir(tmp_path)) == ["Theta1.txt", "Theta2.txt"]       # no temporary file left


def test_a_really_full_disk(tmp_path):
    """The same on a real tmpfs that fills up, where this machine lets the test mount one."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root and mount rights); the injected "
                    "ENOSPC test covers the same path")
    try:
        old = small_mlp(1, hidden=2)               # ~40 KB of text: fits once, not twice
        old.save(mount)
        with pytest.raises(OutputError, match="No space left"):
            small_mlp(2, hidden=2).save(mount)
        assert same(MLP.load(mount), old)
        assert sorted(os.listdir(mount)) == ["Theta1.txt", "Theta2.txt"]
    finally:
        subprocess.run(["umount", str(mount)])


def test_after_training_a_failed_save_leaves_the_network_somewhere_safe(tmp_path, monkeypatch):
    import main
    net = small_mlp(3)
    target = tmp_path / "target"
    real_save = theta_files.save_thetas

    def failing_for_target(folder, *args):
        if os.path.abspath(folder) == str(target):
            raise OutputError(f"cannot save the network in {folder}: No space left on device")
        return real_save(folder, *args)
    monkeypatch.setattr(theta_files, "save_thetas", failing_for_target)
    with pytest.raises(OutputError, match="saved in .* instead") as caught:
        main.save_network(net, target)
    rescue = str(caught.value).split("saved in ")[1].split(" instead")[0]
    assert same(MLP.load(rescue), net)
    shutil.rmtree(rescue)


# 3. and 4. Outputs checked before the work ---------------------------------------------------------

def test_csv_out_naming_the_input_is_refused_and_the_input_kept(repo_root, tmp_path):
    csv = tmp_path / "test.csv"
    csv.write_text(",".join(f"pixel{i}" for i in range(784)) + "\n" + ",".join(["0"] * 784) + "\n")
    before = csv.read_bytes()
    result = subprocess.run([sys.executable, "prediction.py", "--csv", str(csv), "--out", str(csv)],
                            cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert "destroy the input" in one_line_error(result)
    assert csv.read_bytes() == before


@pytest.mark.parametrize("option", ["--weights-dir", "--report-dir"])
def test_output_folder_that_is_a_file_fails_before_training(repo_root, tmp_path, option):
    X, y = synthetic_digits(300, 0)
    data = write_idx(tmp_path / "data", X[:250], y[:250], X[250:], y[250:])
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    result = run_main(repo_root, "--data", str(data), "--maxiter", "100000", option, str(blocker),
                      *(["--weights-dir", str(tmp_path / "w")] if option == "--report-dir" else []))
    line = one_line_error(result)
    assert option in line and str(blocker) in line and "is a file" in line
    assert "iteration" not in result.stdout             # refused before any training
    assert blocker.read_text() == "keep me"


def read_only_folder(tmp_path):
    """A folder nobody may write into: a read-only tmpfs for root (who ignores permissions), else
    a folder without write permission. Returns (folder, undo)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() != 0:
        locked.chmod(0o555)
        return locked, lambda: locked.chmod(0o755)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(locked)],
                      capture_output=True).returncode != 0:
        pytest.skip("running as root without mount rights: no folder here is read-only to root")
    return locked, lambda: subprocess.run(["umount", str(locked)])


def test_read_only_weights_folder_fails_before_training(repo_root, tmp_path):
    X, y = synthetic_digits(300, 0)
    data = write_idx(tmp_path / "data", X[:250], y[:250], X[250:], y[250:])
    locked, undo = read_only_folder(tmp_path)
    try:
        result = run_main(repo_root, "--data", str(data), "--maxiter", "100000", "--weights-dir", str(locked))
        line = one_line_error(result)
        assert ("permission denied" in line or "read-only" in line) and str(locked) in line and ".part" not in line
        assert "iteration" not in result.stdout
    finally:
        undo()


# 5. Input arrays are checked for what they mean ---------------------------------------------------

def mat_with(tmp_path, data):
    path = tmp_path / "odd.mat"
    labels = np.arange(data.shape[1]) % 10
    scipy.io.savemat(path, {"data": data, "label": labels.reshape(1, -1).astype(float)})
    return path


@pytest.mark.parametrize("make, words", [
    (lambda rng: np.where(rng.random((784, 70)) < 0.1, np.nan, 100.0), "NaN"),
    (lambda rng: rng.random((784, 70)), "multiply the images by 255"),
    (lambda rng: rng.random((784, 70)) * 200, "not whole numbers"),
    (lambda rng: np.full((784, 70), 300.0), "0..255"),
])
def test_pixels_that_are_not_grey_levels_are_refused(repo_root, tmp_path, make, words):
    path = mat_with(tmp_path, make(np.random.default_rng(0)))
    result = run_main(repo_root, "--data", str(path), "--weights-dir", str(tmp_path / "w"), "--no-report")
    assert words in one_line_error(result)
    assert not (tmp_path / "w").exists()


# 6. Local MNIST files are verified like downloads --------------------------------------------------

def test_a_damaged_local_file_says_which_and_what_to_do(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in download.FILES:
        (data_dir / (name + ".gz")).write_bytes(gzip.compress(idx_bytes(np.zeros((2, 28, 28), np.uint8))))
    good = gzip.compress(b"whatever")[:10]          # truncated
    (data_dir / "train-labels-idx1-ubyte.gz").write_bytes(good)
    monkeypatch.setenv("MNIST_MIRRORS", "http://127.0.0.1:9/")      # never reached
    with pytest.raises(DataError) as caught:
        mnist.make_mat(str(data_dir))
    message = str(caught.value)
    first = str(data_dir / download.FILES[0]) + ".gz"
    assert message.startswith(first) and "delete it and run again" in message and f"rm {first}" in message


def test_a_mirror_that_never_answers_costs_seconds_and_is_named(tmp_path):
    import socket
    import time
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(0)                 # accepts connections, never answers a request
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
    start = time.monotonic()
    try:
        with pytest.raises(download.DownloadError, match="no answer within"):
            download.download_file("t10k-labels-idx1-ubyte", str(tmp_path), "0" * 64, urls=[url],
                                   progress_factory=lambda name: (lambda received, total: None))
    finally:
        silent.close()
    assert time.monotonic() - start < 3 * download.TIMEOUT_SECONDS


# 7. Signals --------------------------------------------------------------------------------------

@pytest.mark.parametrize("delay", [0.3, 0.6, 1.0, 1.5])
def test_ctrl_c_at_start_up_prints_no_traceback(repo_root, tmp_path, delay):
    # From 0.3 s on: the interpreter's own start (before any line of main.py runs, about
    # 20 ms) is Python's business; from then on, loading the libraries, reading the data and
    # training, Ctrl-C must stop the command without a traceback.
    import time
    X, y = synthetic_digits(300, 0)
    data = write_idx(tmp_path / "data", X[:250], y[:250], X[250:], y[250:])
    process = subprocess.Popen([sys.executable, "main.py", "--data", str(data), "--maxiter", "100000",
                                "--weights-dir", str(tmp_path / "w"), "--no-report"],
                               cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    leftovers = [p for p in os.listdir(tmp_path / "w") if p.endswith(".part")] if (tmp_path / "w").exists() else []
    assert leftovers == []


# 8. Advice that fits ------------------------------------------------------------------------------

def test_a_broken_pretrained_network_names_the_restore_command(tmp_path, monkeypatch):
    fake = tmp_path / "pretrained"
    shutil.copytree(PRETRAINED_DIR, fake)
    (fake / "mlp" / "Theta2.txt").write_text("")
    monkeypatch.setattr(nets, "PRETRAINED_DIR", str(fake))
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no library warning for a handled case
        with pytest.raises(WeightsError) as caught:
            nets.load_network(fake / "mlp", "mlp")
    assert "is empty" in str(caught.value) and "git checkout -- " in str(caught.value)


def test_default_weights_advice_offers_training_and_the_pretrained_networks(tmp_path):
    with pytest.raises(WeightsError) as caught:
        nets.load_network(WEIGHTS_DIR + "-that-does-not-exist")
    assert "python main.py" in str(caught.value)


def test_empty_weights_file_gives_one_line_and_no_warning(repo_root, tmp_path):
    (tmp_path / "Theta1.txt").write_text("")
    (tmp_path / "Theta2.txt").write_text("")
    image = tmp_path / "x.png"
    Image.new("L", (40, 40), 255).save(image)
    result = subprocess.run([sys.executable, "prediction.py", str(image), "--weights-dir", str(tmp_path)],
                            cwd=repo_root, capture_output=True, text=True, timeout=120)
    line = one_line_error(result)
    assert "is empty" in line and "Warning" not in result.stderr


def test_a_huge_image_is_refused_in_one_plain_sentence(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (10000, 10000), 255).save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageFileError, match="too large .* shrink it first"):
            from digits.imaging.image_files import read_grey
            read_grey(path)


def test_pen_digits_option_is_named_in_its_error(repo_root, tmp_path):
    result = run_main(repo_root, "--pen-digits", str(tmp_path), "--weights-dir", str(tmp_path / "w"))
    line = one_line_error(result)
    assert "--pen-digits" in line and "PENDIGITS_DIR" not in line


def test_ctrl_c_inside_a_c_extensions_start_is_still_ctrl_c():
    """A KeyboardInterrupt that cuts a C extension's initialisation short surfaces as an
    ImportError raised from it: the commands count that as Ctrl-C too (exit 130, no traceback)."""
    from digits.cli import interrupted_import
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as stop:
            raise ImportError("initialization failed") from stop
    except ImportError as disguised:
        assert interrupted_import(disguised)
    assert not interrupted_import(ImportError("No module named 'flask'"))
