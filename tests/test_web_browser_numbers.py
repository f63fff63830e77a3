"""The web page reading a whole number in a real browser (headless Chromium through Selenium,
against a real waitress server): boxes, a button per digit, Ctrl-Z, and the same number as the
API for the strokes the page sent. The browser, the server and the drawing come from
tests/test_web_browser.py."""
import json
import urllib.request

import pytest

from test_web_browser import browser, draw, page, polyline, server, shown  # noqa: F401 (fixtures)

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install -r requirements.txt)")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ONE = [(60, 75), (70, 60), (72, 230)]
SEVEN = [(130, 60), (240, 60), (170, 230)]


def box_pixels(driver):
    """How many pixels of the drawing canvas have the boxes' amber colour."""
    return driver.execute_script(
        "const c = document.getElementById('pad');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 140 && d[i + 1] < 200"
        " && d[i + 2] < 60) n++; return n;")


def wait_for(driver, number):
    WebDriverWait(driver, 10).until(lambda d: shown(d)[0] == number)


def test_a_number_is_read_boxed_and_its_digits_picked(page, server):
    draw(page, [polyline(ONE), polyline(SEVEN)])
    wait_for(page, "17")
    assert shown(page)[1].startswith("It reads 17")
    buttons = page.find_elements(By.CSS_SELECTOR, "#digits button")
    assert [b.text.split()[0] for b in buttons] == ["1", "7"]
    assert box_pixels(page) > 100
    buttons[0].click()
    assert "Digit 1:" in shown(page)[1] and buttons[0].get_attribute("aria-pressed") == "true"
    assert [i for i, bar in enumerate(page.find_elements(By.CSS_SELECTOR, "#bars .bar"))
            if "winner" in bar.get_attribute("class")] == [1]

    # The API reads the strokes the page sent as the same number, with the same boxes.
    sent = page.find_element(By.ID, "pad").get_attribute("data-sent")
    request = urllib.request.Request(server[0] + "api/read", data=sent.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    assert body["number"] == "17"

    ActionChains(page).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
    wait_for(page, "1")
    assert page.find_elements(By.CSS_SELECTOR, "#digits button") == [] and box_pixels(page) == 0
    page.find_element(By.ID, "undo").click()
    WebDriverWait(page, 10).until(lambda d: shown(d) == ("", "Write a digit to begin."))


def test_one_digit_is_shown_as_before(page):
    draw(page, [polyline(SEVEN)])
    wait_for(page, "7")
    assert shown(page)[1].startswith("It is a 7") and page.find_elements(By.CSS_SELECTOR, "#digits button") == []
