"""Click-to-load embeds in real Chromium: nothing reaches a provider before a click."""

import time
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from pelican.plugins.consent_banner.providers import BUILT_IN

from cookie_audit.crawl import GPC_ON
from tests.conftest import (
    LAYOUT_SHIFTS,
    Server,
    axe_violations,
    build_or_fail,
    consent_record,
    headers_file,
    layout_shift,
    text,
    wait_until,
)
from tests.test_privacy_check import LOADS, embeds_content

STATES = ["no-choice", "rejected", "accepted-analytics", "gpc"]
LOADED = "document.querySelector('.cb-embed iframe') !== null"


@pytest.fixture
def new_visitor(new_visitor):
    """Tall windows: Chromium may route a click made just after a scroll to a cross-site
    iframe that was under the pointer before the scroll, so these tests avoid scrolling."""

    def make(*args, **options):
        options.setdefault("viewport", {"width": 1280, "height": 1600})
        return new_visitor(*args, **options)

    return make


@pytest.fixture(scope="module")
def embeds_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("embeds-browser")
    site = build_or_fail(root / "out", content=embeds_content(root / "content"))
    served = Server(site, headers_file(site))  # with the site's CSP, as published
    served.site = site
    yield served
    served.close()


def built_script(site) -> dict:
    doc = BeautifulSoup((site / "index.html").read_text(), "html.parser")
    return doc.find("script", attrs={"data-cookie": True}).attrs


def provider_requests(visitor, provider: str) -> list[str]:
    hosts = BUILT_IN[provider].hosts
    return [
        url
        for url in visitor.other_host_requests
        if any(urlsplit(url).hostname.endswith(h) for h in hosts)
        and "google-analytics" not in url
        and "googletagmanager" not in url
    ]


def in_state(new_visitor, server, state: str):
    visitor = new_visitor(server)
    if state == "gpc":
        visitor.context.add_init_script(GPC_ON)
    visitor.open("/")
    if state == "rejected":
        visitor.click(text("reject"))
    if state == "accepted-analytics":
        visitor.click(text("accept"))
        wait_until(visitor.page, "document.cookie.includes('_ga=')")
    return visitor


def load_button(visitor):
    return visitor.page.locator("[data-embed-load]")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("provider", list(LOADS))
def test_nothing_reaches_the_provider_before_the_click_and_the_click_loads_it(
    new_visitor, embeds_server, provider, state
):
    visitor = in_state(new_visitor, embeds_server, state)
    visitor.open(f"/media-{provider}/")
    visitor.page.reload()  # a second load: nothing is fetched ahead either
    assert provider_requests(visitor, provider) == []
    assert not visitor.page.evaluate(LOADED)
    with visitor.page.expect_request(LOADS[provider]):
        load_button(visitor).click()
    assert visitor.page.locator(".cb-embed iframe").get_attribute("src") == LOADS[provider]
    requested = provider_requests(visitor, provider)
    assert requested[0] == LOADS[provider]
    # Vimeo's embed code brings player.js, which waits for the embed; nothing else comes.
    assert set(requested) <= {LOADS[provider], "https://player.vimeo.com/api/player.js"}
    assert visitor.errors == []
    if state == "no-choice":
        assert visitor.banner_visible()  # loading one embed is no answer to the banner
        assert visitor.context.cookies() == []


def test_always_allow_persists_across_pages_and_is_withdrawn_in_cookie_settings(
    new_visitor, embeds_server
):
    visitor = new_visitor(embeds_server)
    visitor.open("/media-youtube/")
    visitor.click(text("embed_always", provider="YouTube"))
    wait_until(visitor.page, LOADED)
    assert visitor.page.evaluate("document.activeElement.tagName") == "IFRAME"
    assert visitor.banner_visible()  # analytics is a separate choice, still unanswered
    assert [u for u in visitor.other_host_requests if "googletagmanager" in u] == []
    for path in ("/news/watch-the-recording-of-our-managed-kubernetes-webinar/", "/media-youtube/"):
        visitor.open(path)
        wait_until(visitor.page, LOADED)  # no click this time
    visitor.page.reload()
    wait_until(visitor.page, LOADED)
    visitor.open("/media-vimeo/")  # another provider still asks
    assert not visitor.page.evaluate(LOADED)

    visitor.open("/media-youtube/")
    visitor.click(text("settings"))
    switch = visitor.page.get_by_label(text("embed_always", provider="YouTube"), exact=True)
    assert switch.is_checked(), (visitor.cookies(), visitor.errors)
    switch.set_checked(False)
    visitor.click(text("save"))
    visitor.page.get_by_text(text("rejected")).wait_for()
    assert not visitor.page.evaluate(LOADED)  # gone from the page at once
    before = len(visitor.other_host_requests)
    visitor.page.reload()
    assert not visitor.page.evaluate(LOADED)
    assert provider_requests(visitor, "youtube")[before:] == []


def test_accepting_analytics_allows_no_embed(new_visitor, embeds_server):
    visitor = in_state(new_visitor, embeds_server, "accepted-analytics")
    for provider in LOADS:
        visitor.open(f"/media-{provider}/")
        assert not visitor.page.evaluate(LOADED)
        assert provider_requests(visitor, provider) == []


def test_with_gpc_nothing_is_allowed_always(new_visitor, embeds_server):
    visitor = in_state(new_visitor, embeds_server, "gpc")
    visitor.open("/media-youtube/")
    assert not visitor.page.get_by_role(
        "button", name=text("embed_always", provider="YouTube")
    ).is_visible()
    visitor.click(text("settings"))
    assert visitor.page.get_by_label(
        text("embed_always", provider="YouTube"), exact=True
    ).is_disabled()
    visitor.page.keyboard.press("Escape")
    load_button(visitor).click()
    wait_until(visitor.page, LOADED)
    visitor.page.reload()
    assert not visitor.page.evaluate(LOADED)


def test_rejecting_everything_leaves_placeholders_usable_one_at_a_time(new_visitor, embeds_server):
    visitor = in_state(new_visitor, embeds_server, "rejected")
    visitor.open("/media-google-maps/")
    visitor.click("Load map: Google Maps")
    wait_until(visitor.page, LOADED)
    record = consent_record(embeds_server.site, visitor.cookies()["cloud7_consent"]["value"])
    assert record["analytics"] == "0" and record["embeds"] is None


def test_without_javascript_the_link_to_the_provider_works(new_visitor, embeds_server):
    visitor = new_visitor(embeds_server, java_script_enabled=False)
    visitor.open("/media-youtube/")
    assert not load_button(visitor).is_visible()
    link = visitor.page.get_by_role("link", name=text("embed_link", provider="YouTube"))
    assert link.get_attribute("href") == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    link.click()
    visitor.page.wait_for_url("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    assert visitor.other_host_requests == ["https://www.youtube.com/watch?v=dQw4w9WgXcQ"]


@pytest.mark.parametrize("provider", list(LOADS))
def test_loading_an_embed_shifts_nothing(new_visitor, embeds_server, provider):
    visitor = new_visitor(embeds_server)
    visitor.context.add_init_script(LAYOUT_SHIFTS)
    visitor.open(f"/media-{provider}/")
    assert layout_shift(visitor.page) == 0  # the buttons showing move nothing
    placeholder = visitor.page.locator(".cb-embed")
    after = visitor.page.get_by_text("After.", exact=True)
    load_button(visitor).scroll_into_view_if_needed()
    box, below = placeholder.bounding_box(), after.bounding_box()
    load_button(visitor).click()
    visitor.page.locator(".cb-embed iframe").wait_for()
    assert placeholder.bounding_box() == box and after.bounding_box() == below
    frame = visitor.page.locator(".cb-embed iframe").bounding_box()
    assert (frame["width"], frame["height"]) == (box["width"] - 2, box["height"] - 2)
    ratio = {"youtube": 315 / 560, "vimeo": 0.5625, "google-maps": 450 / 600}[provider]
    assert abs((box["height"] - 2) / (box["width"] - 2) - ratio) < 0.02


def test_an_always_allowed_embed_loads_without_shifting_the_page(new_visitor, embeds_server):
    visitor = new_visitor(embeds_server)
    visitor.context.add_init_script(LAYOUT_SHIFTS)
    visitor.open("/media-vimeo/")
    visitor.click(text("embed_always", provider="Vimeo"))
    visitor.page.reload()
    wait_until(visitor.page, LOADED)
    assert layout_shift(visitor.page) == 0


def test_the_placeholder_works_by_keyboard_and_is_accessible(new_visitor, embeds_server):
    visitor = new_visitor(embeds_server, viewport={"width": 320, "height": 640})
    visitor.open("/media-youtube/")
    visitor.click(text("reject"))
    visitor.click(text("hide"))
    assert axe_violations(visitor.page) == []
    region = visitor.page.get_by_role("region", name="Cloud 7 product tour")
    assert region.is_visible()
    button = region.get_by_role("button", name="Load video: Cloud 7 product tour")
    for _ in range(40):
        visitor.page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    visitor.page.keyboard.press("Enter")
    wait_until(visitor.page, LOADED)
    assert visitor.page.evaluate("document.activeElement.tagName") == "IFRAME"
    assert visitor.page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(visitor.page, iframes=False) == []


def test_a_choice_stored_in_the_earlier_record_format_asks_again(new_visitor, embeds_server):
    """A version 1 record has no consent ID, so no receipt can name it: asked again."""
    revision = built_script(embeds_server.site)["data-revision"]
    for embeds in ("", ".eyoutube"):
        visitor = new_visitor(embeds_server)
        value = f"v1.{revision}.a1.{int(time.time()) - 3600}{embeds}"
        visitor.context.add_cookies(
            [{"name": "cloud7_consent", "value": value, "url": embeds_server.url("/")}]
        )
        visitor.open("/media-youtube/")
        assert visitor.banner_visible()
        assert visitor.page.evaluate("consentBanner.choice()") is None
        assert not visitor.page.evaluate(LOADED)
