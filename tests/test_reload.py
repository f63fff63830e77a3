"""A network trained while an app is open is offered, and one retrained is read anew, without a
restart: nets.Library, the desktop app's chooser and the web server's /api/models."""
import os
import time

import numpy as np

from digits import nets
from digits.nets.deep import DeepMLP
from digits.web import app as web_app


def offered_with(folder):
    """nets.choices with `folder` as the trained-networks folder."""
    real = nets.choices
    return lambda **kw: real(trained_dir=str(folder), **kw)


def save_deep(folder, seed):
    net = DeepMLP.random(seed, (6,))
    net.save(folder)
    later = time.time() + seed          # a new modification time even within one clock tick
    os.utime(folder / "deep.npz", (later, later))
    return net


def test_the_library_reads_only_what_changed(tmp_path):
    offer = offered_with(tmp_path)
    library = nets.Library(offer)
    before = dict(library.loaded)
    assert "trained-deep" not in before
    assert library.refresh() is False and all(library.loaded[i][1] is before[i][1] for i in before)
    save_deep(tmp_path, 1)
    assert library.refresh() is True and "trained-deep" in library.loaded
    first = library.loaded["trained-deep"][1]
    assert library.refresh() is False and library.loaded["trained-deep"][1] is first
    save_deep(tmp_path, 2)                      # retrained: read anew
    assert library.refresh() is True and library.loaded["trained-deep"][1] is not first
    assert all(library.loaded[i][1] is before[i][1] for i in before)      # the others kept


def test_the_web_server_offers_a_network_trained_while_it_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(web_app, "REFRESH", 0.0)
    client = web_app.create_app(offered_with(tmp_path)).test_client()
    ids = [m["id"] for m in client.get("/api/models").get_json()["models"]]
    assert "trained-deep" not in ids
    save_deep(tmp_path, 3)
    ids = [m["id"] for m in client.get("/api/models").get_json()["models"]]
    assert "trained-deep" in ids
    strokes = [[[80, 50], [270, 50], [150, 250]]]
    answer = client.post("/api/predict", json={"strokes": strokes, "width": 350, "height": 290,
                                               "model": "trained-deep"}).get_json()
    assert answer["model"] == "trained-deep" and answer["digit"] in range(10)


def test_the_desktop_chooser_offers_a_network_trained_while_it_is_open(display, tmp_path, monkeypatch):
    import tkinter as tk

    import gui
    monkeypatch.setattr(gui.nets, "choices", offered_with(tmp_path))
    root = tk.Tk()
    try:
        app = gui.DigitApp(root)
        menu = app.network_menu["menu"]
        labels = [menu.entrycget(i, "label") for i in range(menu.index("end") + 1)]
        assert not any("deep" in label for label in labels)
        save_deep(tmp_path, 4)
        menu.post(10, 10)                       # the chooser opened: its postcommand looks again
        menu.unpost()
        labels = [menu.entrycget(i, "label") for i in range(menu.index("end") + 1)]
        mine = [label for label in labels if label.startswith("your")]
        assert len(mine) == 1
        menu.invoke(labels.index(mine[0]))
        assert app.network.kind == "deep" and app.network_name.get() == mine[0]
        np.testing.assert_equal(app.network.params["fc1_W"].shape, (784, 6))
    finally:
        root.destroy()
