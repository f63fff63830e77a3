"""The web page's server: a Flask application that reads drawings as the desktop app does.

    GET  /                    the page (static/index.html, app.js, style.css: no other assets)
    GET  /api/models          the networks it reads with, which one is the default, the limits
    POST /api/predict         {"strokes": [[[x, y], ...], ...], "width": W, "height": H, "model": ID}
    POST /api/predict-image   an image file as the raw body (?model=ID)
    POST /api/read            a number: the body of /api/predict -> its digits, each with its box
    POST /api/read-image      a number in an image file (a photo of paper...) as the raw body
    POST /api/samples         the drawing as for /api/predict, plus "label": the digit it really is
                              (kept in the samples file; only when web.py was given --samples FILE)

A drawing is sent as its strokes, not as a picture: the server draws them with
`digits.recognise.read_strokes`, exactly as the desktop app draws its mouse strokes, so the
same strokes get the same answer in both. An image file is read as `prediction.py` reads
files (`digits.recognise.read_file`). The README's "Draw digits in a web browser" documents
the API.

Every bad request gets a 4xx answer `{"error": "one sentence"}`: input is checked (types,
shapes, finite coordinates in range, counts, body size) before any work, and the errors the
recognition path raises (`digits.errors.UserInputError`) become 4xx answers too. No input
reaches a path, a shell or eval: a model id is only looked up among the networks loaded at
start; nothing is written to disk, except the samples a user labels (POST /api/samples), into
the one samples file the server was started with, and only then.

The networks are all loaded once, in `create_app`; requests only read them (a prediction
does not change a network's parameters), so the server's threads share them safely.
"""
import io
import json
import math
import threading
import time

import numpy as np
from flask import Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from digits import json_input, nets, recognise
from digits.errors import EmptyImageError, SamplesError, UserInputError, WeightsError
from digits.imaging import image_files
from digits.imaging.strokes import BRUSH, CANVAS_HEIGHT, CANVAS_WIDTH
from digits.samples import SOURCES
from digits.web import guard
from digits.web.bad_request import BadRequest

MAX_JSON_BYTES = 1 << 20        # a drawing's JSON: 10,000 points take about 120 kB
MAX_IMAGE_BYTES = 8 << 20       # an image file: a phone photo fits
REFRESH = 2.0             # seconds between looks at the saved networks (Networks.refresh)
MAX_STROKES = 200
MAX_POINTS = 10_000             # in all strokes together (a digit written slowly: a few hundred)
MIN_SIDE, MAX_SIDE = 28, 1024   # canvas width and height, pixels
# Image files decoded at the same time (each up to 16 megapixels, about 250 MB at the peak);
# another one is answered 503 at once, so that the other threads stay free for drawings.
MAX_DECODES = 2
IMAGE_DECIMALS = 4              # the 28x28 input in answers: 4 decimals are plenty for 256 grey levels

SECURITY_HEADERS = {
    # Only the page's own files: no inline script or style, no other origin, no framing.
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; object-src 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

ENDPOINTS = ("the page is / and the API is GET /api/models, POST /api/predict, POST /api/predict-image, "
             "POST /api/read, POST /api/read-image and POST /api/samples")
DRAWING_ROUTES = ("/api/predict", "/api/read", "/api/samples")     # bodies of at most MAX_JSON_BYTES


def sentence(text):
    """`text` as one sentence: a capital first letter and a full stop."""
    text = str(text).strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def shown(value, limit=40):
    """A piece of the user's input, short, for an error message."""
    try:
        text = json.dumps(value)
    except ValueError:      # an integer of thousands of digits
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit] + "\u2026"


# The networks ------------------------------------------------------------------------------------

class Networks:
    """The networks the server reads with: id -> (Choice, Network), in choice order.

    `skipped` lists (Choice, error) for the networks that could not be loaded. `choices`: a list,
    or a function giving the current list (e.g. `nets.choices`): then at most every REFRESH
    seconds a request looks again, so a network trained while the server runs is offered and
    one retrained is read anew, without a restart.
    """

    def __init__(self, choices=None, default=None):
        offer = (nets.choices if choices is None else choices) if callable(choices) or choices is None \
            else (lambda fixed=list(choices): fixed)
        choices = offer()
        if not choices:
            nets.load_pretrained()      # raises the WeightsError that says how to restore them
        self.library = nets.Library(offer)
        self.skipped = self.library.skipped
        self._checked, self._lock = time.monotonic(), threading.Lock()
        ids = [choice.id for choice in choices]
        if default is not None and default not in ids:
            raise WeightsError(f"unknown network '{default}'; choose one of {', '.join(ids)}")
        for choice, error in self.skipped:
            if choice.id == default or not self.loaded:
                raise error
        self.default = default or next(iter(self.loaded))

    @property
    def loaded(self):
        return self.library.loaded

    def refresh(self):
        """Look again at what is saved, at most every REFRESH seconds (a few stat calls)."""
        with self._lock:
            if time.monotonic() - self._checked >= REFRESH:
                self._checked = time.monotonic()
                self.library.refresh()

    def get(self, model_id):
        """(id, Network) for an id sent by a client (None: the default); BadRequest if unknown."""
        self.refresh()
        if model_id is None:
            model_id = self.default
        if not isinstance(model_id, str) or model_id not in self.loaded:
            raise BadRequest(f"unknown model {shown(model_id)}: GET /api/models lists the networks this server reads with")
        return model_id, self.loaded[model_id][1]

    def describe(self):
        self.refresh()
        return [{"id": model_id, "label": choice.label, "kind": network.kind, "network": network.describe(),
                 "default": model_id == self.default}
                for model_id, (choice, network) in self.loaded.items()]


# Reading a request ------------------------------------------------------------------------------

def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_json(body):
    """The JSON object in `body` (bytes); BadRequest if it is not one."""
    try:
        data = json_input.parse(body)
    except json_input.JSONInputError as e:
        raise BadRequest(f"the body {e}") from None
    if not isinstance(data, dict):
        raise BadRequest('the body must be a JSON object: {"strokes": [[[x, y], ...], ...], "width": W, "height": H}')
    return data


def canvas_side(data, key):
    value = data.get(key)
    if value is None:
        raise BadRequest(f'the "{key}" is missing: give the canvas size in pixels, such as "width": {CANVAS_WIDTH}, '
                         f'"height": {CANVAS_HEIGHT}')
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_SIDE <= value <= MAX_SIDE:
        raise BadRequest(f'the "{key}" must be a whole number of pixels from {MIN_SIDE} to {MAX_SIDE}, got {shown(value)}')
    return value


def parse_strokes(data, width, height):
    """The strokes of a drawing request, checked: lists of [x, y] finite numbers, on or near
    the canvas (up to one canvas size beyond each edge: a pen may leave it while drawing)."""
    strokes = data.get("strokes")
    if strokes is None:
        raise BadRequest('the "strokes" are missing: give a list of strokes, each a list of [x, y] points')
    if not isinstance(strokes, list):
        raise BadRequest(f'the "strokes" must be a list of strokes, each a list of [x, y] points, got {shown(strokes)}')
    if len(strokes) > MAX_STROKES:
        raise BadRequest(f"the drawing has {len(strokes)} strokes; at most {MAX_STROKES} are read: clear it and draw again")
    for i, stroke in enumerate(strokes):
        if not isinstance(stroke, list) or not stroke:
            raise BadRequest(f"stroke strokes[{i}] must be a non-empty list of [x, y] points, got {shown(stroke)}")
    total = sum(len(stroke) for stroke in strokes)
    if total > MAX_POINTS:
        raise BadRequest(f"the drawing has {total} points; at most {MAX_POINTS} are read: clear it and draw again")
    for i, stroke in enumerate(strokes):
        for j, point in enumerate(stroke):
            if not (isinstance(point, list) and len(point) == 2 and is_number(point[0]) and is_number(point[1])):
                raise BadRequest(f"point strokes[{i}][{j}] must be [x, y], two numbers, got {shown(point)}")
            x, y = point
            if not all(math.isfinite(v) for v in point if isinstance(v, float)):   # ints: any size
                raise BadRequest(f"point strokes[{i}][{j}] has a coordinate that is not a finite number")
            if not (-width <= x <= 2 * width and -height <= y <= 2 * height):
                raise BadRequest(f"point strokes[{i}][{j}] = {shown(point)} lies far off the {width}x{height} canvas: "
                                 f"x must be from {-width} to {2 * width} and y from {-height} to {2 * height}")
    return strokes


def parse_label(data):
    """The "label" of a sample request: the digit the drawing really is, 0..9."""
    label = data.get("label")
    if label is None:
        raise BadRequest('the "label" is missing: give the digit the drawing really is, such as "label": 7')
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label <= 9:
        raise BadRequest(f'the "label" must be a digit from 0 to 9, got {shown(label)}')
    return label


def parse_source(data, label, digit):
    """"confirmed" when the label is what the network read, else "correction" (or as given)."""
    source = data.get("source", "confirmed" if label == digit else "correction")
    if source not in SOURCES:
        raise BadRequest(f'the "source" must be {" or ".join(map(shown, SOURCES))}, got {shown(source)}')
    return source


def drawing_request():
    """(strokes, width, height, data) of a JSON drawing request, checked; BadRequest otherwise."""
    if not request.mimetype == "application/json":
        raise BadRequest("send the drawing as JSON, with the header Content-Type: application/json", 415)
    request.max_content_length = MAX_JSON_BYTES
    data = parse_json(request.get_data(cache=False))
    width, height = canvas_side(data, "width"), canvas_side(data, "height")
    return parse_strokes(data, width, height), width, height, data


def answer(reading, model_id):
    """A Reading as the API's JSON answer."""
    nothing = reading.probabilities is None      # nothing drawn; a drawing that is no digit keeps its shares
    return {
        "digit": reading.digit,
        "not_a_digit": float(reading.not_a_digit),
        "probabilities": None if nothing else [float(p) for p in reading.probabilities],
        "confidence": None if nothing else float(reading.confidence),
        "sure": bool(reading.sure),
        "message": reading.message,
        "model": model_id,
        "network": reading.network,
        "image": None if nothing else np.round(reading.image, IMAGE_DECIMALS).tolist(),
    }


def number_answer(reading, model_id):
    """A NumberReading as the API's JSON answer: the number, each digit with its box, the
    marks left out, the message."""
    return {
        "number": reading.number,
        "digits": [{"digit": d.digit, "confidence": float(d.confidence), "sure": bool(d.sure), "box": list(d.box),
                    "not_a_digit": float(d.not_a_digit), "probabilities": [float(p) for p in d.probabilities],
                    "image": np.round(d.image, IMAGE_DECIMALS).tolist(), "message": d.message}
                   for d in reading.digits],
        "left_out": [list(box) for box in reading.left_out],
        "message": reading.message,
        "model": model_id,
        "network": reading.digits[0].network if reading.digits else None,
    }


# The application ------------------------------------------------------------------------------

class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing NaN and infinity (which browsers' JSON.parse rejects): a value that
    is not a number raises ValueError, answered as a bug (500), never sent."""

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


def create_app(choices=None, default=None, samples=None, local_only=False):
    """The Flask application, reading with the networks of `choices` (default: `nets.choices()`,
    as the desktop app offers them); `default` is the id of the one that reads unless a request
    names another (default: the first). All are loaded here, once. `samples`: a
    `digits.samples.SampleStore` that keeps the drawings users label, or None (the default:
    POST /api/samples answers 404 and the page shows no "That was a..." buttons). `local_only`:
    answer only requests addressed to a loopback name (for a server that listens on this
    machine only).

    Raises WeightsError when the default network (or every network) cannot be loaded.
    """
    networks = Networks(choices, default)
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_IMAGE_BYTES      # drawings: MAX_JSON_BYTES, below
    app.json = StrictJSONProvider(app)                      # never NaN in an answer
    app.json.sort_keys = False                              # answers keep the documented order
    app.extensions["digits.networks"] = networks

    @app.get("/")
    def page():
        return app.send_static_file("index.html")

    @app.get("/favicon.ico")
    def no_icon():
        return "", 204          # browsers ask for one; the page has none

    @app.get("/api/models")
    def models():
        return jsonify(models=networks.describe(), default=networks.default,
                       limits={"max_strokes": MAX_STROKES, "max_points": MAX_POINTS, "min_side": MIN_SIDE,
                               "max_side": MAX_SIDE, "max_json_bytes": MAX_JSON_BYTES,
                               "max_image_bytes": MAX_IMAGE_BYTES, "brush": BRUSH},
                       samples=samples is not None)

    @app.post("/api/predict")
    def predict():
        strokes, width, height, data = drawing_request()
        model_id, network = networks.get(data.get("model"))
        return jsonify(answer(recognise.read_strokes(strokes, width, height, network), model_id))

    decoding = threading.BoundedSemaphore(MAX_DECODES)

    @app.post("/api/predict-image")
    def predict_image():
        reading, model_id = read_image(recognise.read_file)
        return jsonify(answer(reading, model_id))

    @app.post("/api/read")
    def read_number():
        strokes, width, height, data = drawing_request()
        model_id, network = networks.get(data.get("model"))
        return jsonify(number_answer(recognise.read_number_strokes(strokes, width, height, network), model_id))

    @app.post("/api/read-image")
    def read_number_image():
        reading, model_id = read_image(recognise.read_number_image)
        return jsonify(number_answer(reading, model_id))

    def read_image(read):
        """(read(the image file sent as the body, network, name=...), model id): the body's
        type and the image's size checked first; at most MAX_DECODES images read at once."""
        guard.check_image_type(request)
        model_id, network = networks.get(request.args.get("model"))
        body = request.get_data(cache=False)
        if not body:
            raise BadRequest("the body is empty: send the image file itself as the request body")
        image_files.check_size(io.BytesIO(body), "the image sent")     # a bomb: 400 even when busy
        if not decoding.acquire(blocking=False):
            raise BadRequest("the server is busy reading other images: try again in a moment", 503)
        try:
            return read(io.BytesIO(body), network, name="the image sent"), model_id
        finally:
            decoding.release()

    @app.before_request
    def refuse_other_sites():
        if local_only:
            guard.check_local_host(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            guard.check_same_origin(request)

    @app.post("/api/samples")
    def add_sample():
        if samples is None:
            raise BadRequest("this server keeps no samples: start it with python web.py --samples FILE "
                             "to collect your handwriting", 404)
        strokes, width, height, data = drawing_request()
        label = parse_label(data)
        model_id, network = networks.get(data.get("model"))
        reading = recognise.read_strokes(strokes, width, height, network)
        if reading.image is None:       # nothing drawn, or a dot (a drawing read as "not a digit" is kept)
            raise BadRequest(f"nothing to keep: {reading.message[:1].lower() + reading.message[1:]}", 422)
        source = parse_source(data, label, reading.digit)
        row = samples.add(label, strokes, width, height, reading.image, network=reading.network,
                          answer=reading.digit, source=source)
        count = samples.counts_by_label()[label]
        return jsonify(id=row, label=label, answer=reading.digit, source=source, count=count,
                       message=f"Kept as a {label}: {count} sample{'s' * (count != 1)} of {label} so far."), 201

    @app.errorhandler(UserInputError)
    def user_input_error(e):
        # A network that answers NaN is the server's fault (500), not the request's; a samples
        # file that cannot be written now, the server's too (503).
        status = getattr(e, "status", 500 if isinstance(e, WeightsError) else 422 if isinstance(e, EmptyImageError)
                         else 503 if isinstance(e, SamplesError) else 400)
        headers = {"Retry-After": "1"} if status == 503 else {}
        return jsonify(error=sentence(e)), status, headers

    @app.errorhandler(HTTPException)
    def http_error(e):
        if e.code is None or e.code < 400:     # a redirect is not an error
            return e
        return jsonify(error=sentence(http_message(e))), e.code

    @app.errorhandler(Exception)
    def bug(e):
        # A bug, not the user's fault: the log gets the traceback, the answer none.
        app.logger.exception("error answering %s %s", request.method, request.path)
        return jsonify(error="The server failed to answer this request (a bug): its log says why."), 500

    @app.after_request
    def security_headers(response):
        response.headers.update(SECURITY_HEADERS)
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    return app


def http_message(e):
    """One sentence for an HTTP error raised by Flask or Werkzeug (unknown URL, wrong method...)."""
    if e.code == 404:
        return f"there is nothing at this address: {ENDPOINTS}"
    if e.code == 405:
        allowed = " or ".join(m for m in (e.valid_methods or []) if m not in ("HEAD", "OPTIONS"))
        return f"the address {request.path} takes {allowed or 'another method'}, not {request.method}"
    if e.code == 413:
        limit = MAX_JSON_BYTES if request.path in DRAWING_ROUTES else MAX_IMAGE_BYTES
        return f"the request body is too large: {request.path} reads at most {limit // (1 << 20)} MB"
    if e.code == 400:
        return "the request could not be read (a malformed HTTP request)"
    return e.name
