"""Corrections on the page's server: POST /api/samples keeps a labelled drawing in the samples
file only when the server was given one (web.py --samples FILE); 404 otherwise."""
import json
import os
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from digits import recognise
from digits.samples import SampleStore
from digits.web.app import create_app
from helpers import SEVEN, polyline
from test_web_api import REPO, as_json, start_server

DRAWN_SEVEN = as_json([polyline(SEVEN, 100, 40, 200)])


def sample_body(label, strokes=DRAWN_SEVEN, **extra):
    return {"strokes": strokes, "width": 350, "height": 290, "label": label, **extra}


@pytest.fixture(scope="module")
def networks():
    """The networks, loaded once for the module and shared by its apps."""
    return create_app().extensions["digits.networks"]


@pytest.fixture
def store(tmp_path):
    return SampleStore(tmp_path / "samples.sqlite")


@pytest.fixture
def client(networks, store, monkeypatch):
    monkeypatch.setattr("digits.web.app.Networks", lambda choices, default: networks)
    return create_app(samples=store).test_client()


def test_without_a_samples_file_nothing_is_kept_and_the_page_is_told(networks, monkeypatch):
    monkeypatch.setattr("digits.web.app.Networks", lambda choices, default: networks)
    client = create_app().test_client()
    assert client.get("/api/models").get_json()["samples"] is False
    response = client.post("/api/samples", json=sample_body(1))
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert "--samples FILE" in error and error.endswith(".") and "\n" not in error


def test_a_correction_is_kept_with_what_the_network_read(client, store, networks):
    assert client.get("/api/models").get_json()["samples"] is True
    response = client.post("/api/samples", json=sample_body(1))
    assert response.status_code == 201, response.get_json()
    said = response.get_json()
    assert (said["label"], said["answer"], said["source"], said["count"]) == (1, 7, "correction", 1)
    assert said["message"] == "Kept as a 1: 1 sample of 1 so far."
    network = networks.loaded[networks.default][1]
    reading = recognise.read_strokes(DRAWN_SEVEN, 350, 290, network)
    [row] = store.rows()
    assert (row["label"], row["answer"], row["source"], row["network"]) == (1, 7, "correction", network.describe())
    assert row["strokes"] == DRAWN_SEVEN and (row["width"], row["height"]) == (350, 290)
    np.testing.assert_array_equal(store.images_and_labels()[0][0], np.round(reading.image.ravel() * 255))


def test_the_read_digit_is_kept_as_confirmed(client, store):
    for n in (1, 2):
        said = client.post("/api/samples", json=sample_body(7)).get_json()
        assert (said["source"], said["count"]) == ("confirmed", n)
    assert store.counts_by_label()[7] == 2


@pytest.mark.parametrize("body, status, words", [
    (sample_body(None), 400, '"label" is missing'),
    (sample_body(10), 400, "digit from 0 to 9"),
    (sample_body("7"), 400, "digit from 0 to 9"),
    (sample_body(3, source="guess"), 400, '"source" must be'),
    (sample_body(3, strokes=[[[50, 50]]]), 422, "nothing to keep"),
    (sample_body(3, model="nope"), 400, "unknown model"),
    ({"label": 3}, 400, '"width" is missing'),
])
def test_bad_samples_get_a_4xx_and_nothing_is_kept(client, store, body, status, words):
    response = client.post("/api/samples", json=body)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert words.lower() in error.lower() and "\n" not in error
    assert store.count() == 0


def test_web_py_keeps_samples_in_the_given_file(tmp_path):
    path = tmp_path / "mine.sqlite"
    proc, url, lines = start_server("--samples", str(path))
    try:
        assert any(f"Keeping labelled drawings in {path} (0 so far)" in line for line in lines)
        request = urllib.request.Request(url + "/api/samples", json.dumps(sample_body(4)).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=20) as response:
            assert response.status == 201
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert SampleStore(path).counts_by_label()[4] == 1


def test_web_py_refuses_a_damaged_samples_file_in_one_line(tmp_path):
    path = tmp_path / "mine.sqlite"
    path.write_bytes(b"not a database" * 100)
    done = subprocess.run([sys.executable, os.path.join(REPO, "web.py"), "--port", "0", "--samples", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "damaged" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and path.read_bytes() == b"not a database" * 100


def test_a_drawing_read_as_not_a_digit_can_be_corrected(client, store, networks, monkeypatch):
    network = networks.loaded[networks.default][1]
    read = network.probabilities_and_none          # what a reading asks for: the shares, and "none of 0-9"
    monkeypatch.setattr(network, "probabilities_and_none", lambda x: (read(x)[0], np.full(len(x), 0.9)))
    reading = client.post("/api/predict", json=sample_body(None)).get_json()
    assert reading["digit"] is None and reading["image"] is not None
    said = client.post("/api/samples", json=sample_body(7)).get_json()
    assert (said["label"], said["answer"], said["source"]) == (7, None, "correction")
    assert store.rows()[-1]["answer"] is None


def test_a_page_of_another_site_cannot_add_samples(client, store):
    response = client.post("/api/samples", json=sample_body(1),
                           headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403 and store.count() == 0
