"""`python prediction.py` on photos of numbers, folders and `--format`, run as a user runs it,
with the shipped network."""
import csv
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digits.imaging import paper, strokes as stroke_drawing

ONE_THREAD = dict(os.environ, OPENBLAS_NUM_THREADS="1")
ONE_SEVEN = [[[90, 80], [100, 60], [100, 240]], [[160, 60], [260, 60], [200, 240]]]
FOUR = [[[160, 60], [100, 170], [200, 170]], [[170, 110], [170, 240]]]
LINE = re.compile(r"^(?P<path>.+): (?P<digit>\d) \((?P<sure>\d+)% sure\)$")


def run_cli(repo_root, *args):
    return subprocess.run([sys.executable, "prediction.py", *map(str, args)], cwd=repo_root,
                          capture_output=True, text=True, timeout=120, env=ONE_THREAD)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """A photo of the number 17, a photo of one 4, a canvas screenshot of the 4, in nested folders."""
    root = tmp_path_factory.mktemp("pictures")
    (root / "numbers" / "deeper").mkdir(parents=True)
    (root / "numbers" / "deeper" / "seventeen.jpg").write_bytes(
        paper.photograph(ONE_SEVEN, 1000, 290, np.random.default_rng(1)))
    (root / "four.jpg").write_bytes(paper.photograph(FOUR, 350, 290, np.random.default_rng(2)))
    stroke_drawing.render(FOUR, 350, 290).save(root / "canvas_four.png")
    (root / "numbers" / "notes.txt").write_text("not an image, and not read\n")
    return root


def test_a_photo_of_a_number_prints_the_number_and_each_digit(repo_root, pictures):
    photo = pictures / "numbers" / "deeper" / "seventeen.jpg"
    result = run_cli(repo_root, photo)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert re.fullmatch(re.escape(str(photo)) + r": 17 \(1 (not sure )?\d+%, 7 (not sure )?\d+%\)", line), line


def test_one_digit_prints_as_it_always_did(repo_root, pictures):
    from digits import nets, recognise
    network = nets.load_pretrained()
    for name in ("four.jpg", "canvas_four.png"):
        result = run_cli(repo_root, pictures / name)
        match = LINE.match(result.stdout.strip())
        assert match and match["digit"] == "4", result.stdout
        single = recognise.read_file(pictures / name, network)
        assert int(match["sure"]) == round(100 * single.confidence)


def test_folders_are_read_recursively_image_files_only(repo_root, pictures):
    result = run_cli(repo_root, pictures)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        str(pictures / "canvas_four.png"), str(pictures / "four.jpg"),
        str(pictures / "numbers" / "deeper" / "seventeen.jpg")]
    assert [line.split(": ")[1].split()[0] for line in lines] == ["4", "4", "17"]


def test_csv_and_json_answers(repo_root, pictures, tmp_path):
    missing = tmp_path / "missing.png"
    result = run_cli(repo_root, "--format", "csv", pictures, missing)
    assert result.returncode == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["number"] for row in rows] == ["4", "4", "17", ""]
    assert len(rows[2]["confidences"].split()) == 2 and rows[2]["sure"] in ("true", "false")
    assert "no such file" in rows[3]["error"] and result.stderr.startswith(f"error: {missing}: ")

    result = run_cli(repo_root, "--format", "json", pictures, missing)
    items = json.loads(result.stdout)
    assert [item.get("number") for item in items] == ["4", "4", "17", None]
    seventeen = items[2]
    assert [d["digit"] for d in seventeen["digits"]] == [1, 7]
    width, height = Image.open(pictures / "numbers" / "deeper" / "seventeen.jpg").size
    for d in seventeen["digits"]:
        x0, y0, x1, y1 = d["box"]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and 0 < d["confidence"] <= 1
    assert "no such file" in items[3]["error"]


def test_an_empty_folder_is_one_error_line(repo_root, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli(repo_root, tmp_path / "empty")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: {tmp_path / 'empty'}: ") and "Traceback" not in result.stderr


class NothingIsADigit:
    """The shipped network, except that it reads every picture as none of the digits."""

    def __init__(self, network):
        self.network = network

    def __getattr__(self, name):
        return getattr(self.network, name)

    def not_a_digit(self, X):
        return np.full(len(X), 0.99)

    def probabilities_and_none(self, X):      # what the readers ask for: the shares and the not_a_digit above
        return self.network.predict_proba(X), self.not_a_digit(X)


@pytest.mark.parametrize("form", ["text", "csv", "json"])
def test_a_picture_that_is_not_a_digit_is_said_so_in_every_format(pictures, form, capsys):
    import prediction
    from digits import nets
    network = NothingIsADigit(nets.load_pretrained())
    assert prediction.predict_files(network, [pictures / "canvas_four.png"], form) == 0
    out = capsys.readouterr().out
    assert "None" not in out
    if form == "text":
        assert out == f"{pictures / 'canvas_four.png'}: not a digit (99% sure)\n"
    elif form == "csv":
        [row] = list(csv.DictReader(io.StringIO(out)))
        assert (row["number"], row["confidences"], row["sure"], row["error"]) == ("", "", "false", "")
    else:
        [item] = json.loads(out)
        assert item["number"] == "" and item["digits"] == [] and item["message"].startswith("Not a digit")


def scanned_digit(pixels, rng, side):
    """An MNIST digit as a scanned digit's file: thickened, cropped to its box, dark on grey
    paper, `side` pixels on its longer side, JPEG."""
    from scipy import ndimage
    ink = ndimage.grey_dilation(pixels.reshape(28, 28), size=(2, 2))
    ys, xs = np.nonzero(ink > 40)
    box = Image.fromarray(ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.uint8))
    scale = side / max(box.size)
    box = box.resize((max(4, round(box.width * scale)), max(4, round(box.height * scale))), Image.BILINEAR)
    page = np.full((box.height + 4, box.width + 4), 210.0)
    page[2:-2, 2:-2] -= np.asarray(box, dtype=np.float64) / 255 * 170
    page += rng.normal(0, 5, page.shape)
    out = io.BytesIO()
    Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).save(out, format="JPEG", quality=70)
    out.seek(0)
    return out


@pytest.mark.parametrize("side", [20, 128, 300])
def test_scanned_single_digits_are_read_as_one_digit(mnist_dir, side):
    # A scanned digit fills its small box: its ink is as wide as tall, or wider (a 2, a 0), and
    # the number reader would cut it. Pictures of a digit's size are one digit; larger ones
    # are one digit when read so more surely than as a number.
    import prediction
    from digits import nets, recognise
    from digits.data.idx import read_idx
    network = nets.load_pretrained()
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)[:150]
    rng = np.random.default_rng(side)
    numbers = 0
    for pixels in images:
        picture = scanned_digit(pixels, rng, side)
        assert recognise.digit_sized(picture) == (side <= recognise.DIGIT_BOX)
        numbers += prediction.read_image(picture, network)[1] is None
    assert numbers == 0 if side <= recognise.DIGIT_BOX else numbers <= 0.08 * len(images), numbers
