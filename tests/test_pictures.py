"""The report's pictures are real PNG files of sensible size; the text table is right."""
import os
import subprocess
import sys

import numpy as np

from digits.nets.training import TrainingResult
import pytest
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from digits.reporting import metrics
from digits.reporting import pictures as report


def fake_test_set(m=300, wrong=23, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(m, 784), dtype=np.uint8)
    y_true = rng.integers(0, 10, size=m)
    y_pred = y_true.copy()
    flip = rng.choice(m, size=wrong, replace=False)
    y_pred[flip] = (y_true[flip] + rng.integers(1, 10, size=wrong)) % 10
    return images, y_true, y_pred


def open_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    image = Image.open(path)
    image.load()                      # fails on a truncated file
    assert image.format == "PNG"
    return image


def test_write_report_writes_four_valid_pngs(tmp_path):
    images, y_true, y_pred = fake_test_set()
    costs = list(3.0 * np.exp(-np.arange(40) / 10) + 0.3)
    folder = tmp_path / "new" / "report"            # created as needed
    training = TrainingResult("iteration", {"loss": costs})
    paths = report.write_report(folder, training, y_true, y_pred, images, fold_accuracies=[0.97, 0.975, 0.968])
    names = sorted(os.path.basename(p) for p in paths)
    assert names == ["confusion_matrix.png", "fold_accuracies.png", "misclassified.png", "training_curve.png"]
    assert sorted(os.listdir(folder)) == names       # no temporary files left
    for path in paths:
        width, height = open_png(path).size
        assert 300 <= width <= 2000 and 300 <= height <= 2000, (path, width, height)


def test_write_report_without_folds_or_costs(tmp_path):
    images, y_true, y_pred = fake_test_set()
    paths = report.write_report(tmp_path, None, y_true, y_pred, images)
    assert sorted(os.path.basename(p) for p in paths) == ["confusion_matrix.png", "misclassified.png"]


def test_plots_are_not_blank(tmp_path):
    images, y_true, y_pred = fake_test_set()
    counts = metrics.confusion_matrix(y_true, y_pred, 10)
    for path in (report.plot_confusion_matrix(counts, tmp_path / "c.png"),
                 report.plot_training_curve([2.0, 1.0, 0.5, 0.4], tmp_path / "t.png"),
                 report.plot_fold_accuracies([0.9, 0.92, 0.91, 0.95, 0.93], tmp_path / "f.png")):
        grey = np.asarray(open_png(path).convert("L"))
        # Plenty of white background and a good deal of drawing on it.
        assert np.mean(grey > 240) > 0.3 and np.mean(grey < 128) > 0.01, path


def test_gallery_has_one_tile_per_mistake_up_to_the_limit(tmp_path):
    images, y_true, y_pred = fake_test_set(wrong=23)
    few = open_png(report.plot_misclassified(images, y_true, y_pred, tmp_path / "a.png", max_images=100))
    capped = open_png(report.plot_misclassified(images, y_true, y_pred, tmp_path / "b.png", max_images=5))
    # 23 mistakes: 3 rows of 10 tiles; capped at 5: 1 row.
    assert few.height > capped.height
    rows_of = lambda image: round((image.height - 56 - 10) / (28 * 3 + 20 + 10))   # noqa: E731
    assert rows_of(few) == 3 and rows_of(capped) == 1


def test_gallery_shows_the_misclassified_digit_itself(tmp_path):
    # One mistake: a full black square digit (shown as dark ink on white) among blank images.
    images = np.zeros((4, 784), dtype=np.float64)
    images[2] = 1.0
    y_true = np.array([1, 2, 3, 4])
    y_pred = np.array([1, 2, 5, 4])
    path = report.plot_misclassified(images, y_true, y_pred, tmp_path / "m.png")
    grey = np.asarray(open_png(path).convert("L"))
    dark_block = grey[56:56 + 84, 10:10 + 84]        # the first tile
    assert dark_block.mean() < 10


def test_gallery_without_mistakes_is_still_written(tmp_path):
    images, y_true, _ = fake_test_set()
    image = open_png(report.plot_misclassified(images, y_true, y_true, tmp_path / "none.png"))
    assert image.width >= 300


def test_format_confusion_matrix():
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 9])
    y_pred = np.array([0, 0, 1, 1, 1, 2, 2, 2, 0, 9])
    text = report.format_confusion_matrix(metrics.confusion_matrix(y_true, y_pred, 10))
    lines = text.splitlines()
    assert lines[0].split()[:11] == ["true\\pred"] + [str(d) for d in range(10)]
    row0 = lines[2].split()
    assert row0[:4] == ["0", "2", "1", "."] and row0[-1] == "66.7"     # recall of 0: 2 of 3
    row2 = lines[4].split()
    assert row2[:4] == ["2", "1", ".", "3"] and row2[-1] == "75.0"
    precision = lines[-1].split()
    assert precision[:4] == ["precision", "%", "66.7", "66.7"]          # 0: 2 of 3 predicted zeros
    # The columns line up: every row as wide as the header; precision stops before recall.
    assert {len(line) for line in lines[:-1]} == {len(lines[0])}
    assert len(lines[-1]) == len(lines[0]) - len("  recall %")


def test_bad_arguments_are_value_errors(tmp_path):
    with pytest.raises(ValueError):
        report.plot_training_curve([], tmp_path / "t.png")
    with pytest.raises(ValueError):
        report.plot_confusion_matrix(np.zeros((3, 4)), tmp_path / "c.png")
    with pytest.raises(ValueError):
        report.plot_misclassified(np.zeros((3, 10)), [1, 2, 3], [1, 2, 3], tmp_path / "m.png")
    assert not os.listdir(tmp_path)


def test_matplotlib_is_imported_only_when_a_plot_is_made():
    code = ("import sys, main, prediction\n"
            "from digits.reporting import pictures as report\n"
            "assert 'matplotlib' not in sys.modules, 'imported too early'\n"
            "import tempfile, os\n"
            "report.plot_fold_accuracies([0.5, 0.6], os.path.join(tempfile.mkdtemp(), 'f.png'))\n"
            "assert 'matplotlib' in sys.modules\n"
            "import matplotlib\n"
            "assert matplotlib.get_backend().lower() == 'agg', matplotlib.get_backend()\n")
    # Even where the user's default backend is an interactive one, the report uses Agg.
    env = dict(os.environ, MPLBACKEND="TkAgg")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
