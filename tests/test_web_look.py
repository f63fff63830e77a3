"""How the page looks, in a real browser (headless Chromium): a phone held sideways, the light
and dark themes with control outlines of at least 3:1 contrast, and forced-colours mode."""
import re

import pytest

from test_web_browser import DESKTOP, SEVEN, browser, draw, emulate, polyline, server, wait_for_digit  # noqa: F401

from selenium.webdriver.common.actions import interaction  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def open_page(driver, address, size=DESKTOP, touch=False, media=()):
    emulate(driver, *size, touch=touch)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": name, "value": value} for name, value in media]})
    driver.get(address)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.body.dataset.ready"))
    return driver


@pytest.fixture
def plain(browser):     # noqa: F811
    """The browser, its emulated media features reset afterwards."""
    yield browser
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def rgb(css):
    """'rgb(1, 2, 3)' or 'rgba(1, 2, 3, 1)' -> (1, 2, 3)."""
    return tuple(int(v) for v in re.findall(r"[\d.]+", css)[:3])


def luminance(colour):
    def linear(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = map(linear, colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    """WCAG contrast ratio of two colours."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def style(driver, element, name):
    return driver.execute_script("return getComputedStyle(arguments[0])[arguments[1]]", element, name)


@pytest.mark.parametrize("width, height", [(844, 390), (667, 375)])
def test_a_phone_held_sideways_shows_the_whole_canvas_and_clear(plain, server, width, height):    # noqa: F811
    page = open_page(plain, server[0], (width, height), touch=True)
    pad, clear = page.find_element(By.ID, "pad"), page.find_element(By.ID, "clear")
    # The canvas fits the height, using most of it, at its shape; Clear is on screen below it.
    assert 0 <= pad.rect["y"] and pad.rect["y"] + pad.rect["height"] <= height
    assert pad.rect["height"] >= 0.7 * height and abs(pad.rect["width"] / pad.rect["height"] - 350 / 290) < 0.01
    assert clear.rect["y"] + clear.rect["height"] <= height and clear.is_displayed()
    assert page.execute_script("return document.documentElement.scrollWidth") <= width
    # The answer sits beside the canvas, on screen too.
    digit = page.find_element(By.ID, "digit")
    assert digit.rect["x"] >= pad.rect["x"] + pad.rect["width"] and digit.rect["y"] < height
    draw(page, [polyline(SEVEN)], kind=interaction.POINTER_TOUCH)
    wait_for_digit(page, 7)
    clear.click()
    assert page.find_element(By.ID, "digit").text == ""


@pytest.mark.parametrize("scheme, dark", [("dark", True), ("light", False)])
def test_themes_follow_the_system_and_outlines_stand_out(plain, server, scheme, dark):   # noqa: F811
    page = open_page(plain, server[0], media=[("prefers-color-scheme", scheme)])
    page_colour = rgb(style(page, page.find_element(By.TAG_NAME, "body"), "backgroundColor"))
    assert (luminance(page_colour) < 0.1) == dark
    for element in (page.find_element(By.ID, "clear"), page.find_element(By.ID, "model")):
        outline = rgb(style(page, element, "borderTopColor"))
        own = rgb(style(page, element, "backgroundColor"))
        assert contrast(outline, page_colour) >= 3 and contrast(outline, own) >= 3, (scheme, outline)
        assert contrast(rgb(style(page, element, "color")), own) >= 4.5
    draw(page, [polyline(SEVEN)])
    wait_for_digit(page, 7)
    winner = page.find_element(By.CSS_SELECTOR, "#bars .bar.winner")
    assert contrast(rgb(style(page, winner, "backgroundColor")), page_colour) >= 3


def test_forced_colours_keep_the_bars_visible(plain, server):     # noqa: F811
    page = open_page(plain, server[0], media=[("forced-colors", "active")])
    assert page.execute_script("return matchMedia('(forced-colors: active)').matches")
    draw(page, [polyline(SEVEN)])
    wait_for_digit(page, 7)
    background = rgb(style(page, page.find_element(By.TAG_NAME, "body"), "backgroundColor"))
    bars = page.find_elements(By.CSS_SELECTOR, "#bars .bar")
    colours = [rgb(style(page, bar, "backgroundColor")) for bar in bars]
    assert all(contrast(colour, background) >= 3 for colour in colours)     # each bar shows
    assert colours[7] != colours[0]                                         # and the winner stands out
