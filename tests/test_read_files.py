"""How a single digit's image file is read (digits.recognise.read_file): a small scan both ways
its strokes can be prepared, a photo also as a number's one digit, with the shipped network."""
import io

import numpy as np
import pytest

from benchmarks.pen_drawings import scanned_file
from digits import nets, recognise
from digits.imaging import image_files, paper
from digits.imaging.prepare import prepare_image, prepare_views
from digits.imaging.strokes import fit_to_canvas

from test_prediction_numbers import scanned_digit


@pytest.fixture(scope="module")
def network():
    return nets.load_pretrained()


def whole_picture_reading(source, network):
    """The reading before: the whole picture, its paper's level from its border, strokes evened."""
    picture = image_files.light_on_dark(image_files.read_grey(source))
    return recognise.recognise(prepare_image(picture), network, picture, recognise.FILE_NOT_A_DIGIT_ABOVE)


def test_several_views_of_a_picture_are_read_and_their_shares_averaged(network, mnist_dir):
    from digits.data.idx import read_idx
    pixels = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)[0]
    picture = image_files.light_on_dark(image_files.read_grey(scanned_digit(pixels, np.random.default_rng(0), 16)))
    views = prepare_views(picture)
    assert views.shape == (2, 784)
    assert np.array_equal(views[0], prepare_image(picture))        # strokes evened, as drawn digits are
    assert not np.allclose(views[0], views[1])                      # and as they are
    reading = recognise.recognise(views, network, picture)
    each = [network.predict_proba(v[None])[0] for v in views]
    np.testing.assert_allclose(reading.probabilities, np.mean(each, axis=0), rtol=1e-4, atol=1e-7)
    assert reading.not_a_digit == pytest.approx(np.mean([network.not_a_digit(v[None])[0] for v in views]), rel=1e-4, abs=1e-7)
    np.testing.assert_array_equal(reading.image, views[0].reshape(28, 28))


def test_small_thick_scans_read_better_both_ways(network, mnist_dir):
    # Envelopes were scanned at 16 px: evening strokes that thick fills the loops of 0, 6, 8, 9.
    from digits.data.idx import read_idx
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)[1000:1300]
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")[1000:1300]
    rng = np.random.default_rng(16)
    both = evened = 0
    for pixels, label in zip(images, labels):
        scan = scanned_file(pixels, rng, (16, 16))
        assert recognise.digit_sized(io.BytesIO(scan))
        both += recognise.read_file(io.BytesIO(scan), network).digit == label
        evened += whole_picture_reading(io.BytesIO(scan), network).digit == label
    assert both >= evened + 0.015 * len(labels), (both, evened)
    assert both >= 0.94 * len(labels), both


def test_photos_of_one_digit_under_uneven_light(network, pendigits_file):
    # A phone photo's light falls unevenly: taken from its border, the paper's level calls the
    # shadows ink. Read as a number's one digit (the paper's light found where it lies), the
    # photo reads as the digit drawn.
    from digits.data import pendigits
    digits = pendigits.load(pendigits_file)
    rng = np.random.default_rng(5)
    chosen = [digits[i] for i in rng.choice(len(digits), 60, replace=False)]
    right = whole = 0
    for d in chosen:
        strokes = fit_to_canvas(d.strokes, 350, 290, rng, size_range=(0.45, 0.8))
        photo = paper.photograph(strokes, 350, 290, rng, size=(800, 600))
        right += recognise.read_file(io.BytesIO(photo), network).digit == d.label
        whole += whole_picture_reading(io.BytesIO(photo), network).digit == d.label
    assert right >= whole + 0.08 * len(chosen) and right >= 0.9 * len(chosen), (right, whole)
