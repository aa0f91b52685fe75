"""The consent rule in real Chromium: nothing analytic happens before a visitor agrees."""

import datetime as dt

import pytest

from cookie_audit.crawl import GPC_ON
from tests.conftest import (
    CONSENT_ID,
    LAYOUT_SHIFTS,
    OVERFLOWING,
    PAGE_TYPES,
    PASTED_TAG_CONFIGURED,
    Server,
    axe_violations,
    build_or_fail,
    consent_record,
    consent_value,
    layout_shift,
    tab_to,
    text,
    wait_until,
)

# The banner's words as the build renders them (pelicanconf.py overrides none).
ACCEPT, REJECT = text("accept"), text("reject")
CONSENT_COOKIE = "cloud7_consent"
WALK = ["/", "/services/", "/news/", "/privacy-policy/", "/contact/"]
CONFIRMATION = {
    True: text("accepted"),
    False: text("rejected"),
}


def accept(visitor, path="/"):
    visitor.open(path)
    visitor.click(ACCEPT)
    visitor.page.wait_for_function("document.cookie.includes('_ga=')")


def save_settings(visitor, analytics: bool) -> None:
    """Choose in the text("settings") dialog and wait for the confirmation."""
    visitor.click(text("settings"))
    visitor.page.get_by_label(text("analytics_label")).set_checked(analytics)
    visitor.click(text("save"))
    visitor.page.get_by_text(CONFIRMATION[analytics]).wait_for()


def data_layer(page) -> list[list]:
    return page.evaluate("(window.dataLayer || []).map(c => Array.from(c).slice(0, 2))")


def consent_cookie(value: str) -> dict:
    return {"name": CONSENT_COOKIE, "value": value, "domain": "www.example.test", "path": "/"}


@pytest.mark.parametrize("path", PAGE_TYPES)
def test_first_visit_sets_nothing_and_asks(visitor, path):
    visitor.open(path)
    assert visitor.banner_visible()
    for name in (ACCEPT, REJECT):
        assert visitor.page.get_by_role("button", name=name, exact=True).is_visible()
    assert visitor.context.cookies() == []
    assert visitor.storage() == []
    assert visitor.google_requests == []
    assert visitor.errors == []


def test_ignoring_the_banner_and_browsing_is_not_consent(visitor):
    for path in WALK:
        visitor.open(path)
        visitor.page.mouse.wheel(0, 2000)
        visitor.page.keyboard.press("Escape")
    assert visitor.banner_visible()
    assert visitor.context.cookies() == []
    assert visitor.google_requests == []


def test_reject_keeps_only_the_consent_cookie(visitor, revision, site):
    visitor.open("/")
    visitor.click(REJECT)
    assert text("rejected") in visitor.page.locator("#cb-banner").inner_text()
    visitor.click(text("hide"))
    assert not visitor.banner_visible()
    visitor.page.reload()
    for path in WALK:
        visitor.open(path)
        assert not visitor.banner_visible()
    cookie = visitor.cookies()[CONSENT_COOKIE]
    assert list(visitor.cookies()) == [CONSENT_COOKIE]
    record = consent_record(site, cookie["value"])
    # On the pinned day no version in force declares consent records: no receipt waits.
    assert (record["revision"], record["analytics"], record["action"]) == (revision, "0", None)
    assert cookie["path"] == "/" and cookie["sameSite"] == "Lax"
    lifetime = cookie["expires"] - dt.datetime.now().timestamp()
    assert 180 * 86400 < lifetime < 185 * 86400
    assert visitor.google_requests == []
    assert visitor.storage() == []


def test_accept_loads_analytics_with_consent_mode_in_order(visitor, revision, site):
    accept(visitor)
    assert text("accepted") in visitor.page.locator("#cb-banner").inner_text()
    assert any("/gtag/js?id=G-C7SITE2026" in url for url in visitor.google_requests)
    commands = data_layer(visitor.page)
    assert [c[0] for c in commands[:4]] == ["consent", "consent", "js", "config"]
    assert commands[0][1] == "default" and commands[1][1] == "update"
    granted = visitor.page.evaluate("Array.from(dataLayer[1])[2]")
    assert granted == {"analytics_storage": "granted"}
    denied = visitor.page.evaluate("Array.from(dataLayer[0])[2]")
    assert set(denied.values()) == {"denied"} and "ad_user_data" in denied
    ga = visitor.cookies()["_ga"]
    assert ga["domain"] == ".example.test"
    record = consent_record(site, visitor.cookies()[CONSENT_COOKIE]["value"])
    assert (record["revision"], record["analytics"], record["action"]) == (revision, "1", None)


def test_the_consent_cookie_is_secure_on_https(new_visitor, site):
    served = Server(site, tls=True)
    try:
        visitor = new_visitor(served, ignore_https_errors=True)
        visitor.open("/")
        visitor.click(REJECT)
        assert visitor.cookies()[CONSENT_COOKIE]["secure"] is True
    finally:
        served.close()


def test_accept_persists_across_navigation(visitor):
    accept(visitor)
    for path in WALK[1:]:
        before = len(visitor.google_requests)
        visitor.open(path)
        assert not visitor.banner_visible()
        visitor.page.wait_for_function("window.dataLayer && window.dataLayer.stubbed")
        assert any("/gtag/js" in url for url in visitor.google_requests[before:])


def test_withdrawal_from_cookie_settings_deletes_analytics_cookies(visitor):
    accept(visitor)
    # Every analytics cookie of the inventory, as the build hands it to consent.js ("_ga_*"
    # a wildcard), on the host and on the parent domain.
    declared = visitor.page.locator("script[data-analytics-cookies]").get_attribute(
        "data-analytics-cookies"
    )
    planted = [name.replace("*", "PLANTED") for name in declared.split()]
    visitor.context.add_cookies(
        [{"name": name, "value": "x", "url": visitor.server.url("/")} for name in planted]
        + [{"name": name, "value": "x", "domain": ".example.test", "path": "/"} for name in planted]
    )
    with visitor.page.expect_request("**/collect*"):  # this page's view is sent before we withdraw
        visitor.open("/services/")
    visitor.click(text("settings"))
    assert visitor.page.get_by_label(text("analytics_label")).is_checked()
    visitor.page.keyboard.press("Escape")
    save_settings(visitor, analytics=False)
    assert list(visitor.cookies()) == [CONSENT_COOKIE]
    sent = len(visitor.google_requests)
    visitor.page.evaluate("dataLayer.push(['event', 'after_withdrawal'])")
    for path in WALK:
        visitor.open(path)
    assert visitor.google_requests[sent:] == []
    assert list(visitor.cookies()) == [CONSENT_COOKIE]


def test_a_new_consent_revision_asks_again_and_clears_old_analytics_cookies(visitor):
    stale = {"value": "GA1.1.1.1", "domain": ".example.test", "path": "/"}
    visitor.context.add_cookies(
        [
            consent_cookie(consent_value("2022-12-08", "1")),
            {"name": "_ga", **stale},
            {"name": "_ga_C7SITE2026", **stale},
        ]
    )
    visitor.open("/")
    assert visitor.banner_visible()
    assert visitor.google_requests == []
    assert visitor.analytics_cookies() == []


def test_the_choice_expires_after_six_months(visitor):
    visitor.page.clock.install(time=dt.datetime(2026, 12, 15, 10, 0))
    visitor.open("/")
    visitor.click(REJECT)
    visitor.page.clock.set_system_time(dt.datetime(2027, 6, 1))
    visitor.open("/")
    assert not visitor.banner_visible()
    visitor.page.clock.set_system_time(dt.datetime(2027, 6, 16, 12, 0))
    visitor.open("/")
    assert visitor.banner_visible()


def test_global_privacy_control_counts_as_reject(new_visitor):
    visitor = new_visitor()
    visitor.context.add_init_script(GPC_ON)
    for path in WALK:
        visitor.open(path)
        assert not visitor.banner_visible()
    assert visitor.google_requests == [] and visitor.context.cookies() == []
    assert visitor.page.evaluate("consentBanner.choice().source") == "gpc"
    visitor.click(text("settings"))
    dialog = visitor.page.get_by_role("dialog")
    assert "Global Privacy Control" in dialog.inner_text()
    assert not visitor.page.get_by_label(text("analytics_label")).is_checked()


def test_global_privacy_control_can_be_switched_off(new_visitor, tmp_path):
    consent = {"measurement_id": "G-C7SITE2026", "honour_gpc": False}
    served = Server(build_or_fail(tmp_path / "out", CONSENT=consent))
    try:
        visitor = new_visitor(served)
        visitor.context.add_init_script(GPC_ON)
        visitor.open("/")
        assert visitor.banner_visible()
    finally:
        served.close()


NOW = int(dt.datetime.now().timestamp())  # fresh records: each refused for its flaw
FORGED = {
    "garbage": "garbage",
    "truncated": "v2.{revision}.a1",
    "oversized": "v2." + "9" * 3900,
    "future": f"v2.{{revision}}.a1.9999999999.{CONSENT_ID}.1",
    "wrong category value": f"v2.{{revision}}.a7.{NOW}.{CONSENT_ID}.1",
    "no consent ID": f"v2.{{revision}}.a1.{NOW}.1",
    "short consent ID": f"v2.{{revision}}.a1.{NOW}.0123456789abcdef.1",
    "seq 0": f"v2.{{revision}}.a1.{NOW}.{CONSENT_ID}.0",
    "unknown action": f"v2.{{revision}}.a1.{NOW}.{CONSENT_ID}.1.pforget_en_0123456789ab",
    "the earlier format, v1": f"v1.{{revision}}.a1.{NOW}",
    "json": '{"analytics":true}',
    "script": "%3Cscript%3Ealert(1)%3C/script%3E",
    "empty": "",
}


@pytest.mark.parametrize("case", FORGED)
def test_forged_consent_cookie_counts_as_no_choice(visitor, case, revision):
    visitor.context.add_cookies([consent_cookie(FORGED[case].replace("{revision}", revision))])
    visitor.open("/")
    assert visitor.banner_visible()
    assert visitor.google_requests == []
    assert visitor.errors == []
    assert visitor.page.evaluate("consentBanner.choice()") is None


def test_no_javascript_means_no_banner_and_no_analytics(new_visitor, revision):
    visitor = new_visitor(java_script_enabled=False)
    now = int(dt.datetime.now().timestamp())
    visitor.context.add_cookies([consent_cookie(consent_value(revision, "1", now))])
    for path in WALK:
        visitor.open(path)
        assert not visitor.banner_visible()
        assert not visitor.page.get_by_role("button", name=text("settings")).is_visible()
    assert visitor.google_requests == []


PAINT_PROBE = """window.bannerPainted = false;
(function check() {
  const banner = document.getElementById("cb-banner");
  if (banner && getComputedStyle(banner).display !== "none") window.bannerPainted = true;
  requestAnimationFrame(check);
})();"""


def painted_banner(visitor):
    """Whether any frame so far showed the banner, read after two more frames have run."""
    visitor.page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return visitor.page.evaluate("window.bannerPainted")


def test_a_visitor_who_chose_never_sees_the_banner_flash(new_visitor):
    visitor = new_visitor()
    visitor.context.add_init_script(PAINT_PROBE)
    visitor.open("/")
    assert painted_banner(visitor) is True  # the probe works
    visitor.click(REJECT)
    for path in WALK:
        visitor.open(path)
        assert painted_banner(visitor) is False


def test_the_banner_causes_no_layout_shift(new_visitor):
    visitor = new_visitor()
    visitor.context.add_init_script(LAYOUT_SHIFTS)
    visitor.open("/")
    assert layout_shift(visitor.page) == 0
    visitor.click(REJECT)
    visitor.click(text("hide"))
    assert layout_shift(visitor.page) == 0


def test_keyboard_only_accept_reject_and_withdraw(visitor):
    page = visitor.page
    visitor.open("/")
    tab_to(page, REJECT)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.classList.contains('cb-done')")
    assert axe_violations(page) == []
    tab_to(page, text("hide"))
    page.keyboard.press("Enter")
    assert not visitor.banner_visible()

    tab_to(page, text("settings"))
    page.keyboard.press("Enter")
    assert page.get_by_role("dialog").is_visible()
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    assert not page.get_by_role("dialog").is_visible()

    def toggle_analytics_in_settings(now_on: bool) -> None:
        tab_to(page, text("settings"))
        page.keyboard.press("Enter")
        tab_to(page, text("analytics_label"))
        page.keyboard.press("Space")
        tab_to(page, text("save"))
        page.keyboard.press("Enter")
        page.get_by_text(CONFIRMATION[now_on]).wait_for()

    toggle_analytics_in_settings(now_on=True)
    page.wait_for_function("document.cookie.includes('_ga=')")
    toggle_analytics_in_settings(now_on=False)
    assert list(visitor.cookies()) == [CONSENT_COOKIE]


def test_first_layer_is_accessible_and_buttons_are_equal(visitor):
    visitor.open("/")
    assert axe_violations(visitor.page) == []
    styles = visitor.page.evaluate(
        """[...document.querySelectorAll('[data-consent-choice]')].map(b => {
            const s = getComputedStyle(b), r = b.getBoundingClientRect();
            return [r.width, r.height, s.fontSize, s.fontWeight, s.color, s.backgroundColor];
        })"""
    )
    assert len(styles) == 2 and styles[0] == styles[1]
    banner = visitor.page.get_by_role("region", name="Cookies on Cloud 7")
    assert (
        banner.get_by_role("link", name="Read our privacy policy").get_attribute("href")
        == "/privacy-policy/"
    )


# 320 px wide, a 1280 × 720 screen zoomed to 200 %, and a desktop.
@pytest.mark.parametrize(("width", "height"), [(320, 640), (640, 360), (1280, 720)])
def test_banner_and_details_fit_small_screens(new_visitor, width, height):
    visitor = new_visitor(viewport={"width": width, "height": height})
    visitor.open("/")
    assert visitor.page.evaluate("document.documentElement.scrollWidth") <= width
    visitor.click("View cookie details")
    box = visitor.page.get_by_role("dialog").bounding_box()
    assert box["width"] <= width and box["height"] <= height
    assert axe_violations(visitor.page) == []


@pytest.mark.parametrize("width", [320, 390, 1280])
@pytest.mark.parametrize(("path", "lang"), [("/", "en"), ("/nl/", "nl")])
def test_the_details_dialog_never_scrolls_sideways(new_visitor, path, lang, width):
    visitor = new_visitor(viewport={"width": width, "height": 800})
    visitor.open(path)
    visitor.click(text("details", lang))
    assert visitor.page.evaluate(OVERFLOWING) == []
    # The whole cookie table is in view across: every cell inside the dialog's width.
    dialog = visitor.page.get_by_role("dialog").bounding_box()
    cells = visitor.page.eval_on_selector_all(
        "#cb-details td", "cs => cs.map(c => c.getBoundingClientRect().right)"
    )
    assert max(cells) <= dialog["x"] + dialog["width"]
    assert axe_violations(visitor.page) == []


BUTTON_LOOK = """b => {
  const s = getComputedStyle(b);
  return {radius: s.borderRadius, padding: s.padding, size: s.fontSize, weight: s.fontWeight,
          height: s.minHeight, border: s.borderTopWidth + " " + s.borderTopColor,
          background: s.backgroundColor, colour: s.color, transform: s.textTransform};
}"""


def look(page, selector: str) -> dict:
    return page.locator(selector).evaluate(BUTTON_LOOK)


def test_the_dialog_buttons_keep_the_banners_look_not_the_themes(visitor):
    visitor.open("/")
    page = visitor.page
    accept = look(page, "[data-consent-choice=accept]")
    reject = look(page, "[data-consent-choice=reject]")
    visitor.click(text("details"))
    save, close = look(page, "#cb-details [value=save]"), look(page, "#cb-details [value=close]")
    theme = page.evaluate(
        """() => {
        const probe = Object.assign(document.createElement("button"), {type: "submit"});
        document.querySelector("main").append(probe);
        const s = getComputedStyle(probe);
        return {radius: s.borderRadius, background: s.backgroundColor};
    }"""
    )
    assert save == accept == reject
    assert theme["radius"] != save["radius"] == "4px"
    # Close is the secondary button: an outline in the accent colour, no fill.
    assert close["background"] == "rgba(0, 0, 0, 0)"
    assert close["colour"] == save["background"]
    assert {**close, "background": save["background"], "colour": save["colour"]} == save


# A theme that styles every element the banner uses, with selectors stronger than the
# site's own theme; the banner, its dialog and the embeds must look the same under it.
# It leaves their containers alone: the page's font is the banner's by design.
HOSTILE_THEME = """
html body :is(button, button[type=submit], input, label, table, caption, th, td, h2, h3, p, a,
  code, dialog, form, div, section, img):not(:has(.cb, .cb-embed)) {
  border-radius: 999px; padding: 3rem; margin: 2rem; border: 5px dotted lime;
  background: red; color: lime; font: italic 30px/3 serif; letter-spacing: 0.5em;
  text-transform: uppercase; text-align: center; box-shadow: 0 0 9px red; width: 50%;
  display: inline-block; float: right;
}
"""
SNAPSHOT = """() => [...document.querySelectorAll('#cb, #cb *, .cb-embed, .cb-embed *')]
  .filter(e => e.getClientRects().length)
  .map(e => {
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    // An embed's size is the page's column, which the theme may change; the banner's is not.
    const size = e.closest('#cb') ? [Math.round(r.width), Math.round(r.height)] : [];
    return [e.tagName, e.className, ...size, s.borderRadius,
            s.padding, s.margin, s.border, s.backgroundColor, s.color, s.font, s.letterSpacing,
            s.textTransform, s.textAlign, s.boxShadow, s.display, s.float].join(" | ");
  })"""


@pytest.mark.parametrize("dialog", [False, True], ids=["banner", "dialog"])
def test_a_hostile_theme_stylesheet_changes_nothing_in_the_banner(visitor, dialog):
    visitor.open("/contact/")  # the banner and a map placeholder
    page = visitor.page
    if dialog:
        visitor.click(text("details"))
    before = page.evaluate(SNAPSHOT)
    page.add_style_tag(content=HOSTILE_THEME)
    after = page.evaluate(SNAPSHOT)
    assert len(before) > 20
    assert [(b, a) for b, a in zip(before, after, strict=True) if a != b] == []


def test_a_pasted_google_snippet_stays_inert_until_consent(new_visitor, pasted_output):
    served = Server(pasted_output)
    visitor = new_visitor(served)
    visitor.open("/campaign/")
    gated = visitor.page.locator('script[data-consent="analytics"]')
    assert gated.count() == 2
    assert visitor.page.locator("iframe").count() == 0
    assert visitor.google_requests == []
    assert "G-PASTED123" not in str(data_layer(visitor.page))
    visitor.click(ACCEPT)
    wait_until(visitor.page, PASTED_TAG_CONFIGURED)
    assert any("id=G-PASTED123" in url for url in visitor.google_requests)
    assert visitor.errors == []
    served.close()


# The theme's accent, as the browser computes it, beside the banner's button and link.
ACCENTS = """(() => {
  const probe = document.createElement("span");
  probe.style.color = "var(--accent)";
  document.body.append(probe);
  const theme = getComputedStyle(probe).color;
  probe.remove();
  const button = getComputedStyle(document.querySelector("#cb .cb-button"));
  const link = getComputedStyle(document.querySelector("#cb .cb-links a"));
  return [theme, button.backgroundColor, link.color];
})()"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_banner_takes_the_themes_accent(new_visitor, scheme):
    """consent.css is neutral; the theme's accent colours the banner's buttons and links."""
    visitor = new_visitor(color_scheme=scheme)
    visitor.open("/")
    theme, button, link = visitor.page.evaluate(ACCENTS)
    assert button == link == theme
    assert theme == {"light": "rgb(29, 78, 216)", "dark": "rgb(147, 197, 253)"}[scheme]
