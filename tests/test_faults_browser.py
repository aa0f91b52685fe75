"""Hostile input and a hostile browser: the page keeps working and stays private."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import consent_value, text

ACCEPT = text("accept")


def record_check(visitor, value: str):
    """Store `value` as the consent cookie and ask the page what choice it sees."""
    return visitor.page.evaluate(
        """value => {
            document.cookie = "cloud7_consent=; Max-Age=0; Path=/";
            document.cookie = "cloud7_consent=" + value + "; Path=/";
            return consentBanner.choice();
        }""",
        value,
    )


def test_any_consent_cookie_is_a_valid_choice_or_none(visitor, revision):
    visitor.open("/")

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(max_size=300))
    def arbitrary(value):
        choice = record_check(visitor, value)
        assert choice is None or (choice["revision"] == revision and choice["analytics"] in (0, 1))

    arbitrary()
    assert visitor.errors == []


def test_structured_records_are_valid_exactly_when_fresh_and_current(visitor, revision):
    now = dt.datetime(2026, 12, 15, 10, 0, tzinfo=dt.UTC)
    visitor.page.clock.set_fixed_time(now)  # the page's clock stands still: limits are exact
    visitor.open("/")
    lifetime = int(visitor.page.get_attribute("script[data-max-age]", "data-max-age"))
    limits = [-61, -60, 0, lifetime, lifetime + 1]

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        record_revision=st.sampled_from([revision, "2022-12-08", "2027-01-01", "2026-12-1", "x"]),
        analytics=st.sampled_from(["0", "1", "2", "", "01", "true"]),
        age=st.one_of(st.sampled_from(limits), st.integers(-(10**12), 10**12)),
    )
    def structured(record_revision, analytics, age):
        decided = int(now.timestamp()) - age
        value = consent_value(record_revision, analytics, decided)
        choice = record_check(visitor, value)
        fresh = -60 <= age <= lifetime and 0 <= decided < 10**12
        if record_revision == revision and analytics in ("0", "1") and fresh:
            assert choice["analytics"] == (analytics == "1"), value
        else:
            assert choice is None, value

    structured()
    assert visitor.errors == []


BLOCK_COOKIES = """
Object.defineProperty(Document.prototype, "cookie", {
  get() { throw new DOMException("cookies are blocked", "SecurityError"); },
  set() { throw new DOMException("cookies are blocked", "SecurityError"); },
});
for (const name of ["localStorage", "sessionStorage"]) {
  Object.defineProperty(window, name, {
    get() { throw new DOMException("storage is blocked", "SecurityError"); },
  });
}
"""


def test_blocked_cookies_and_storage_break_nothing(visitor):
    visitor.context.add_init_script(BLOCK_COOKIES)
    visitor.open("/")
    assert visitor.banner_visible()
    visitor.click(ACCEPT)
    assert visitor.page.evaluate("consentBanner.choice().analytics") is True
    visitor.page.wait_for_function("window.dataLayer && window.dataLayer.stubbed")
    visitor.open("/services/")  # nothing could be stored: ask again, send nothing
    assert visitor.banner_visible()
    assert visitor.errors == []


def test_blocked_gtag_breaks_nothing(visitor):
    visitor.context.route("**/gtag/js*", lambda route: route.abort("blockedbyclient"))
    visitor.open("/")
    visitor.click(ACCEPT)
    visitor.page.get_by_text(text("accepted")).wait_for()
    visitor.open("/services/")
    visitor.click(text("settings"))
    assert visitor.page.get_by_role("dialog").is_visible()
    assert [e for e in visitor.errors if e.startswith("page error")] == []


def test_a_very_slow_network_delays_only_analytics(visitor):
    held = []  # gtag.js requests that have not been answered yet
    visitor.context.route("**/gtag/js*", lambda route: held.append(route))
    visitor.open("/")
    visitor.click(ACCEPT)
    visitor.page.get_by_text(text("accepted")).wait_for()
    visitor.click(text("hide"))
    visitor.click(text("settings"))
    assert visitor.page.get_by_role("dialog").is_visible() and len(held) == 1
    visitor.page.keyboard.press("Escape")
    held[0].fallback()  # the network finally answers
    visitor.page.wait_for_function("document.cookie.includes('_ga=')")
    assert visitor.errors == []
