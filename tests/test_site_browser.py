"""Every page type in real Chromium: loads cleanly, stays on our host, passes axe."""

import pytest
from conftest import DUTCH_PAGES, PAGE_TYPES, axe_violations, text


@pytest.mark.parametrize("path", [*PAGE_TYPES, *DUTCH_PAGES])
def test_page_loads_cleanly_from_our_host_only(visitor, path):
    response = visitor.open(path)
    assert response.ok, f"{path}: HTTP {response.status}"
    assert visitor.errors == []
    assert visitor.failed_requests == []
    assert visitor.foreign_requests == []
    assert visitor.google_requests == []


@pytest.mark.parametrize("path", [*PAGE_TYPES, *DUTCH_PAGES])
def test_page_has_no_accessibility_violation(visitor, path):
    visitor.open(path)
    assert axe_violations(visitor.page) == []


@pytest.mark.parametrize(
    "path",
    ["/", "/services/", "/contact/", "/news/", "/privacy-policy/2026-12-01/changes/", "/nl/"],
)
def test_dark_mode_has_no_accessibility_violation(new_visitor, path):
    visitor = new_visitor(color_scheme="dark")
    visitor.open(path)
    assert axe_violations(visitor.page) == []
    visitor.click(text("details", "nl" if path.startswith("/nl/") else "en"))
    assert axe_violations(visitor.page) == []


def test_pages_read_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url("/privacy-policy/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Privacy Policy"
    assert not page.locator("#c7c-banner").is_visible()
    context.close()


@pytest.mark.parametrize("path", [*PAGE_TYPES, "/about/", *DUTCH_PAGES])
def test_nothing_is_wider_than_a_320_pixel_screen(new_visitor, path):
    visitor = new_visitor(viewport={"width": 320, "height": 640})
    visitor.open(path)
    assert visitor.page.evaluate("document.documentElement.scrollWidth") <= 320
