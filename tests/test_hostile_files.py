"""Hostile and unlucky files (issue 17): images that are too large, of a format that runs a
program, or hold NaN; weight and calibration files that claim huge sizes, hold unexpected
members, values out of range or nesting 100,000 deep; FIFOs and devices where files belong;
and `prediction.py --out` pointed at special files. Each is refused in one line, at once."""
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import warnings
import zipfile

import numpy as np
import pytest
from helpers import web_py_until_serving
from PIL import Image

from digits import nets, recognise
from digits.errors import ImageFileError, OutputError, WeightsError
from digits.files import check_output_file
from digits.imaging.image_files import MAX_PIXELS, read_grey
from digits.imaging.strokes import render
from digits.nets.calibration import FILE as CALIBRATION
from tests.test_web_api import SEVEN, polyline

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRETRAINED = os.path.join(REPO, "weights", "pretrained")


def within(seconds, function, *args):
    """function(*args) in a thread: its result or the exception it raised; fails the test if it
    has not finished after `seconds` (a FIFO opened for reading blocks for ever)."""
    out = {}

    def call():
        try:
            out["value"] = function(*args)
        except BaseException as e:      # noqa: B902 - handed back to the test
            out["error"] = e

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} still running after {seconds} s"
    return out.get("error", out.get("value"))


def one_line(error, *expected):
    text = str(error)
    assert "\n" not in text and "Traceback" not in text, text
    for piece in expected:
        assert piece in text, text
    return text


def seven(side=400, ink=0, paper=255):
    """A drawn seven, dark on light, `side` pixels square."""
    drawing = render([polyline(SEVEN, 100, 40, 200)]).resize((side, side))
    return Image.eval(drawing, lambda v: paper + (ink - paper) * v // 255)


# Images (cases 1, 3, 12, 15) ---------------------------------------------------------------------

def test_a_12_megapixel_photo_and_a_48_megapixel_jpeg_are_read(tmp_path):
    network = nets.load_pretrained()
    for (width, height), fmt in (((4032, 3024), "PNG"), ((8000, 6000), "JPEG")):
        page = Image.new("L", (width, height), 255)
        page.paste(seven(height // 2), (width // 4, height // 4))
        path = tmp_path / f"photo.{fmt.lower()}"
        page.save(path, format=fmt)
        assert width * height > 12_000_000
        assert recognise.read_file(path, network).digit == 7, (width, height)


def test_an_image_over_the_limit_is_refused_from_its_header(tmp_path):
    path = tmp_path / "wide.png"
    Image.new("1", (MAX_PIXELS // 1000 + 1, 1000), 1).save(path)        # 1-bit: small to write
    start = time.perf_counter()
    one_line(within(10, read_grey, path), "too large", "16 megapixels", "shrink it first")
    assert time.perf_counter() - start < 1


def test_a_photo_taken_turned_is_read_upright(tmp_path):
    upright = seven(300).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6                # "turned 90 degrees clockwise": the viewer turns it back
    path = tmp_path / "turned.jpg"
    upright.transpose(Image.Transpose.ROTATE_90).save(path, exif=exif, quality=95)
    read = np.asarray(read_grey(path), dtype=float)
    assert np.abs(read - np.asarray(upright.convert("L"), dtype=float)).mean() < 8


def test_eps_is_refused_without_writing_a_file_or_running_a_program(tmp_path, monkeypatch):
    ran = tmp_path / "gs-ran"
    gs = tmp_path / "bin" / "gs"
    gs.parent.mkdir()
    gs.write_text(f"#!/bin/sh\ntouch {ran}\n")
    gs.chmod(0o755)
    monkeypatch.setenv("PATH", f"{gs.parent}{os.pathsep}{os.environ['PATH']}")
    eps = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n"
           b"newpath 10 10 moveto 90 90 lineto stroke showpage\n%%EOF\n")
    path = tmp_path / "digit.eps"
    path.write_bytes(eps)
    for source in (path, io.BytesIO(eps)):
        one_line(within(10, read_grey, source), "not an image file this reads",
                 "PNG, JPEG, BMP, GIF, WebP or TIFF")
    assert not ran.exists()
    done = subprocess.run([sys.executable, "prediction.py", str(path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ})
    assert done.returncode == 1 and not ran.exists()
    assert done.stderr.startswith(f"error: {path}: not an image file") and len(done.stderr.splitlines()) == 1


def test_a_float_tiff_with_a_nan_pixel_is_a_clear_error_without_warnings(tmp_path):
    pixels = np.ones((60, 60), np.float32)
    pixels[20:40, 30] = 0
    pixels[5, 5] = np.nan
    path = tmp_path / "nan.tif"
    Image.fromarray(pixels, mode="F").save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = within(10, read_grey, path)
    assert isinstance(error, ImageFileError)
    one_line(error, "NaN", str(path))
    assert "empty" not in str(error)


def test_a_fifo_or_device_given_as_an_image_is_refused_at_once(tmp_path):
    fifo = tmp_path / "digit.png"
    os.mkfifo(fifo)
    one_line(within(10, read_grey, fifo), "FIFO", "not a regular file")
    one_line(within(10, read_grey, "/dev/zero"), "character device")


# Weight files (cases 8, 9, 10, 12) ---------------------------------------------------------------

def npy_bytes(array=None, header_shape=None, dtype="<f4", data=b""):
    """An .npy member: a real array, or a header claiming `header_shape` followed by `data`."""
    out = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(out, np.asarray(array), allow_pickle=False)
        return out.getvalue()
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": header_shape})
    return out.getvalue() + data


def cnn_folder(tmp_path, change=None, extra=None):
    """A copy of the shipped CNN as an npz, each member's bytes possibly replaced (`change`:
    name -> bytes) and members added (`extra`: name -> bytes or a generator of chunks)."""
    folder = tmp_path / "weights"
    folder.mkdir(exist_ok=True)
    with np.load(os.path.join(PRETRAINED, "cnn", "cnn.npz")) as npz:
        members = {name: npy_bytes(npz[name]) for name in npz.files}
    members.update(change or {})
    with zipfile.ZipFile(folder / "cnn.npz", "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in {**members, **(extra or {})}.items():
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                for chunk in ([data] if isinstance(data, bytes) else data):
                    f.write(chunk)
    return folder


def zeros(megabytes, header_shape):
    yield npy_bytes(header_shape=header_shape)
    block = bytes(1 << 20)
    for _ in range(megabytes):
        yield block


@pytest.mark.parametrize("case, change, extra, said", [
    ("a header claiming 10^14 elements", {"out_W": npy_bytes(header_shape=(10 ** 14,), data=bytes(64))}, None,
     "does not match its size"),
    ("a shape the architecture does not have", {"out_W": npy_bytes(np.zeros((3, 10), np.float32))}, None,
     "out_W has shape 3x10"),
    ("an extra member of 300 MB", None, {"junk": zeros(300, (300 << 18,))}, "'junk.npy' that no network has"),
    ("a parameter name of 300 MB", None, {"fc9_W": zeros(300, (300 << 18,))}, "declares"),
    ("a pickled object", {"kind": npy_bytes(header_shape=(), dtype="|O", data=b"\x80\x04N.")}, None,
     "Python objects"),
    ("weights beyond float32", {"conv1_b": npy_bytes(np.full(16, 1e300))}, None, "too large for float32"),
    ("a NaN weight", {"conv1_b": npy_bytes(np.full(16, np.nan, np.float32))}, None, "nan or inf"),
    ("a temperature of 1e-310", {"temperature": npy_bytes(np.array(1e-310))}, None, "invalid temperature"),
    ("a temperature true", {"temperature": npy_bytes(np.array(True))}, None, "temperature"),
])
def test_a_bad_cnn_npz_is_refused_before_it_is_read(tmp_path, case, change, extra, said):
    folder = cnn_folder(tmp_path, change, extra)
    start = time.perf_counter()
    error = within(20, nets.load_network, folder, "cnn")
    assert isinstance(error, WeightsError), (case, error)
    one_line(error, said)
    assert time.perf_counter() - start < 3, case      # nothing large was read


def test_weights_that_overflow_in_the_sums_are_refused_at_load(tmp_path):
    mlp = nets.load_pretrained("mlp")
    signs = np.where(np.arange(mlp.params["Theta1"].size).reshape(mlp.params["Theta1"].shape) % 2, 1, -1)
    big = nets.MLP(signs * 1e308, mlp.params["Theta2"])    # finite, but inf - inf = NaN in the sums
    big.save(tmp_path)
    cnn = nets.load_pretrained("cnn")
    cnn.params["out_W"] = cnn.params["out_W"] * np.float32(1e38)     # finite, but the sums overflow
    cnn.save(tmp_path / "cnn")
    for folder in (tmp_path, tmp_path / "cnn"):
        one_line(within(20, nets.load_network, folder), "NaN or infinity")


def test_a_network_that_answers_nan_is_never_shown(monkeypatch):
    network = nets.load_pretrained()
    monkeypatch.setattr(network, "probabilities_and_none", lambda X: (np.full((len(X), 10), np.nan), np.zeros(len(X))))
    with pytest.raises(WeightsError, match="damaged"):
        recognise.read_drawing(render([polyline(SEVEN, 100, 40, 200)]), network)


@pytest.mark.parametrize("name", ["Theta1.txt", "Theta2.txt", "cnn.npz", CALIBRATION])
def test_a_fifo_named_like_a_weights_file_is_refused_at_once(tmp_path, name):
    kind = "cnn" if name == "cnn.npz" else "mlp"
    folder = tmp_path / "net"
    shutil.copytree(os.path.join(PRETRAINED, kind), folder)
    os.unlink(folder / name) if (folder / name).exists() else None
    os.mkfifo(folder / name)
    error = within(10, nets.load_network, folder, kind)
    assert isinstance(error, WeightsError), error
    one_line(error, "FIFO")
    done = subprocess.run([sys.executable, "prediction.py", "--weights-dir", str(folder), "--model", kind,
                           os.path.join(REPO, "docs", "web.png")], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "FIFO" in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_huge_theta_file_is_refused_before_it_is_read(tmp_path):
    folder = tmp_path / "mlp"
    shutil.copytree(os.path.join(PRETRAINED, "mlp"), folder)
    with open(folder / "Theta1.txt", "r+b") as f:
        f.truncate(300 << 20)       # sparse: 300 MB that take no disk
    start = time.perf_counter()
    one_line(within(10, nets.load_network, folder, "mlp"), "300 MB, larger than any network")
    assert time.perf_counter() - start < 2


def test_the_api_never_sends_nan(monkeypatch):
    from digits.web.app import create_app
    app = create_app()
    app.logger.disabled = True
    network = next(iter(app.extensions["digits.networks"].loaded.values()))[1]
    monkeypatch.setattr(network, "probabilities_and_none", lambda X: (np.full((len(X), 10), np.nan), np.zeros(len(X))))
    body = {"strokes": [[[100, 40], [250, 40], [150, 250]]], "width": 350, "height": 290}
    response = app.test_client().post("/api/predict", json=body)
    assert response.status_code == 500 and "NaN" not in response.get_data(as_text=True)
    assert "damaged" in response.get_json()["error"]
    with app.test_request_context():       # and jsonify itself refuses NaN rather than send it
        with pytest.raises(ValueError):
            app.json.response(confidence=float("nan"))


# Calibration files (cases 10, 11 and the small ones) ---------------------------------------------

@pytest.mark.parametrize("text, said", [
    ('{"temperature": 1e-310, "sure_above": 0.5}', "temperature must be a number from 0.01 to 100"),
    ('{"temperature": true, "sure_above": 0.5}', "got true"),
    ('{"temperature": "2", "sure_above": 0.5}', 'got "2"'),
    ('{"temperature": 1e999, "sure_above": 0.5}', "temperature"),
    ('{"temperature": NaN, "sure_above": 0.5}', "temperature"),
    ('{"temperature": 1e300, "sure_above": 0.5}', "temperature"),
    ('{"temperature": 2, "sure_above": true}', "sure_above"),
    ('{"temperature": 2, "sure_above": NaN}', "sure_above"),
    ('{"temperature": 2, "sure_above": 1.5}', "sure_above"),
    ('{"temperature": 2}', "not a calibration file"),
    ("[" * 60_000 + "]" * 3, "nested too deeply"),
    ("[" * 100_000, "larger than 64 kB"),
    ('{"temperature": 1' + "0" * 5000 + ', "sure_above": 0.5}', "5001 digits"),
    ('{"temperature": 2, ', "not valid JSON"),
    ("\xff", "not UTF-8"),
], ids=lambda value: value[:30] if isinstance(value, str) else None)
def test_a_bad_calibration_file_is_one_line(tmp_path, text, said):
    folder = tmp_path / "mlp"
    shutil.copytree(os.path.join(PRETRAINED, "mlp"), folder)
    (folder / CALIBRATION).write_text(text, encoding="latin-1" if text == "\xff" else "utf-8")
    error = within(10, nets.load_network, folder, "mlp")
    assert isinstance(error, WeightsError), error
    text = one_line(error, said, "delete it to read uncalibrated")
    assert "set_int_max_str_digits" not in text and len(text) < 400


def test_deep_nesting_in_calibration_json_is_one_line_from_prediction_py(tmp_path):
    folder = tmp_path / "mlp"
    shutil.copytree(os.path.join(PRETRAINED, "mlp"), folder)
    (folder / CALIBRATION).write_text("[" * 100_000)
    done = subprocess.run([sys.executable, "prediction.py", "--weights-dir", str(folder),
                           os.path.join(REPO, "docs", "web.png")], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    assert len(done.stderr.splitlines()) == 1 and "calibration.json" in done.stderr


def test_a_good_calibration_still_applies(tmp_path):
    folder = tmp_path / "mlp"
    shutil.copytree(os.path.join(PRETRAINED, "mlp"), folder)
    (folder / CALIBRATION).write_text(json.dumps({"temperature": 2, "sure_above": 0, "note": "x"}))
    network = nets.load_network(folder, "mlp")
    assert network.temperature == 2.0 and network.sure_above == 0.0


# A bad trained network does not stop the apps (case 8) -------------------------------------------

def test_web_py_starts_with_a_bad_trained_network_and_offers_the_good_ones(tmp_path):
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in [n for n in os.listdir(REPO) if n.endswith(".py")] + ["digits"]:
        source = os.path.join(REPO, name)
        if os.path.isdir(source):
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy / name)
    shutil.copytree(PRETRAINED, copy / "weights" / "pretrained")
    bad = cnn_folder(tmp_path, {"out_W": npy_bytes(header_shape=(10 ** 14,), data=bytes(64))})
    shutil.copy(bad / "cnn.npz", copy / "weights" / "cnn.npz")
    line, out, err = web_py_until_serving(["--port", "0"], copy)
    assert "Serving the drawing page" in line, err
    notes = [l for l in err.splitlines() if l.startswith("note: not offering your convolutional network")]
    assert len(notes) == 1 and "Traceback" not in err and "MemoryError" not in err
    done = subprocess.run([sys.executable, "prediction.py", "--weights-dir", "weights", "--model", "cnn",
                           os.path.join(REPO, "docs", "web.png")], cwd=copy, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1


def test_gui_skips_a_bad_trained_network_with_a_note(display, tmp_path, monkeypatch, capsys):
    import tkinter as tk

    import gui
    bad = cnn_folder(tmp_path, {"out_W": npy_bytes(header_shape=(10 ** 14,), data=bytes(64))})
    offered = nets.choices
    monkeypatch.setattr(gui.nets, "choices", lambda **kw: offered(trained_dir=str(bad), **kw))
    root = tk.Tk()
    try:
        app = gui.DigitApp(root)
        assert app.weights_error is None and app.network is not None
        labels = [choice.label for choice in app.choices]
        assert labels == [choice.label for choice in offered()] and not any("your" in l for l in labels)
    finally:
        root.destroy()
    err = capsys.readouterr().err
    assert err.startswith("note: not offering your convolutional network") and len(err.splitlines()) == 1


def test_gui_shows_no_nan_from_a_network_whose_sums_overflow(display, monkeypatch):
    import tkinter as tk

    import gui
    from helpers.replay import replay
    root = tk.Tk()
    try:
        app = gui.DigitApp(root)
        monkeypatch.setattr(app.network, "probabilities_and_none", lambda X: (np.full((len(X), 10), np.nan), np.zeros(len(X))))
        replay(app, [polyline(SEVEN, 100, 40, 200)])
        assert app.predict() == (None, None)
        assert app.message.cget("text").startswith("Cannot recognise digits: ") and "nan%" not in app.message.cget("text")
    finally:
        root.destroy()


def test_a_fifo_given_as_the_csv_is_refused_at_once(tmp_path):
    fifo = tmp_path / "test.csv"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "prediction.py", "--csv", str(fifo), "--out", str(tmp_path / "out.csv")],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "FIFO" in done.stderr and len(done.stderr.splitlines()) == 1


# prediction.py --out (case 7) --------------------------------------------------------------------

def test_out_refuses_special_and_read_only_files(tmp_path):
    with pytest.raises(OutputError, match="character device"):
        check_output_file("/dev/null", what="the submission (--out)")
    csv = tmp_path / "test.csv"
    csv.write_text(",".join(f"pixel{i}" for i in range(784)) + "\n" + ",".join(["0"] * 784) + "\n")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    read_only = tmp_path / "read-only.csv"
    read_only.write_text("keep me\n")
    read_only.chmod(0o444)
    target = tmp_path / "target.csv"
    target.write_text("keep me too\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    for out, said in ((fifo, "FIFO"), (read_only, "read-only"), (link, "symbolic link"), ("/dev/null", "device")):
        done = subprocess.run([sys.executable, "prediction.py", "--csv", str(csv), "--out", str(out)], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and said in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.path.islink(link)
    assert read_only.read_text() == "keep me\n" and target.read_text() == "keep me too\n"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fresh = tmp_path / "new.csv"
    done = subprocess.run([sys.executable, "prediction.py", "--csv", str(csv), "--out", str(fresh)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and fresh.read_text().startswith("ImageId,Label\n1,")
