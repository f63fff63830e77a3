"""The web page's server: a Flask application that reads drawings as the desktop app does.

    GET  /                    the page (static/index.html, app.js, style.css: no other assets)
    GET  /api/models          the networks it reads with, which one is the default, the limits
    POST /api/predict         {"strokes": [[[x, y], ...], ...], "width": W, "height": H, "model": ID}
    POST /api/predict-image   an image file as the raw body (?model=ID)
    POST /api/read            a number: the body of /api/predict -> its digits, each with its box
    POST /api/read-image      a number in an image file (a photo of paper...) as the raw body

A drawing is sent as its strokes, not as a picture: the server draws them with
`digits.recognise.read_strokes`, exactly as the desktop app draws its mouse strokes, so the
same strokes get the same answer in both. An image file is read as `prediction.py` reads
files (`digits.recognise.read_file`). The README's "Draw digits in a web browser" documents
the API.

Every bad request gets a 4xx answer `{"error": "one sentence"}`: input is checked (types,
shapes, finite coordinates in range, counts, body size) before any work, and the errors the
recognition path raises (`digits.errors.UserInputError`) become 4xx answers too. No input
reaches a path, a shell or eval: a model id is only looked up among the networks loaded at
start; nothing is written to disk.

The networks are all loaded once, in `create_app`; requests only read them (a prediction
does not change a network's parameters), so the server's threads share them safely.
"""
import io
import json
import math

import numpy as np
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from digits import nets, recognise
from digits.errors import EmptyImageError, UserInputError, WeightsError
from digits.imaging.strokes import BRUSH, CANVAS_HEIGHT, CANVAS_WIDTH

MAX_JSON_BYTES = 1 << 20        # a drawing's JSON: 10,000 points take about 120 kB
MAX_IMAGE_BYTES = 8 << 20       # an image file: a phone photo fits
MAX_STROKES = 200
MAX_POINTS = 10_000             # in all strokes together (a digit written slowly: a few hundred)
MIN_SIDE, MAX_SIDE = 28, 1024   # canvas width and height, pixels
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
             "POST /api/read and POST /api/read-image")
DRAWING_ROUTES = ("/api/predict", "/api/read")     # bodies of at most MAX_JSON_BYTES


class BadRequest(UserInputError):
    """A request the API cannot use; `status` is the HTTP status of the answer."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


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
    """The networks the server reads with, loaded once: id -> (Choice, Network), in choice order.

    `skipped` lists (Choice, error) for the networks that could not be loaded.
    """

    def __init__(self, choices=None, default=None):
        choices = nets.choices() if choices is None else list(choices)
        if not choices:
            nets.load_pretrained()      # raises the WeightsError that says how to restore them
        self.loaded, self.skipped = {}, []
        for choice in choices:
            try:
                self.loaded[choice.id] = (choice, nets.load_network(choice.folder, choice.kind))
            except WeightsError as e:
                self.skipped.append((choice, e))
        ids = [choice.id for choice in choices]
        if default is not None and default not in ids:
            raise WeightsError(f"unknown network '{default}'; choose one of {', '.join(ids)}")
        for choice, error in self.skipped:
            if choice.id == default or not self.loaded:
                raise error
        self.default = default or next(iter(self.loaded))

    def get(self, model_id):
        """(id, Network) for an id sent by a client (None: the default); BadRequest if unknown."""
        if model_id is None:
            model_id = self.default
        if not isinstance(model_id, str) or model_id not in self.loaded:
            raise BadRequest(f"unknown model {shown(model_id)}: GET /api/models lists the networks this server reads with")
        return model_id, self.loaded[model_id][1]

    def describe(self):
        return [{"id": model_id, "label": choice.label, "kind": network.kind, "network": network.describe(),
                 "default": model_id == self.default}
                for model_id, (choice, network) in self.loaded.items()]


# Reading a request ------------------------------------------------------------------------------

def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_json(body):
    """The JSON object in `body` (bytes); BadRequest if it is not one."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise BadRequest("the body is nested too deeply to be a drawing") from None
    except ValueError as e:     # also UnicodeDecodeError
        raise BadRequest(f"the body is not valid JSON ({e})") from None
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


def answer(reading, model_id):
    """A Reading as the API's JSON answer."""
    nothing = reading.digit is None
    return {
        "digit": reading.digit,
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
                    "probabilities": [float(p) for p in d.probabilities],
                    "image": np.round(d.image, IMAGE_DECIMALS).tolist(), "message": d.message}
                   for d in reading.digits],
        "left_out": [list(box) for box in reading.left_out],
        "message": reading.message,
        "model": model_id,
        "network": reading.digits[0].network if reading.digits else None,
    }


def drawing_request(networks):
    """(strokes, width, height, model id, network) of the JSON drawing in this request, checked."""
    if not request.mimetype == "application/json":
        raise BadRequest("send the drawing as JSON, with the header Content-Type: application/json", 415)
    request.max_content_length = MAX_JSON_BYTES
    data = parse_json(request.get_data(cache=False))
    width, height = canvas_side(data, "width"), canvas_side(data, "height")
    strokes = parse_strokes(data, width, height)
    model_id, network = networks.get(data.get("model"))
    return strokes, width, height, model_id, network


def image_request(networks):
    """(the image file's bytes as a file object, model id, network) of this request, checked."""
    model_id, network = networks.get(request.args.get("model"))
    body = request.get_data(cache=False)
    if not body:
        raise BadRequest("the body is empty: send the image file itself as the request body")
    if request.mimetype.startswith("multipart/"):
        raise BadRequest("send the image file itself as the request body (curl --data-binary @digit.png), "
                         "not as a form", 415)
    return io.BytesIO(body), model_id, network


# The application ------------------------------------------------------------------------------

def create_app(choices=None, default=None):
    """The Flask application, reading with the networks of `choices` (default: `nets.choices()`,
    as the desktop app offers them); `default` is the id of the one that reads unless a request
    names another (default: the first). All are loaded here, once.

    Raises WeightsError when the default network (or every network) cannot be loaded.
    """
    networks = Networks(choices, default)
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_IMAGE_BYTES      # drawings: MAX_JSON_BYTES, below
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
                               "max_image_bytes": MAX_IMAGE_BYTES, "brush": BRUSH})

    @app.post("/api/predict")
    def predict():
        strokes, width, height, model_id, network = drawing_request(networks)
        return jsonify(answer(recognise.read_strokes(strokes, width, height, network), model_id))

    @app.post("/api/predict-image")
    def predict_image():
        body, model_id, network = image_request(networks)
        return jsonify(answer(recognise.read_file(body, network, name="the image sent"), model_id))

    @app.post("/api/read")
    def read_number():
        strokes, width, height, model_id, network = drawing_request(networks)
        return jsonify(number_answer(recognise.read_number_strokes(strokes, width, height, network), model_id))

    @app.post("/api/read-image")
    def read_number_image():
        body, model_id, network = image_request(networks)
        return jsonify(number_answer(recognise.read_number_image(body, network, name="the image sent"), model_id))

    @app.errorhandler(UserInputError)
    def user_input_error(e):
        status = getattr(e, "status", 422 if isinstance(e, EmptyImageError) else 400)
        return jsonify(error=sentence(e)), status

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
