"""The web page in a real browser: headless Chromium, driven through chromedriver by Selenium,
drawing with the mouse and with a finger (W3C pointer actions) against a real waitress server.

Set WEB_SCREENSHOT=docs/web.png to also save the screenshot of a recognised digit there (the
README's picture); otherwise it goes to the test's temporary folder only.
"""
import os
import shutil
import threading

import numpy as np
import pytest

from digits import nets
from digits.data import pendigits
from digits.errors import PendigitsError
from digits.imaging.strokes import CANVAS_HEIGHT, CANVAS_WIDTH, fit_to_canvas

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="the browser tests need Debian's chromium and chromedriver "
                                       "(apt-get install chromium chromium-driver)")

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install -r requirements.txt)")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.actions import interaction  # noqa: E402
from selenium.webdriver.common.actions.action_builder import ActionBuilder  # noqa: E402
from selenium.webdriver.common.actions.pointer_input import PointerInput  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

SEVEN = [(100, 45), (255, 45), (145, 255)]          # corners, canvas pixels
SCREENSHOT = os.environ.get("WEB_SCREENSHOT")
DESKTOP = (1000, 600)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a real waitress server on 127.0.0.1, a free port, in a thread: (its address,
    its networks). It offers the pretrained networks and a small random MLP standing in for "yours"."""
    import waitress

    from digits.web import create_app
    yours = tmp_path_factory.mktemp("weights")
    nets.MLP.random(25, np.random.default_rng(0)).save(yours)
    app = create_app(nets.choices(trained_dir=str(yours)))
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}/", app.extensions["digits.networks"]
    server.task_dispatcher.shutdown()
    server.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
                     "--window-size=1200,900", "--hide-scrollbars"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})     # the page's console
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def emulate(driver, width, height, ratio=1, touch=False):
    """A window of width x height CSS pixels (a phone's, with touch, or a desktop's)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": ratio, "mobile": touch})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": touch, "maxTouchPoints": 5})


@pytest.fixture
def page(browser, server):
    """The page, freshly loaded in a desktop-sized window, once it has the list of networks."""
    emulate(browser, *DESKTOP)
    browser.get(server[0])
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.body.dataset.ready"))
    return browser


def polyline(corners, step=6):
    """Points every `step` canvas pixels along the lines between `corners`."""
    out = []
    for (ax, ay), (bx, by) in zip(corners[:-1], corners[1:]):
        n = max(1, int(np.hypot(bx - ax, by - ay) / step))
        out += [(ax + t * (bx - ax), ay + t * (by - ay)) for t in np.linspace(0, 1, n, endpoint=False)]
    return [*out, corners[-1]]


def draw(driver, strokes, kind=interaction.POINTER_MOUSE):
    """Draw strokes (canvas pixels) on the page's canvas with the mouse or a finger, whatever
    size the canvas is shown at."""
    pad = driver.find_element(By.ID, "pad")
    rect = pad.rect
    sx, sy = rect["width"] / CANVAS_WIDTH, rect["height"] / CANVAS_HEIGHT
    driver.execute_script("if (!window.pointerTypes) arguments[0].addEventListener("
                          "'pointerdown', e => window.pointerTypes.push(e.pointerType));"
                          "window.pointerTypes = [];", pad)
    actions = ActionBuilder(driver, mouse=PointerInput(kind, "finger" if kind == interaction.POINTER_TOUCH
                                                       else "mouse"), duration=0)

    def to(x, y):       # offsets from the canvas's centre, in CSS pixels
        return round((x - CANVAS_WIDTH / 2) * sx), round((y - CANVAS_HEIGHT / 2) * sy)

    for stroke in strokes:
        actions.pointer_action.move_to(pad, *to(*stroke[0])).pointer_down()
        for x, y in stroke[1:]:
            actions.pointer_action.move_to(pad, *to(x, y))
        actions.pointer_action.pointer_up()
    actions.perform()
    assert driver.execute_script("return pointerTypes") == [kind] * len(strokes)    # real pointer events


def shown(driver):
    return driver.find_element(By.ID, "digit").text, driver.find_element(By.ID, "message").text


def wait_for_digit(driver, expected=None):
    WebDriverWait(driver, 10).until(lambda d: shown(d)[0] != "" or "Not" in shown(d)[1] or "error" in shown(d)[1])
    digit, message = shown(driver)
    if expected is not None:
        assert digit == str(expected), message
    return digit, message


def canvas_ink(driver, element_id):
    """The sum of the red channel of a canvas: 0 when it is all black."""
    return driver.execute_script(
        "const c = document.getElementById(arguments[0]);"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s;", element_id)


def bar_heights(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#bars .bar')).map("
        "b => b.getBoundingClientRect().height / b.parentElement.getBoundingClientRect().height)")


def winner_bars(driver):
    return [i for i, bar in enumerate(driver.find_elements(By.CSS_SELECTOR, "#bars .bar"))
            if "winner" in bar.get_attribute("class")]


def pen_digit(label):
    """A real pen-written digit (writers 16-30), on the canvas; None without the data."""
    try:
        digits = pendigits.load()
    except PendigitsError:
        return None
    d = next(d for d in digits if d.writer > 15 and d.label == label)
    return fit_to_canvas(d.strokes, CANVAS_WIDTH, CANVAS_HEIGHT, np.random.default_rng(5), size_range=(0.7, 0.72))


# Tests ---------------------------------------------------------------------------------------

def default_network(server):
    networks = server[1]
    return networks.loaded[networks.default][1].describe()


def test_mouse_drawing_is_read_and_shown_then_cleared(page, server, tmp_path):
    assert shown(page) == ("", "Write a digit to begin.") and canvas_ink(page, "input") == 0
    draw(page, [polyline(SEVEN)])
    wait_for_digit(page, 7)
    assert shown(page)[1].startswith("It is a 7")
    heights = bar_heights(page)
    assert len(heights) == 10 and np.argmax(heights) == 7 and heights[7] > 0.5 and winner_bars(page) == [7]
    assert "7: " in page.find_element(By.ID, "bars").get_attribute("aria-label")
    assert canvas_ink(page, "input") > 0 and canvas_ink(page, "pad") > 0
    line = page.find_element(By.ID, "network")      # a name for people; the architecture in its tooltip
    assert line.text == "Read by the pretrained committee of networks."
    assert line.get_attribute("title") == default_network(server)
    page.save_screenshot(str(tmp_path / "web.png"))

    page.find_element(By.ID, "clear").click()
    assert shown(page) == ("", "Write a digit to begin.")
    assert canvas_ink(page, "pad") == 0 and canvas_ink(page, "input") == 0 and max(bar_heights(page)) < 0.01

    draw(page, [polyline(SEVEN)])
    wait_for_digit(page, 7)
    ActionChains(page).send_keys(Keys.ESCAPE).perform()        # Escape clears too
    assert shown(page)[0] == "" and canvas_ink(page, "pad") == 0
    # Nothing went wrong on the page: no script error, nothing the security policy blocked.
    problems = [entry["message"] for entry in page.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")
                and "willReadFrequently" not in entry["message"]]     # that one: this test reading the canvases
    assert problems == [], "\n".join(problems)


def test_the_network_can_be_switched(page, server):
    select = Select(page.find_element(By.ID, "model"))
    labels = [option.text for option in select.options]
    assert labels == [choice.label for choice, _ in server[1].loaded.values()] and labels[-1].startswith("your tutorial network")
    assert select.first_selected_option.text == labels[0] and select.first_selected_option.is_enabled()
    draw(page, [polyline(SEVEN)])
    wait_for_digit(page, 7)
    assert page.find_element(By.ID, "model").get_attribute("title") == default_network(server)   # architecture
    select.select_by_index(len(labels) - 1)     # the drawing is read again, by the other network
    WebDriverWait(page, 10).until(lambda d: d.find_element(By.ID, "network").get_attribute("title") == "MLP 784-25-10")
    assert page.find_element(By.ID, "network").text == f"Read by the {labels[-1]}."
    assert page.find_element(By.ID, "model").get_attribute("title") == "MLP 784-25-10"
    select.select_by_index(0)
    WebDriverWait(page, 10).until(lambda d: d.find_element(By.ID, "network").get_attribute("title")
                                  == default_network(server))
    assert shown(page)[0] == "7"


def test_a_real_pen_digit_is_read_and_pictured(page, tmp_path):
    strokes = pen_digit(5)
    if strokes is None:
        strokes, label = [polyline(SEVEN)], 7
    else:
        label = 5
    draw(page, [np.asarray(s).tolist() for s in strokes])
    wait_for_digit(page, label)
    path = SCREENSHOT or str(tmp_path / "web.png")
    page.save_screenshot(path)
    assert os.path.getsize(path) > 10_000


@pytest.mark.parametrize("width, height", [(390, 844), (320, 640)])
def test_finger_drawing_on_a_phone_screen(page, width, height):
    emulate(page, width, height, ratio=3, touch=True)
    page.refresh()
    WebDriverWait(page, 10).until(lambda d: d.execute_script("return document.body.dataset.ready"))
    pad = page.find_element(By.ID, "pad")
    # The canvas fits the screen (scaled down on a narrow one), and nothing sticks out sideways.
    assert pad.rect["width"] <= width - 16 and abs(pad.rect["width"] / pad.rect["height"] - 350 / 290) < 0.01
    assert page.execute_script("return document.documentElement.scrollWidth") <= width
    assert page.execute_script("return getComputedStyle(arguments[0]).touchAction", pad) == "none"
    draw(page, [polyline(SEVEN)], kind=interaction.POINTER_TOUCH)
    wait_for_digit(page, 7)
    # A downward swipe on the canvas drew: it did not scroll the page.
    assert page.execute_script("return window.scrollY") == 0
    assert canvas_ink(page, "input") > 0 and winner_bars(page) == [7]
    page.find_element(By.ID, "clear").click()
    assert shown(page)[0] == "" and canvas_ink(page, "pad") == 0


# Another web site the user visits cannot make the server work (issue 17, case 2) -----------------

@pytest.fixture(scope="module")
def other_site(tmp_path_factory):
    """A plain page (no Content-Security-Policy) served from another origin: http://localhost:PORT."""
    import functools
    import http.server
    folder = tmp_path_factory.mktemp("other-site")
    (folder / "index.html").write_text("<!doctype html><title>another site</title><p>hello</p>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://localhost:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


POST_FROM_PAGE = """
const [url, type, png64, done] = arguments;      // Selenium's callback comes last
const png = Uint8Array.from(atob(png64), c => c.charCodeAt(0));
fetch(url, {method: "POST", mode: "no-cors", headers: type ? {"Content-Type": type} : {}, body: png})
  .then(r => done(r.type + " " + r.status), e => done("failed: " + e));
"""


def test_another_site_cannot_make_the_server_read_images(browser, server, other_site, monkeypatch):
    import base64
    import io

    from PIL import Image

    from digits import recognise
    read, calls = recognise.read_file, []
    monkeypatch.setattr(recognise, "read_file", lambda *a, **k: calls.append(1) or read(*a, **k))
    drawn = Image.new("L", (120, 120), 0)
    drawn.paste(255, (40, 20, 80, 100))
    out = io.BytesIO()
    drawn.save(out, format="PNG")
    png = base64.b64encode(out.getvalue()).decode()
    api = server[0].replace("localhost", "127.0.0.1") + "api/predict-image"
    browser.get(other_site)
    for content_type in ("text/plain", "image/png", None):      # a simple type needs no permission
        said = browser.execute_async_script(POST_FROM_PAGE, api, content_type, png)
        assert said.startswith(("opaque", "failed")), said
    assert calls == []          # refused before any reading: 403 from its Origin and Sec-Fetch-Site
    browser.get(server[0])      # the page itself may
    said = browser.execute_async_script(POST_FROM_PAGE.replace('mode: "no-cors", ', ""), api, "image/png", png)
    assert said == "basic 200" and calls == [1]
