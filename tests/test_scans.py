"""Scanned-looking digits (digits.imaging.scans): the pages they are made on, and the training
images made of them (main.py --scans)."""
import io

import numpy as np
import pytest
from PIL import Image

from digits.constants import SIDE
from digits.data import training_set
from digits.imaging import image_files, scans


def bar(vertical):
    """uint8 (784,): a thick bar, upright or lying, 16 px long, MNIST-style (light on dark)."""
    a = np.zeros((SIDE, SIDE), dtype=np.uint8)
    if vertical:
        a[6:22, 12:16] = 255
    else:
        a[12:16, 6:22] = 255
    return a.ravel()


def test_a_scanned_page_is_dark_ink_on_light_paper_its_longer_side_in_range():
    rng = np.random.default_rng(0)
    for side in (14, 16, 23):
        page = scans.scanned_page(bar(True), rng, {**scans.SCAN, "side": (side, side)})
        assert page.dtype == np.uint8
        assert page.shape[0] == side + 2                  # the digit's longer side, and a margin of paper
        assert page.shape[1] < page.shape[0]
        assert page[0].mean() > page[page.shape[0] // 2].mean() + 40     # the paper is lighter than the ink
        grey = image_files.light_on_dark(Image.fromarray(page))
        ink = np.asarray(grey)
        assert ink[page.shape[0] // 2, page.shape[1] // 2] > 128 > ink[0, 0]      # read back light on dark


def test_a_blank_image_scans_to_a_blank_page():
    page = scans.scanned_page(np.zeros(784, dtype=np.uint8), np.random.default_rng(1))
    assert page.std() < 15 and page.mean() > 140      # paper and its noise only


def test_jpeg_bytes_read_back_as_the_page():
    page = scans.scanned_page(bar(False), np.random.default_rng(2))
    back = np.asarray(image_files.read_grey(io.BytesIO(scans.jpeg_bytes(page, 90)), "scan"), dtype=float)
    assert back.shape == page.shape
    assert np.abs(back - page).mean() < 8


def test_training_scans_keep_each_image_with_its_label():
    images = np.stack([bar(True), bar(False)])
    X, y = scans.scan_training_images(images, np.array([1, 7]), 60, np.random.default_rng(3))
    assert X.dtype == np.uint8 and X.shape == (60, 784) and y.shape == (60,)
    assert set(y) == {1, 7}
    for x, label in zip(X, y):
        rows, cols = np.nonzero(x.reshape(SIDE, SIDE) > 64)
        tall = np.ptp(rows) > np.ptp(cols)
        assert tall == (label == 1), "an upright bar must stay labelled 1, a lying one 7"
    # prepared as an image file is: the digit's box fills 20 px of the 28 and is centred
    assert np.all(X.reshape(-1, SIDE, SIDE)[:, :2].max(axis=(1, 2)) < 40)


def test_both_ways_of_preparing_a_scan_are_trained_on():
    X, _ = scans.scan_training_images(np.stack([bar(True)] * 3), np.ones(3, int), 40, np.random.default_rng(4))
    widths = {int(np.ptp(np.nonzero(x.reshape(SIDE, SIDE).max(axis=0) > 64)[0])) for x in X}
    assert len(widths) > 1


def test_training_images_add_the_scans_after_the_copies():
    images = np.stack([bar(True), bar(False)] * 5)
    labels = np.array([1, 7] * 5)
    said = []
    X, y = training_set.training_images(images, labels, seed=0, scans=8, say=said.append)
    assert X.shape == (18, 784) and np.array_equal(X[:10], images) and np.array_equal(y[:10], labels)
    assert any(line.startswith("Scans: 8 ") for line in said)
    X0, y0 = training_set.training_images(images, labels, seed=0, scans=0, say=said.append)
    assert X0 is images and y0 is labels
    pen = (np.zeros((3, 784), np.uint8), np.array([2, 2, 2]))
    X, y = training_set.training_images(images, labels, seed=0, pen=pen, scans=4, say=said.append)
    assert X.shape == (17, 784) and np.array_equal(y[-3:], [2, 2, 2])


@pytest.mark.parametrize("value", ["-1", "many"])
def test_main_refuses_a_bad_scans_count(repo_root, value):
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "main.py", "--scans", value], cwd=repo_root, capture_output=True, text=True)
    assert done.returncode == 2
    assert "--scans" in done.stderr and "Traceback" not in done.stderr
