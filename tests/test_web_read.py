"""The API's number reading, POST /api/read (strokes) and POST /api/read-image (a photo),
through Flask's test client: the same answers as digits.recognise, and every bad request a 4xx."""
import io

import numpy as np
import pytest
from PIL import Image

from digits import recognise
from digits.imaging import compose, paper
from digits.web.app import MAX_JSON_BYTES
from test_web_api import app, client, network  # noqa: F401 (the fixtures: one app, its default network)

ONE_SEVEN = [[[90, 80], [100, 60], [100, 240]], [[160, 60], [260, 60], [200, 240]]]


def read(client, strokes, width=1000, height=290, **more):
    return client.post("/api/read", json={"strokes": strokes, "width": width, "height": height, **more})


def test_a_number_is_read_with_a_box_for_each_digit(client, network):
    response = read(client, ONE_SEVEN)
    assert response.status_code == 200
    body = response.get_json()
    assert body["number"] == "17" and body["left_out"] == []
    assert list(body) == ["number", "digits", "left_out", "message", "model", "network"]
    direct = recognise.read_number_strokes(ONE_SEVEN, 1000, 290, network)
    for digit, expected in zip(body["digits"], direct.digits):
        assert digit["digit"] == expected.digit and digit["box"] == list(expected.box)
        assert digit["probabilities"] == [float(p) for p in expected.probabilities]
        assert abs(sum(digit["probabilities"]) - 1) < 1e-9 and digit["confidence"] == max(digit["probabilities"])
        assert np.array(digit["image"]).shape == (28, 28)
    assert body["digits"][0]["box"][2] <= body["digits"][1]["box"][0] + 10
    assert body["message"].startswith("It reads 17")


def test_an_empty_drawing_reads_an_empty_number(client):
    body = read(client, []).get_json()
    assert body["number"] == "" and body["digits"] == [] and "empty" in body["message"]
    body = read(client, [[[300, 100]]]).get_json()
    assert body["number"] == "" and "too small" in body["message"]


def test_a_dash_is_reported_as_left_out(client):
    strokes = [ONE_SEVEN[0], [[150, 150], [185, 150]], [[p[0] + 100, p[1]] for p in ONE_SEVEN[1]]]
    body = read(client, strokes).get_json()
    assert body["number"] == "17" and len(body["left_out"]) == 1


def test_canvases_up_to_1024_pixels_a_side(client):
    assert read(client, ONE_SEVEN, 1024, 1024).status_code == 200
    response = read(client, ONE_SEVEN, 1025, 290)
    assert response.status_code == 400 and "from 28 to 1024" in response.get_json()["error"]


@pytest.mark.parametrize("body, kind, status, said", [
    (b"{", "application/json", 400, "not valid JSON"),
    (b'{"strokes": [[[1, 2]]], "height": 290}', "application/json", 400, '"width" is missing'),
    (b'{"strokes": [[[1, "a"]]], "width": 300, "height": 290}', "application/json", 400, "must be [x, y]"),
    (b'{"strokes": [], "width": 300, "height": 290, "model": "nope"}', "application/json", 400, "unknown model"),
    (b'{"strokes": []}', "text/plain", 415, "Content-Type: application/json"),
])
def test_bad_requests_get_a_4xx_and_one_sentence(client, body, kind, status, said):
    response = client.post("/api/read", data=body, content_type=kind)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert said.lower() in error.lower() and error.endswith(".") and "\n" not in error


def test_a_body_over_the_drawing_limit_is_413_naming_its_limit(client):
    response = client.post("/api/read", data=b"[" * (MAX_JSON_BYTES + 1), content_type="application/json")
    assert response.status_code == 413 and "at most 1 MB" in response.get_json()["error"]


def photo_of(strokes, seed=0):
    return paper.photograph(strokes, 1000, 290, np.random.default_rng(seed))


def test_a_photo_of_a_number_is_read(client, network):
    jpeg = photo_of(ONE_SEVEN)
    response = client.post("/api/read-image", data=jpeg, content_type="image/jpeg")
    assert response.status_code == 200
    body = response.get_json()
    assert body["number"] == "17"
    width, height = Image.open(io.BytesIO(jpeg)).size
    for digit in body["digits"]:           # boxes in the photo's own pixels
        x0, y0, x1, y1 = digit["box"]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    assert body == client.post("/api/read-image", data=jpeg, content_type="image/jpeg").get_json()


def test_a_blank_photo_reads_an_empty_number(client):
    blank = io.BytesIO()
    Image.new("RGB", (640, 480), (235, 230, 220)).save(blank, "PNG")
    body = client.post("/api/read-image", data=blank.getvalue(), content_type="image/png").get_json()
    assert body["number"] == "" and body["message"].startswith("Nothing to read")


@pytest.mark.parametrize("body, kind, status, said", [
    (b"", "image/png", 400, "the body is empty"),
    (b"not an image", "image/png", 400, "not an image file"),
    (b"--x\r\n", "multipart/form-data; boundary=x", 415, "not as a form"),
])
def test_bad_images_get_a_4xx_and_one_sentence(client, body, kind, status, said):
    response = client.post("/api/read-image", data=body, content_type=kind)
    assert response.status_code == status and said.lower() in response.get_json()["error"].lower()


def test_numbers_by_real_writers_through_the_api(client, pendigits_file):
    from digits.data import pendigits
    digits = pendigits.load(pendigits_file)
    numbers = compose.writer_numbers(digits, list(range(1, 31)), 30, np.random.default_rng(7))
    exact = 0
    for strokes, truth, _ in numbers:
        body = read(client, [s.tolist() for s in strokes]).get_json()
        exact += body["number"] == truth
    assert exact >= 0.9 * len(numbers)


def test_the_largest_drawing_allowed_is_read_quickly(client):
    import time
    from digits.web.app import MAX_POINTS
    t = np.linspace(0, 40 * np.pi, MAX_POINTS // 2)
    scribble = lambda x0: [[round(x0 + 60 * np.sin(a)), round(150 + 80 * np.cos(1.1 * a))] for a in t]  # noqa: E731
    start = time.perf_counter()
    response = read(client, [scribble(200), scribble(240)])       # two long strokes over each other
    assert response.status_code == 200 and time.perf_counter() - start < 10
