"""The page's "That was a ..." buttons in a real browser (headless Chromium), against a real
waitress server that keeps samples; and the page when the server cannot be reached."""
import threading

import pytest

from test_web_browser import (DESKTOP, SEVEN, browser, canvas_ink, draw, emulate, polyline, server,  # noqa: F401
                              shown, wait_for_digit)

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from digits.samples import SampleStore  # noqa: E402


@pytest.fixture(scope="module")
def teaching_server(tmp_path_factory, server):     # noqa: F811 (the fixture imported above)
    """The app with a samples file, on a real waitress server: (address, store)."""
    import waitress

    from digits.web import app as web_app
    store = SampleStore(tmp_path_factory.mktemp("samples") / "samples.sqlite")
    networks = server[1]
    original, web_app.Networks = web_app.Networks, lambda choices, default: networks   # loaded once
    try:
        app = web_app.create_app(samples=store)
    finally:
        web_app.Networks = original
    http = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=http.run, daemon=True).start()
    yield f"http://127.0.0.1:{http.effective_port}/", store
    http.task_dispatcher.shutdown()
    http.close()


def load(driver, address):
    emulate(driver, *DESKTOP)
    driver.get(address)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.body.dataset.ready"))
    return driver


def kept_line(driver):
    return driver.find_element(By.ID, "kept").text


def test_a_wrong_reading_is_corrected_and_a_right_one_confirmed(browser, teaching_server):   # noqa: F811
    address, store = teaching_server
    page = load(browser, address)
    teach = page.find_element(By.ID, "teach")
    assert not teach.is_displayed()                 # nothing read yet
    draw(page, [polyline(SEVEN)])
    wait_for_digit(page, 7)
    assert teach.is_displayed()
    buttons = teach.find_elements(By.CSS_SELECTOR, "button[data-label]")
    assert [b.text for b in buttons] == [str(d) for d in range(10)]
    assert ["read" in b.get_attribute("class") for b in buttons] == [d == 7 for d in range(10)]
    before = store.count()

    buttons[1].click()                              # "No, it was a 1"
    WebDriverWait(page, 10).until(lambda d: kept_line(d).startswith("Kept as a 1"))
    assert kept_line(page) == "Kept as a 1: 1 sample of 1 so far. Thank you: write another."
    assert shown(page) == ("", "Write a digit to begin.") and canvas_ink(page, "pad") == 0
    assert not teach.is_displayed()
    row = store.rows()[-1]
    assert (row["label"], row["answer"], row["source"]) == (1, 7, "correction") and store.count() == before + 1

    draw(page, [polyline(SEVEN)])                   # a new stroke wipes the thank-you
    wait_for_digit(page, 7)
    assert kept_line(page) == ""
    ActionChains(page).send_keys("7").perform()     # the keyboard's 7: "yes, a 7"
    WebDriverWait(page, 10).until(lambda d: kept_line(d).startswith("Kept as a 7"))
    row = store.rows()[-1]
    assert (row["label"], row["answer"], row["source"]) == (7, 7, "confirmed") and store.count() == before + 2
    assert len(row["strokes"]) == 1 and (row["width"], row["height"]) == (350, 290)


def test_without_a_samples_file_the_page_offers_no_buttons(browser, server):    # noqa: F811
    page = load(browser, server[0])
    draw(page, [polyline(SEVEN)])
    wait_for_digit(page, 7)
    assert not page.find_element(By.ID, "teach").is_displayed()
    ActionChains(page).send_keys("1").perform()     # the digit keys do nothing then
    assert kept_line(page) == "" and shown(page)[0] == "7"


def test_when_the_server_cannot_be_reached_the_old_answer_goes(browser, server):    # noqa: F811
    page = load(browser, server[0])
    draw(page, [polyline(SEVEN)])
    wait_for_digit(page, 7)
    assert canvas_ink(page, "input") > 0
    page.execute_cdp_cmd("Network.enable", {})
    page.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/*"]})
    try:
        draw(page, [[(60, 150), (90, 150)]])         # one more stroke: its reading fails
        WebDriverWait(page, 10).until(lambda d: "Cannot reach the server" in shown(d)[1])
        assert shown(page)[0] == "" and canvas_ink(page, "input") == 0
        heights = page.execute_script("return Array.from(document.querySelectorAll('#bars .bar'))"
                                      ".map(b => b.getBoundingClientRect().height)")
        assert max(heights) < 1
        assert canvas_ink(page, "pad") > 0          # the drawing itself stays
    finally:
        page.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
