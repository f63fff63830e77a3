"""Property-based tests (Hypothesis): random and malformed input to the JSON API, the image
reader and the weight and calibration loaders. Whatever comes in, the answer is a result or
the project's own one-line error: never a traceback, never a 5xx, never NaN, never a hang
(each example has a deadline). About 20 s in all."""
import io
import json
import os
import re
import shutil
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from digits import nets
from digits.errors import EmptyImageError, ImageFileError, WeightsError
from digits.imaging.image_files import read_grey
from digits.imaging.strokes import render
from digits.nets import calibration
from digits.nets.calibration import FILE as CALIBRATION
from tests.test_web_api import SEVEN, app, client, polyline  # noqa: F401 (the same fixtures)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRETRAINED = os.path.join(REPO, "weights", "pretrained")
FUZZ = settings(max_examples=60, deadline=3000, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def no_nan(text):
    """The JSON `text` parsed, failing the test if it holds NaN or Infinity."""
    def refuse(constant):
        raise AssertionError(f"{constant} in an answer: {text[:200]}")
    return json.loads(text, parse_constant=refuse)


def check_answer(response):
    """A 200 with a reading, or a 4xx with one sentence; never a 5xx or a traceback."""
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = no_nan(response.get_data(as_text=True))
    if response.status_code >= 400:
        assert re.fullmatch(r"[A-Z][^\n]*\.", body["error"]) and "Traceback" not in body["error"], body
    else:
        assert body["digit"] is None or 0 <= body["digit"] <= 9


# The JSON API -------------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=6), max_leaves=40)
coordinates = st.integers(-2000, 2000) | st.floats(allow_nan=True, allow_infinity=True) | scalars
points = st.lists(coordinates, min_size=0, max_size=3)
drawings = st.fixed_dictionaries(
    {"strokes": st.lists(st.lists(points, max_size=20), max_size=5) | json_values},
    optional={"width": st.integers(-10, 2000) | json_values, "height": st.integers(-10, 2000) | json_values,
              "model": st.sampled_from(["cnn", "mlp", "nope", ""]) | json_values})


@FUZZ
@given(body=drawings | json_values)
def test_the_drawing_api_answers_any_json_with_a_reading_or_a_4xx(client, body):
    text = json.dumps(body)         # NaN and Infinity as JavaScript writes them: not JSON, still sent
    check_answer(client.post("/api/predict", data=text, content_type="application/json"))


@FUZZ
@given(body=st.binary(max_size=300), content_type=st.sampled_from(
    ["application/json", "text/plain", "image/png", "application/octet-stream", "", "multipart/form-data"]))
def test_any_bytes_to_either_endpoint_get_a_reading_or_a_4xx(client, body, content_type):
    check_answer(client.post("/api/predict", data=body, content_type=content_type))
    check_answer(client.post("/api/predict-image", data=body, content_type=content_type))


# The image reader --------------------------------------------------------------------------------

def image_bytes(fmt):
    image = render([polyline(SEVEN, 100, 40, 200)]).resize((60, 50))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


IMAGES = {fmt: image_bytes(fmt) for fmt in ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")}


@st.composite
def damaged_images(draw):
    """A real small image file with some bytes changed and possibly cut short."""
    data = bytearray(IMAGES[draw(st.sampled_from(sorted(IMAGES)))])
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, min(len(data), 200) - 1))] = draw(st.integers(0, 255))
    return bytes(data[:draw(st.integers(1, len(data)))])


@FUZZ
@given(data=damaged_images() | st.binary(max_size=400))
def test_the_image_reader_reads_or_says_why_not(data):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")      # nothing printed besides the one line
            grey = read_grey(io.BytesIO(data), "fuzzed")
    except (ImageFileError, EmptyImageError) as e:
        assert "\n" not in str(e) and str(e).startswith("fuzzed: ")
    else:
        assert grey.mode == "L" and max(grey.size) <= 1024


@FUZZ
@given(data=damaged_images())
def test_the_image_api_reads_damaged_images_or_says_why_not(client, data):
    check_answer(client.post("/api/predict-image", data=data, content_type="image/png"))


# The weight and calibration loaders --------------------------------------------------------------

with open(os.path.join(PRETRAINED, "cnn", "cnn.npz"), "rb") as _f:
    CNN_BYTES = _f.read()


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A folder to write fuzzed cnn.npz files into, and a copy of the shipped MLP for calibrations."""
    mlp = tmp_path_factory.mktemp("mlp")
    for name in ("Theta1.txt", "Theta2.txt"):
        shutil.copy(os.path.join(PRETRAINED, "mlp", name), mlp / name)
    return tmp_path_factory.mktemp("cnn"), mlp


def loads_or_says_why(folder, kind):
    try:
        network = nets.load_network(folder, kind)
    except WeightsError as e:
        assert "\n" not in str(e) and "Traceback" not in str(e)
    else:
        assert np.isfinite(network.predict_proba(np.zeros((1, 784)))).all()


@st.composite
def damaged_npz(draw):
    """The shipped cnn.npz with some bytes changed (anywhere: directory, headers, data) and
    possibly cut short, or an npz of random members."""
    if draw(st.booleans()):
        data = bytearray(CNN_BYTES)
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data[:draw(st.integers(1, len(data)))])
    names = st.sampled_from(["kind", "format", "convs", "hidden", "kernel", "temperature", "conv1_W", "out_b", "x"])
    arrays = st.one_of(st.just(np.array("cnn")), st.integers(-5, 40).map(np.array),
                       st.lists(st.integers(-3, 40), max_size=3).map(np.array),
                       st.floats(allow_nan=True, allow_infinity=True).map(np.array),
                       st.lists(st.floats(width=32), max_size=10).map(lambda v: np.array(v, np.float32)))
    out = io.BytesIO()
    np.savez(out, **draw(st.dictionaries(names, arrays, max_size=9)))
    return out.getvalue()


@FUZZ
@given(data=damaged_npz())
def test_the_cnn_loader_loads_or_says_why_not(folders, data):
    folder = folders[0]
    (folder / "cnn.npz").write_bytes(data)
    loads_or_says_why(folder, "cnn")


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={"temperature": json_values, "sure_above": json_values,
                                               "network": json_values | st.sampled_from(["mlp", "cnn", "x" * 50])})
       | json_values)
def test_the_calibration_loader_applies_or_says_why_not(folders, data):
    folder = folders[1]
    (folder / CALIBRATION).write_text(json.dumps(data))
    loads_or_says_why(folder, "mlp")
    assert isinstance(calibration.fitted_for(folder), str)        # whose it is, or "?": never an exception


def test_zip_members_are_checked_in_the_fuzzed_npz_too(folders):
    # The random npz above are real zips: make sure they reach the loader's checks (not only
    # the "not an npz" door), by loading one that is right but for one extra member.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, zipfile.ZipFile(io.BytesIO(CNN_BYTES)) as shipped:
        for info in shipped.infolist():
            z.writestr(info.filename, shipped.read(info))
        z.writestr("x.npy", b"")
    (folders[0] / "cnn.npz").write_bytes(out.getvalue())
    with pytest.raises(WeightsError, match="'x.npy' that no network has"):
        nets.load_network(folders[0], "cnn")


def test_a_shipped_image_of_each_format_is_read():
    for fmt, data in IMAGES.items():
        assert isinstance(read_grey(io.BytesIO(data), fmt), Image.Image)
