"""`python prediction.py IMAGE ...` and `--csv`, run as the user runs them (subprocess).

The weights are trained here, in seconds: on digits rendered with a font (always), and on
a few thousand real MNIST digits (when ../shared/mnist or $MNIST_DIR has them).
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from digits.data import idx
from digits.imaging import prepare as preprocess

FONT_SIZES = (40, 56, 72, 96)

# One BLAS thread: on a busy 2-core machine OpenBLAS's threads spin against each other and
# a small training run takes 100 times longer (measured: 28 s instead of 0.2 s).
ONE_THREAD = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

TRAIN = """
import sys
import numpy as np, scipy.optimize
from digits.nets.fast_mlp import CostFunction
from model import roll
from digits.nets import MLP
data = np.load(sys.argv[1])
hidden, maxiter = int(sys.argv[3]), int(sys.argv[4])
cost = CostFunction(data["X"], data["y"], 784, hidden, 10, lamb=0.5)
p0 = np.random.default_rng(0).uniform(-0.12, 0.12, hidden * 785 + 10 * (hidden + 1))
result = scipy.optimize.minimize(cost, p0, jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
MLP(*roll(result.x, 784, hidden, 10)).save(sys.argv[2])
"""


def run_cli(repo_root, *args):
    return subprocess.run([sys.executable, "prediction.py", *map(str, args)], cwd=repo_root,
                          capture_output=True, text=True, timeout=120, env=ONE_THREAD)


def train_network(repo_root, X, y, hidden, maxiter, folder):
    """Train a small network with the project's own cost function and L-BFGS-B; save it in `folder`.

    In a child process, so that it can use a single BLAS thread.
    """
    data = folder.parent / (folder.name + "_data.npz")
    np.savez(data, X=X, y=y)
    subprocess.run([sys.executable, "-c", TRAIN, str(data), str(folder), str(hidden), str(maxiter)],
                   cwd=repo_root, check=True, timeout=300, env=ONE_THREAD)
    return folder


def font(size):
    from matplotlib import font_manager     # matplotlib ships DejaVu Sans: the same font everywhere
    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)


def render(digit, size=72, canvas=(120, 120), offset=(0, 0), stroke=2, ink=255, paper=0, mode="L"):
    """A digit drawn in the font, `ink` on `paper`, roughly in the middle of the canvas."""
    image = Image.new(mode, canvas, paper)
    centre = (canvas[0] / 2 + offset[0], canvas[1] / 2 + offset[1])
    ImageDraw.Draw(image).text(centre, str(digit), fill=ink, font=font(size), anchor="mm",
                               stroke_width=stroke, stroke_fill=ink)
    return image


@pytest.fixture(scope="module")
def font_weights(repo_root, tmp_path_factory):
    """Weights that read font-rendered digits (light on dark, as the canvas): answers known."""
    X, y = [], []
    for digit in range(10):
        for size in FONT_SIZES:
            for stroke in (1, 3):
                for offset in ((0, 0), (-9, 6)):
                    X.append(preprocess.prepare_image(render(digit, size, offset=offset, stroke=stroke)))
                    y.append(digit)
    folder = tmp_path_factory.mktemp("font_weights") / "weights"
    return train_network(repo_root, np.array(X), np.array(y), hidden=20, maxiter=150, folder=folder)


def save_variants(folder, digit):
    """The same digit saved the ways users have them: every one should read as `digit`."""
    paths = []
    # A screenshot of the canvas: light on dark, odd size, off centre.
    p = folder / f"canvas_{digit}.png"
    render(digit, 63, canvas=(97, 131), offset=(7, -11)).save(p)
    paths.append(p)
    # A scan: dark ink on white paper, RGB, saved as lossy JPEG, wide.
    p = folder / f"scan_{digit}.jpg"
    render(digit, 80, canvas=(203, 141), offset=(-30, 4), ink=(20, 30, 90), paper=(250, 248, 240), mode="RGB").save(p, quality=80)
    paths.append(p)
    # A photo: grey paper with grain, darker grey ink, BMP.
    a = np.asarray(render(digit, 50, canvas=(77, 88), ink=60, paper=170), dtype=np.float64)
    grain = np.random.default_rng(digit).normal(0, 6, a.shape)
    p = folder / f"photo_{digit}.bmp"
    Image.fromarray(np.clip(a + grain, 0, 255).astype(np.uint8)).save(p)
    paths.append(p)
    # Black strokes on a transparent background (PNG with alpha).
    strokes = render(digit, 40, canvas=(64, 51), ink=255, paper=0)
    rgba = Image.new("RGBA", strokes.size, (0, 0, 0, 0))
    rgba.putalpha(strokes)
    p = folder / f"alpha_{digit}.png"
    rgba.save(p)
    paths.append(p)
    # A 16-bit grey PNG, dark on light, with a faint ink (Pillow would clip it to white).
    a = np.asarray(render(digit, 58, canvas=(90, 70), ink=0, paper=255), dtype=np.float64)
    p = folder / f"deep_{digit}.png"
    Image.fromarray(np.round(20000 + a * 100).astype(np.uint16)).save(p)
    paths.append(p)
    # A palette GIF, light on dark.
    p = folder / f"palette_{digit}.gif"
    render(digit, 90, canvas=(150, 160)).convert("P").save(p)
    paths.append(p)
    return paths


LINE = re.compile(r"^(?P<path>.+): (?P<digit>\d) \((?P<sure>\d+)% sure\)$")
UNSURE = re.compile(r"^(?P<path>.+): (?P<digit>\d) \(not sure: (?P<confidence>\d+)%\)$")


def parse_stdout(stdout):
    found = {}
    for line in stdout.splitlines():
        match = LINE.match(line)
        assert match, f"unexpected output line: {line!r}"
        found[match["path"]] = (int(match["digit"]), int(match["sure"]))
    return found


def test_digits_in_files_of_any_polarity_size_and_format(repo_root, font_weights, tmp_path):
    expected = {}
    for digit in range(10):
        for path in save_variants(tmp_path, digit):
            expected[str(path)] = digit
    result = run_cli(repo_root, *expected, "--weights-dir", font_weights)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    found = parse_stdout(result.stdout)
    assert list(found) == list(expected)               # one line per file, in order
    wrong = {path: found[path][0] for path in expected if found[path][0] != expected[path]}
    assert not wrong, f"misread: {wrong}"
    assert all(0 <= sure <= 100 for _, sure in found.values())


def test_readings_below_the_calibrated_threshold_say_not_sure(repo_root, font_weights, tmp_path):
    import shutil

    from digits.nets import calibration
    cautious = tmp_path / "cautious"
    shutil.copytree(font_weights, cautious)
    calibration.save_calibration(cautious, temperature=1.0, sure_above=1.0, note="test: nothing is sure")
    paths = save_variants(tmp_path, 4)
    result = run_cli(repo_root, *map(str, paths), "--weights-dir", str(cautious))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(paths)
    for line, path in zip(lines, paths):
        match = UNSURE.match(line)
        assert match and match["path"] == str(path) and match["digit"] == "4", line


def test_bad_files_get_their_own_error_and_the_others_are_still_read(repo_root, font_weights, tmp_path):
    good_first = tmp_path / "three.png"
    render(3, 70).save(good_first)
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a PNG")
    text = tmp_path / "notes.jpg"
    text.write_text("just some text\n")
    blank = tmp_path / "blank.png"
    Image.new("RGB", (80, 60), (255, 255, 255)).save(blank)
    missing = tmp_path / "missing.png"
    folder = tmp_path / "a_folder"
    folder.mkdir()
    good_last = tmp_path / "seven.jpg"
    render(7, 70, ink=0, paper=255).save(good_last)

    result = run_cli(repo_root, good_first, garbage, text, blank, missing, folder, good_last,
                     "--weights-dir", font_weights)
    assert result.returncode == 1
    found = parse_stdout(result.stdout)
    assert {path: digit for path, (digit, _) in found.items()} == {str(good_first): 3, str(good_last): 7}
    errors = result.stderr.splitlines()
    assert len(errors) == 5, result.stderr
    assert "Traceback" not in result.stderr
    for line, path in zip(errors, (garbage, text, blank, missing, folder)):
        assert line.startswith(f"error: {path}: "), line
    assert "empty" in errors[2]
    assert "no such file" in errors[3]


@pytest.mark.parametrize("problem", ["missing", "broken"])
def test_missing_or_broken_weights_is_one_line(repo_root, tmp_path, problem):
    image = tmp_path / "five.png"
    render(5).save(image)
    weights_dir = tmp_path / "weights"
    if problem == "broken":
        weights_dir.mkdir()
        (weights_dir / "Theta1.txt").write_text("not numbers\n")
        (weights_dir / "Theta2.txt").write_text("1 2 3\n")
    result = run_cli(repo_root, image, "--weights-dir", weights_dir)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
    assert "Theta1.txt" in result.stderr and "python main.py" in result.stderr


def write_test_csv(path, X):
    header = ",".join(f"pixel{i}" for i in range(784))
    path.write_text(header + "\n" + "\n".join(",".join(map(str, row)) for row in X) + "\n")


def test_csv_to_submission(repo_root, font_weights, tmp_path):
    digits = np.array([4, 0, 9, 2, 7, 1, 8, 3, 6, 5, 5, 2])
    X = np.array([np.round(255 * preprocess.prepare_image(render(d, 66, offset=(3, -2)))) for d in digits]).astype(int)
    test_csv, submission = tmp_path / "test.csv", tmp_path / "submission.csv"
    write_test_csv(test_csv, X)
    result = run_cli(repo_root, "--csv", test_csv, "--out", submission, "--weights-dir", font_weights)
    assert result.returncode == 0, result.stderr
    assert f"Wrote {digits.size} predictions to {submission}" in result.stdout
    lines = submission.read_text().splitlines()
    assert lines[0] == "ImageId,Label"
    assert lines[1:] == [f"{i},{d}" for i, d in enumerate(digits, start=1)]


def test_malformed_csv_is_one_line_and_writes_nothing(repo_root, font_weights, tmp_path):
    X = np.zeros((3, 784), dtype=int)
    X[1, 10] = 999
    test_csv, submission = tmp_path / "test.csv", tmp_path / "submission.csv"
    write_test_csv(test_csv, X)
    result = run_cli(repo_root, "--csv", test_csv, "--out", submission, "--weights-dir", font_weights)
    assert result.returncode == 1
    assert result.stderr == f"error: {test_csv} line 3: pixel10 is 999, expected a grey level 0..255\n"
    assert not submission.exists()


def test_submission_into_missing_folder_is_one_line(repo_root, font_weights, tmp_path):
    test_csv = tmp_path / "test.csv"
    write_test_csv(test_csv, np.zeros((2, 784), dtype=int))
    result = run_cli(repo_root, "--csv", test_csv, "--out", tmp_path / "nope" / "s.csv", "--weights-dir", font_weights)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and "cannot write the submission" in result.stderr


@pytest.mark.parametrize("args,words", [
    ((), "give at least one image file"),
    (("--csv", "test.csv"), "--csv needs --out"),
    (("--out", "s.csv"), "--out needs --csv"),
    (("a.png", "--csv", "test.csv", "--out", "s.csv"), "not both"),
])
def test_usage_errors(repo_root, args, words):
    result = run_cli(repo_root, *args)
    assert result.returncode == 2
    assert words in result.stderr and "usage:" in result.stderr


def test_help(repo_root):
    result = run_cli(repo_root, "--help")
    assert result.returncode == 0
    for option in ("IMAGE", "--csv", "--out", "--weights-dir"):
        assert option in result.stdout


# Real handwriting -------------------------------------------------------------------------

def test_real_mnist_digits_saved_as_files_in_both_polarities(repo_root, mnist_dir, tmp_path):
    X = idx.read_idx(mnist_dir / "train-images-idx3-ubyte.gz").reshape(-1, 784)[:3000]
    y = idx.read_idx(mnist_dir / "train-labels-idx1-ubyte.gz")[:3000].astype(np.int64)
    train_network(repo_root, X / 255.0, y, hidden=25, maxiter=60, folder=tmp_path / "w")
    test_images = idx.read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")[:30]
    test_labels = idx.read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")[:30]

    light, dark = [], []
    for n, digit in enumerate(test_images):
        # As on the canvas: light on dark, enlarged.
        path = tmp_path / f"light_{n}.png"
        Image.fromarray(digit).resize((84, 84), Image.BILINEAR).save(path)
        light.append(path)
        # As on paper: dark on light, odd size, colour, JPEG.
        paper = Image.new("L", (131, 97), 255)
        paper.paste(Image.fromarray(255 - digit).resize((70, 70), Image.BICUBIC), (40, 12))
        path = tmp_path / f"dark_{n}.jpg"
        paper.convert("RGB").save(path, quality=85)
        dark.append(path)

    result = run_cli(repo_root, *light, *dark, "--weights-dir", tmp_path / "w")
    assert result.returncode == 0, result.stderr
    found = parse_stdout(result.stdout)
    light_digits = np.array([found[str(p)][0] for p in light])
    dark_digits = np.array([found[str(p)][0] for p in dark])
    # A small network (about 88% on MNIST): far above the 10% of a misread polarity.
    assert np.mean(light_digits == test_labels) >= 0.7
    assert np.mean(dark_digits == test_labels) >= 0.7
    assert np.mean(light_digits == dark_digits) >= 0.8
