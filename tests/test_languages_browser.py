"""In Chromium: the Dutch edition's banner speaks Dutch, and one choice holds in both."""

import re

import pytest

from tests.conftest import axe_violations, html_pages, text

SITE = "Cloud 7"


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_built_page_has_the_banner_of_its_language(site, lang):
    """The build: each page's banner in the language its <html lang> declares."""
    pages = [p for p in html_pages(site) if f'<html lang="{lang}"' in p.read_text(encoding="utf-8")]
    assert len(pages) >= (5 if lang == "nl" else 20)
    accept = f'data-consent-choice="accept">{text("accept", lang)}</button>'
    settings = f"data-consent-open>{text('settings', lang)}</button>"
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert accept in html and settings in html, page


def test_a_dutch_page_asks_in_dutch_and_says_the_policy_is_in_english(visitor):
    visitor.open("/nl/")
    assert visitor.banner_visible()
    banner = visitor.page.locator("#cb-banner")
    assert banner.get_by_role("heading").inner_text() == text("title", "nl", site=SITE)
    for name in ("accept", "reject", "details"):
        assert banner.get_by_role("button", name=text(name, "nl"), exact=True).is_visible()
    policy = banner.get_by_role("link", name=text("policy_link", "nl"))
    assert policy.get_attribute("hreflang") == "en"
    assert re.search(r"/privacy-policy/$", policy.get_attribute("href"))
    assert "(in het Engels)" in banner.inner_text()
    assert visitor.context.cookies() == [] and visitor.other_host_requests == []


def test_a_choice_made_in_english_holds_on_dutch_pages(visitor):
    visitor.open("/")
    visitor.click(text("reject"))
    visitor.open("/nl/")
    assert not visitor.banner_visible()
    visitor.click(text("settings", "nl"))
    assert not visitor.page.get_by_label(text("analytics_label", "nl")).is_checked()
    assert visitor.google_requests == []


def test_accepting_in_dutch_counts_on_english_pages(visitor):
    visitor.open("/nl/contact/")
    visitor.click(text("accept", "nl"))
    visitor.page.get_by_text(text("accepted", "nl")).wait_for()
    visitor.page.wait_for_function("document.cookie.includes('_ga=')")
    visitor.open("/services/")
    assert not visitor.banner_visible()
    assert "_ga" in visitor.cookies()


def test_the_dutch_banner_dialog_and_map_placeholder_are_accessible(visitor):
    visitor.open("/nl/contact/")
    placeholder = visitor.page.locator("section[data-embed=google-maps]")
    verb = text("embed_always", "nl", provider="Google Maps")
    assert placeholder.get_by_role("button", name=verb).is_visible()
    assert placeholder.get_by_role("button", name=re.compile(r"^Kaart laden: ")).is_visible()
    assert axe_violations(visitor.page) == []
    visitor.click(text("details", "nl"))
    dialog = visitor.page.get_by_role("dialog")
    assert dialog.get_by_role("heading", level=2).inner_text() == text("details_title", "nl")
    assert dialog.get_by_text("Onderscheidt bezoeken van verschillende mensen").is_visible()
    assert axe_violations(visitor.page) == []
    assert visitor.other_host_requests == []
