"""The web page's JSON API, through Flask's test client; the same drawing read by the desktop
app (a real Tk window on Xvfb) and by the API; and `python web.py` itself, as a user runs it."""
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
from PIL import Image

from digits import nets, recognise
from digits.data import pendigits
from digits.errors import PendigitsError
from digits.imaging.strokes import CANVAS_HEIGHT, CANVAS_WIDTH, fit_to_canvas, render
from digits.web import app as web_app
from digits.web.app import MAX_IMAGE_BYTES, MAX_JSON_BYTES, MAX_POINTS, MAX_STROKES, create_app
from helpers import SEVEN, polyline

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BEST = nets.choices()[0]        # what the apps read with unless told otherwise


def as_json(strokes):
    return [np.asarray(s).tolist() for s in strokes]


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def network(app):
    networks = app.extensions["digits.networks"]
    return networks.loaded[networks.default][1]


@pytest.fixture(scope="module")
def pen_digits():
    try:
        return pendigits.load()
    except PendigitsError as e:
        pytest.skip(f"pendigits data not available: {e}")


def post_drawing(client, strokes, width=CANVAS_WIDTH, height=CANVAS_HEIGHT, **extra):
    return client.post("/api/predict", json={"strokes": as_json(strokes), "width": width, "height": height, **extra})


def png_bytes(image):
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# Answers -----------------------------------------------------------------------------------------

def test_a_drawn_seven_is_read_with_everything_the_app_shows(client, network):
    strokes = [polyline(SEVEN, 100, 40, 200)]
    response = post_drawing(client, strokes)
    assert response.status_code == 200 and response.mimetype == "application/json"
    answer = response.get_json()
    assert list(answer) == ["digit", "not_a_digit", "probabilities", "confidence", "sure", "message", "model",
                            "network", "image"]
    assert 0 <= answer["not_a_digit"] < 0.5
    assert answer["digit"] == 7 and answer["sure"] is True
    probs = np.array(answer["probabilities"])
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-9 and answer["confidence"] == probs.max()
    assert answer["model"] == BEST.id and answer["network"] == network.describe()
    image = np.array(answer["image"])
    assert image.shape == (28, 28) and 0 <= image.min() and image.max() <= 1 and image.max() > 0.9
    # Exactly what the recognition path reads from the same strokes (JSON keeps every digit).
    reading = recognise.read_strokes(strokes, CANVAS_WIDTH, CANVAS_HEIGHT, network)
    assert answer["message"] == reading.message
    assert np.array_equal(probs, reading.probabilities)
    assert np.allclose(image, reading.image, atol=1e-4)


def test_empty_drawing_and_a_dot_are_no_digit_as_in_the_app(client):
    for strokes, expected in (([], "empty"), ([[(50, 50)]], "too small")):
        response = post_drawing(client, strokes)
        assert response.status_code == 200
        answer = response.get_json()
        assert answer["digit"] is None and answer["probabilities"] is None and answer["image"] is None
        assert answer["confidence"] is None and answer["sure"] is False and expected in answer["message"]


def test_real_pen_digits_are_read(client, pen_digits, network):
    # Writers 16-30: the shipped weights learnt from writers 1-15. 150 digits, all ten kinds.
    chosen = [d for d in pen_digits if d.writer > 15][::24]
    rng = np.random.default_rng(2)
    right = 0
    for i, d in enumerate(chosen):
        strokes = fit_to_canvas(d.strokes, CANVAS_WIDTH, CANVAS_HEIGHT, rng)
        answer = post_drawing(client, strokes).get_json()
        right += answer["digit"] == d.label
        if i % 30 == 0:     # and the same answer as the recognition path, called directly
            reading = recognise.read_strokes(strokes, CANVAS_WIDTH, CANVAS_HEIGHT, network)
            assert answer["digit"] == reading.digit and np.allclose(answer["probabilities"], reading.probabilities)
    assert right / len(chosen) >= 0.95, f"only {right} of {len(chosen)} pen digits read right"


def test_models_lists_the_networks_it_reads_with(client, network):
    response = client.get("/api/models")
    assert response.status_code == 200
    data = response.get_json()
    assert [m["id"] for m in data["models"]] == [c.id for c in nets.choices()]
    assert [m["id"] for m in data["models"] if m["default"]] == [data["default"]] == [BEST.id]
    best = data["models"][0]
    assert best["kind"] == BEST.kind and best["label"] == BEST.label and best["network"] == network.describe()
    assert data["limits"]["max_points"] == MAX_POINTS and data["limits"]["brush"] == 16


def test_a_request_can_choose_the_network(tmp_path, network):
    # The pretrained networks and "yours" (here: the best one's weights, saved again).
    network.save(tmp_path)
    choices = nets.choices(trained_dir=str(tmp_path))
    yours = f"trained-{network.kind}"
    assert [c.id for c in choices][0] == BEST.id and choices[-1].id == yours
    client = create_app(choices, default=yours).test_client()
    models = client.get("/api/models").get_json()
    assert models["default"] == yours and len(models["models"]) == len(choices)
    strokes = [polyline(SEVEN, 100, 40, 200)]
    assert post_drawing(client, strokes).get_json()["model"] == yours
    assert post_drawing(client, strokes, model=BEST.id).get_json()["model"] == BEST.id


def test_an_image_file_is_read_as_prediction_py_reads_it(client, network, tmp_path):
    drawing = render([polyline(SEVEN, 100, 40, 200)])
    scan = Image.eval(drawing, lambda v: 255 - v).convert("RGB")    # dark ink on white paper
    for image in (drawing, scan):
        path = tmp_path / "digit.png"
        image.save(path)
        response = client.post("/api/predict-image", data=path.read_bytes(), content_type="image/png")
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        reading = recognise.read_file(str(path), network)
        assert answer["digit"] == reading.digit == 7 and np.array_equal(answer["probabilities"], reading.probabilities)
    answer = client.post(f"/api/predict-image?model={BEST.id}", data=png_bytes(drawing),
                         content_type="application/octet-stream").get_json()
    assert answer["model"] == BEST.id


# Bad requests -------------------------------------------------------------------------------------

def drawing_body(**changes):
    body = {"strokes": [[[10, 10], [100, 100]]], "width": CANVAS_WIDTH, "height": CANVAS_HEIGHT}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def json_text(text):
    return {"data": text, "content_type": "application/json"}


BAD_DRAWINGS = {
    "not JSON": json_text("{strokes: oops"),
    "not UTF-8": json_text(b"\xff\xfe{}"),
    "nested too deeply": json_text("[" * 100_000 + "]" * 100_000),
    "not an object": {"json": [[[1, 2]]]},
    "not sent as JSON": {"data": json.dumps(drawing_body()), "content_type": "text/plain"},
    "a form": {"data": {"strokes": "1"}},
    "no strokes": {"json": drawing_body(strokes=...)},
    "strokes not a list": {"json": drawing_body(strokes="a 7")},
    "an empty stroke": {"json": drawing_body(strokes=[[]])},
    "a stroke not a list": {"json": drawing_body(strokes=[5])},
    "a point of three": {"json": drawing_body(strokes=[[[1, 2, 3]]])},
    "a point of one": {"json": drawing_body(strokes=[[[1]]])},
    "a point as an object": {"json": drawing_body(strokes=[[{"x": 1, "y": 2}]])},
    "a coordinate as text": {"json": drawing_body(strokes=[[[1, "2"]]])},
    "a coordinate true": {"json": drawing_body(strokes=[[[True, 2]]])},
    "a coordinate null": {"json": drawing_body(strokes=[[[None, 2]]])},
    "NaN": json_text('{"strokes": [[[NaN, 2]]], "width": 350, "height": 290}'),
    "Infinity": json_text('{"strokes": [[[1, -Infinity]]], "width": 350, "height": 290}'),
    "1e400": json_text('{"strokes": [[[1e400, 2]]], "width": 350, "height": 290}'),
    "a huge integer": json_text('{"strokes": [[[1' + "0" * 400 + ', 2]]], "width": 350, "height": 290}'),
    "far off the canvas": {"json": drawing_body(strokes=[[[10, 10], [5000, 10]]])},
    "far above the canvas": {"json": drawing_body(strokes=[[[10, -291]]])},
    "no width": {"json": drawing_body(width=...)},
    "width zero": {"json": drawing_body(width=0)},
    "width huge": {"json": drawing_body(width=10 ** 6)},
    "width as text": {"json": drawing_body(width="350")},
    "width fractional": {"json": drawing_body(width=350.5)},
    "width true": {"json": drawing_body(width=True)},
    "height negative": {"json": drawing_body(height=-290)},
    "too many strokes": {"json": drawing_body(strokes=[[[10, 10]]] * (MAX_STROKES + 1))},
    "too many points": {"json": drawing_body(strokes=[[[10, 10]] * (MAX_POINTS // 2 + 1)] * 2)},
    "body too large": json_text(b" " * (MAX_JSON_BYTES + 1)),
    "unknown model": {"json": drawing_body(model="../../etc/passwd")},
    "model a number": {"json": drawing_body(model=3)},
}


def check_error(response, statuses=range(400, 500)):
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    # One sentence: a capital, one line, a full stop at the end and none inside; no traceback.
    assert re.fullmatch(r"[A-Z][^\n]*\.", error) and ". " not in error and len(error) < 300, error
    assert "Traceback" not in error and 'File "' not in error
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    return error


@pytest.mark.parametrize("name", BAD_DRAWINGS)
def test_bad_drawings_get_a_4xx_and_one_sentence(client, name):
    error = check_error(client.post("/api/predict", **BAD_DRAWINGS[name]))
    if name == "body too large":
        assert "too large" in error
    if name == "unknown model":
        assert "/api/models" in error


def test_limits_are_inclusive(client):
    # Exactly at the limits is fine: MAX_STROKES strokes, MAX_POINTS points, the far edges.
    many = [[[10 + i, 10]] for i in range(MAX_STROKES)]
    assert client.post("/api/predict", json=drawing_body(strokes=many)).status_code == 200
    long = [[[10 + i % 300, 10 + i % 200] for i in range(MAX_POINTS)]]
    assert client.post("/api/predict", json=drawing_body(strokes=long)).status_code == 200
    edges = [[[-CANVAS_WIDTH, -CANVAS_HEIGHT], [2 * CANVAS_WIDTH, 2 * CANVAS_HEIGHT], [10.5, 20.25]]]
    assert client.post("/api/predict", json=drawing_body(strokes=edges)).status_code == 200


def test_bad_images_get_a_4xx_and_one_sentence(client):
    blank = png_bytes(Image.new("L", (100, 80), 255))
    drawn = png_bytes(render([polyline(SEVEN, 100, 40, 200)]))
    cases = {
        "empty body": (b"", "image/png", "empty"),
        "not an image": (b"hello, world", "image/png", "not an image file"),
        "truncated PNG": (drawn[:len(drawn) // 2], "image/png", "cannot read"),
        "blank page": (blank, "image/png", "empty"),
        "a form upload": (b"--x\r\nContent-Disposition: form-data; name=f\r\n\r\n1\r\n--x--\r\n",
                          "multipart/form-data; boundary=x", "not as a form"),
        "too large": (b"\0" * (MAX_IMAGE_BYTES + 1), "image/png", "too large"),
    }
    for name, (body, content_type, expected) in cases.items():
        error = check_error(client.post("/api/predict-image", data=body, content_type=content_type))
        assert expected in error, (name, error)
    check_error(client.post("/api/predict-image?model=nope", data=drawn, content_type="image/png"))


@pytest.mark.parametrize("method, url", [
    ("get", "/nothing"), ("get", "/api/predict"), ("put", "/api/predict"), ("post", "/api/models"),
    ("get", "/static/../web.py"), ("get", "/static/%2e%2e/app.py"), ("get", "/static/nothing.js"),
    ("delete", "/"),
])
def test_unknown_addresses_and_methods_answer_json(client, method, url):
    response = getattr(client, method)(url)
    error = check_error(response, statuses=(404, 405))
    assert "/api/" in error if response.status_code == 404 else f"not {method.upper()}" in error


def test_a_bug_is_a_500_without_traceback(app, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(web_app.recognise, "read_strokes", broken)
    app.logger.disabled = True      # the traceback goes to the log; keep the test output quiet
    try:
        response = app.test_client().post("/api/predict", json=drawing_body())
    finally:
        app.logger.disabled = False
    assert response.status_code == 500
    assert "bug" in response.get_json()["error"] and "ZeroDivisionError" not in response.get_data(as_text=True)


def test_no_request_writes_a_file_or_starts_a_program(client):
    # Python's audit hooks see every file opened for writing and every program started.
    seen, watching = [], [False]

    def hook(event, args):
        if not watching[0]:
            return
        if event == "open" and (args[1] and any(c in str(args[1]) for c in "wax+")
                                or isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)):
            seen.append((event, args[0]))
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.remove", "os.rename"):
            seen.append((event, args[0]))

    sys.addaudithook(hook)
    requests = [("post", "/api/predict", BAD_DRAWINGS[name]) for name in BAD_DRAWINGS]
    requests += [("post", "/api/predict", {"json": drawing_body()}),
                 ("post", "/api/predict-image", {"data": png_bytes(render([polyline(SEVEN, 100, 40, 200)])),
                                                 "content_type": "image/png"}),
                 ("post", "/api/predict-image", {"data": b"\0" * (MAX_IMAGE_BYTES + 1), "content_type": "image/png"}),
                 ("get", "/api/models", {}), ("get", "/", {}), ("get", "/nothing", {})]
    for method, url, kwargs in requests:      # once to warm up (lazy imports), then watched
        getattr(client, method)(url, **kwargs)
    watching[0] = True
    try:
        for method, url, kwargs in requests:
            getattr(client, method)(url, **kwargs)
    finally:
        watching[0] = False
    assert not seen


# The page --------------------------------------------------------------------------------------

def test_the_page_and_its_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for name, mimetype in (("app.js", "text/javascript"), ("style.css", "text/css")):
        assert f'"static/{name}"' in html
        served = client.get(f"/static/{name}")
        assert served.status_code == 200 and served.mimetype == mimetype and served.content_length > 500
    # Nothing from elsewhere, no inline script or style: what the policy below would block.
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html)) and "<style" not in html
    assert not re.search(r"<[^>]*\s(style|on\w+)=", html)
    assert 'id="pad" width="350" height="290"' in html and 'aria-live="polite"' in html
    headers = page.headers
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'self';") and "frame-ancestors 'none'" in csp
    assert "unsafe" not in csp and "*" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/favicon.ico").status_code == 204       # asked for by browsers: no 404 in their console
    css = client.get("/static/style.css").get_data(as_text=True)
    assert "touch-action: none" in css
    js = client.get("/static/app.js").get_data(as_text=True)
    assert "setPointerCapture" in js and "http" not in js.replace("https://", "").replace("http://", "")


# The desktop app and the web page read the same drawing the same way -----------------------------


def test_desktop_app_and_web_api_give_the_same_answer(display, client, pen_digits):
    import tkinter as tk

    import gui
    from helpers.replay import replay
    root = tk.Tk()
    try:
        app = gui.DigitApp(root)
        assert app.weights_error is None, app.weights_error
        rng = np.random.default_rng(3)
        drawings = [[polyline(SEVEN, 100, 40, 200)], [polyline(SEVEN, 20, 20, 60)], [[(50, 50)]]]
        drawings += [fit_to_canvas(d.strokes, CANVAS_WIDTH, CANVAS_HEIGHT, rng) for d in pen_digits[::250]]
        for strokes in drawings:
            app.clear()
            replay(app, strokes)                # real press, motion and release events
            digit, probs = app.predict()
            answer = post_drawing(client, strokes).get_json()
            assert answer["digit"] == digit
            assert answer["message"] == app.message.cget("text")
            if digit is not None:
                assert np.allclose(answer["probabilities"], probs, rtol=0, atol=1e-12)
    finally:
        root.destroy()


# python web.py, as a user runs it ------------------------------------------------------------------

def start_server(*args):
    """`python web.py --port 0 ARGS`; returns (process, base URL) once it serves."""
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "web.py"), "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return proc, f"http://127.0.0.1:{found.group(1)}", lines
    raise AssertionError(f"web.py did not start: {lines} {proc.stderr.read()}")


@pytest.mark.parametrize("signum, code, said", [(signal.SIGTERM, 143, "Terminated."), (signal.SIGINT, 130, "Interrupted.")])
def test_web_py_serves_and_stops_cleanly(signum, code, said):
    proc, url, lines = start_server()
    try:
        assert any(f"Reading with: {BEST.label}" in line for line in lines)
        with urllib.request.urlopen(url + "/api/models", timeout=10) as response:
            assert json.load(response)["default"] == BEST.id
        body = json.dumps({"strokes": as_json([polyline(SEVEN, 100, 40, 200)]), "width": 350, "height": 290}).encode()
        request = urllib.request.Request(url + "/api/predict", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["digit"] == 7
    finally:
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=15)
    # The last line says why it stopped; any before it are waitress's own one-line warnings (on a
    # busy machine: "Task queue depth is 1", a request waited for a free thread).
    lines = err.strip().splitlines()
    assert proc.returncode == code and lines[-1] == said and "Traceback" not in out + err
    assert all(line.startswith("waitress: ") for line in lines[:-1]), err


def test_web_py_says_what_0_0_0_0_exposes_and_refuses_bad_options(tmp_path):
    proc, url, lines = start_server("--host", "0.0.0.0")
    try:
        line = proc.stdout.readline()
        assert "everyone who can reach this machine" in line
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    for args, expected in ((["--model", "nope"], "unknown network 'nope'"),
                           (["--weights-dir", str(tmp_path)], "no network in")):
        done = subprocess.run([sys.executable, os.path.join(REPO, "web.py"), "--port", "0", *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and done.stderr.startswith("error: ") and expected in done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
