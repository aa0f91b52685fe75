"""The language switch in Chromium: by keyboard to the same page in the other edition."""

from pelicanconf import LANGUAGES
from tests.conftest import axe_violations, tab_to


def test_the_switch_works_by_keyboard_both_ways(visitor):
    page = visitor.page
    visitor.open("/services/")
    tab_to(page, LANGUAGES["nl"])
    assert page.evaluate("document.activeElement.lang") == "nl"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/nl/services/")
    assert page.evaluate("document.documentElement.lang") == "nl"
    tab_to(page, LANGUAGES["en"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/services/") and "/nl/" not in page.url
    assert visitor.errors == []


def test_the_switch_is_a_named_link_in_the_main_navigation(visitor):
    visitor.open("/nl/contact/")
    navigation = visitor.page.get_by_role("navigation", name="Hoofdmenu")
    link = navigation.get_by_role("link", name=LANGUAGES["en"], exact=True)
    assert link.get_attribute("hreflang") == "en"
    assert link.is_visible()
    assert axe_violations(visitor.page) == []


def test_the_switch_fits_a_320_pixel_screen(new_visitor):
    visitor = new_visitor(viewport={"width": 320, "height": 640})
    visitor.open("/nl/")
    box = visitor.page.get_by_role("link", name=LANGUAGES["en"], exact=True).bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320
