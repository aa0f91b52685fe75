"""Consent receipts in real Chromium: each choice sends exactly its receipt, and delivery
never blocks or changes the choice. The backend is played by a route on the page, so each
test picks its answer: stored (200 and Set-Cookie), already recorded (409), a failure (500),
no connection, or one that has not come yet."""

from __future__ import annotations

import re
import runpy
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cookie_audit.crawl import GPC_ON
from tests.conftest import (
    CONSENT_ID,
    RECEIPTS_PATH,
    ROOT,
    Server,
    axe_violations,
    build_or_fail,
    consent_record,
    consent_value,
    manifest_of,
    receipts_day,
    text,
    wait_until,
)

COOKIE = "cloud7_consent"
WEBINAR = "/news/watch-the-recording-of-our-managed-kubernetes-webinar/"
# The cookie as the page reads it still holds a receipt not yet recorded.
UNSENT = rf"/(^|; ){COOKIE}=[^;]*\.p[a-z]+_/.test(document.cookie)"
CONSENT_ID_LINE = "#cb-details .cb-consent-id"


class Backend:
    """Answers the page's receipts (`answer`: stored, recorded, order, failing, down or
    held) and keeps each receipt's body, in the order sent."""

    def __init__(self, visitor, answer: str = "stored") -> None:
        self.visitor = visitor
        self.answer = answer
        self.receipts: list[dict] = []
        self.held: list = []
        # Kept as the page sends them: this listener runs before any wait_for's on the event.
        visitor.page.on("request", self.keep)
        visitor.page.route(f"**{RECEIPTS_PATH}", self.take)

    @staticmethod
    def is_receipt(request) -> bool:
        return request.url.endswith(RECEIPTS_PATH)

    def keep(self, request) -> None:
        if self.is_receipt(request):
            self.receipts.append(request.post_data_json)

    def take(self, route) -> None:
        request = route.request
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/json"
        if self.answer == "stored":
            value = re.sub(r"\.p[^.]+$", "", request.post_data_json["cookie"])
            cookie = f"{COOKIE}={value}; Max-Age=15778800; Path=/; SameSite=Lax"
            route.fulfill(status=200, headers={"Set-Cookie": cookie}, json={"ok": True})
        elif self.answer == "recorded":
            route.fulfill(status=409, json={"ok": False, "recorded": True})
        elif self.answer == "order":
            route.fulfill(status=409, json={"ok": False, "reason": "order"})
        elif self.answer == "failing":
            route.fulfill(status=500, body="")
        elif self.answer == "down":
            route.abort("connectionrefused")
        else:  # held: the answer comes only when the test is done
            self.held.append(route)

    def wait_for(self, count: int, seconds: float = 10) -> list[dict]:
        """The first `count` receipts, once they have been sent: each one not sent yet is
        waited for as the page's request event."""
        page = self.visitor.page
        while len(self.receipts) < count:
            try:
                page.wait_for_event("request", self.is_receipt, timeout=seconds * 1000)
            except PlaywrightTimeoutError:
                raise AssertionError(
                    f"{len(self.receipts)} receipts, not {count}: none more within {seconds} s"
                ) from None
        return self.receipts[:count]

    def settled(self) -> list[dict]:
        """Every receipt, once the page has sent all it will (its network is idle)."""
        self.visitor.page.wait_for_load_state("networkidle")
        return self.receipts


def stored_value(visitor) -> str:
    return visitor.page.evaluate(
        f"document.cookie.split('; ').find(c => c.startsWith('{COOKIE}=')).slice({len(COOKIE) + 1})"
    )


def save_settings(visitor, analytics: bool, youtube: bool | None = None) -> None:
    visitor.click(text("settings"))
    visitor.page.get_by_label(text("analytics_label")).set_checked(analytics)
    if youtube is not None:
        always = text("embed_always", provider="YouTube")
        visitor.page.get_by_label(always, exact=True).set_checked(youtube)
    visitor.click(text("save"))


def check_receipts(site, receipts: list[dict], expected: list[tuple[str, str, str]]) -> None:
    """Each receipt as (action, analytics, path), numbered 1, 2, … under one consent ID,
    with the build's banner version."""
    banner = manifest_of(site)["banner_version"]
    records = [consent_record(site, r["cookie"]) for r in receipts]
    paths = [r["path"] for r in receipts]
    assert [(r["action"], r["analytics"]) for r in records] == [e[:2] for e in expected]
    assert paths == [e[2] for e in expected]
    assert [r["seq"] for r in records] == [str(n) for n in range(1, len(expected) + 1)]
    assert len({r["id"] for r in records}) == 1
    assert {(r["banner"], r["lang"], r["revision"]) for r in records} == {
        (banner, "en", manifest_of(site)["revision"])
    }
    assert all(
        receipt["gpc"] is False and set(receipt) == {"cookie", "path", "gpc"}
        for receipt in receipts
    )
    assert all(abs(int(r["time"]) - time.time()) < 600 for r in records)


def test_each_choice_sends_exactly_its_receipt_in_order(visitor, receipts_site):
    backend = Backend(visitor)
    visitor.open("/")
    visitor.click(text("accept"))
    backend.wait_for(1)
    visitor.open("/services/")
    save_settings(visitor, analytics=True, youtube=True)  # nothing taken back: a save
    backend.wait_for(2)
    visitor.open(WEBINAR)
    save_settings(visitor, analytics=True, youtube=False)  # YouTube taken back
    backend.wait_for(3)
    visitor.click(text("embed_always", provider="YouTube"))
    backend.wait_for(4)
    visitor.open("/news/")
    save_settings(visitor, analytics=False)  # analytics taken back
    backend.wait_for(5)
    visitor.open("/")  # every receipt was stored: nothing is sent again
    check_receipts(
        receipts_site,
        backend.settled(),
        [
            ("accept", "1", "/"),
            ("save", "1", "/services/"),
            ("withdraw", "1", WEBINAR),
            ("always", "1", WEBINAR),
            ("withdraw", "0", "/news/"),
        ],
    )
    assert consent_record(receipts_site, backend.receipts[3]["cookie"])["embeds"] == "youtube"
    # The backend's Set-Cookie holds the choice, without the p-part.
    last = consent_record(receipts_site, stored_value(visitor))
    assert (last["seq"], last["analytics"], last["action"]) == ("5", "0", None)
    assert visitor.errors == []


def test_reject_sends_its_receipt_in_the_page_language(new_visitor, receipts_site):
    for path, lang in (("/", "en"), ("/nl/", "nl")):
        visitor = new_visitor()
        backend = Backend(visitor)
        visitor.open(path)
        visitor.click(text("reject", lang))
        (receipt,) = backend.wait_for(1)
        record = consent_record(receipts_site, receipt["cookie"])
        assert (record["action"], record["analytics"], record["lang"]) == ("reject", "0", lang)
        assert receipt["path"] == path and lang in manifest_of(receipts_site)["languages"]


def test_a_receipt_says_whether_global_privacy_control_was_on(visitor, receipts_site):
    visitor.context.add_init_script(GPC_ON)
    backend = Backend(visitor)
    visitor.open("/")
    assert not visitor.banner_visible()  # GPC is the answer; Cookie settings can change it
    save_settings(visitor, analytics=True)
    (receipt,) = backend.wait_for(1)
    assert receipt["gpc"] is True
    assert consent_record(receipts_site, receipt["cookie"])["action"] == "save"


def test_the_cookie_holds_the_consent_id_and_the_unsent_receipt(visitor, receipts_site):
    Backend(visitor, "failing")
    visitor.open("/")
    visitor.click(text("settings"))
    assert not visitor.page.locator(CONSENT_ID_LINE).is_visible()  # no choice, no ID
    visitor.page.keyboard.press("Escape")
    visitor.click(text("reject"))
    value = stored_value(visitor)
    banner = manifest_of(receipts_site)["banner_version"]
    assert re.fullmatch(
        rf"v2\.\d{{4}}-\d\d-\d\d\.a0\.\d{{10}}\.[0-9a-f]{{32}}\.1\.preject_en_{banner}", value
    )
    assert consent_record(receipts_site, value) is not None
    consent_id = consent_record(receipts_site, value)["id"]
    visitor.click(text("settings"))
    line = visitor.page.locator(CONSENT_ID_LINE)
    before, after = text("consent_id").split("{id}")
    assert line.inner_text() == f"{before}{consent_id}{after}"
    selected = visitor.page.evaluate(
        f"""(() => {{
          const code = document.querySelector('{CONSENT_ID_LINE} code');
          getSelection().selectAllChildren(code);
          return getSelection().toString();
        }})()"""
    )
    assert selected == consent_id
    assert axe_violations(visitor.page, iframes=False) == []


def test_each_visitor_gets_a_consent_id_of_their_own(new_visitor, receipts_site):
    ids = set()
    for _ in range(3):
        visitor = new_visitor()
        Backend(visitor)
        visitor.open("/")
        visitor.click(text("accept"))
        ids.add(consent_record(receipts_site, stored_value(visitor))["id"])
    assert len(ids) == 3


def test_the_consent_id_shows_in_dutch_cookie_settings(visitor, receipts_site):
    Backend(visitor)
    visitor.open("/nl/")
    visitor.click(text("accept", "nl"))
    consent_id = consent_record(receipts_site, stored_value(visitor))["id"]
    visitor.click(text("settings", "nl"))
    assert visitor.page.locator(CONSENT_ID_LINE).inner_text() == text(
        "consent_id", "nl", id=consent_id
    )
    assert axe_violations(visitor.page, iframes=False) == []


@pytest.mark.parametrize("answer", ["failing", "down", "held"])
def test_a_backend_that_fails_leaves_the_choice_working_and_the_receipt_comes_again(
    visitor, receipts_site, answer
):
    """500, no connection, or an answer still to come (one that takes 5 s or more): the
    choice holds at once, and the next page sends the same receipt again."""
    backend = Backend(visitor, answer)
    visitor.open("/")
    visitor.click(text("accept"))
    visitor.page.get_by_text(text("accepted")).wait_for()
    assert visitor.page.evaluate("consentBanner.choice().analytics") is True
    wait_until(visitor.page, "document.cookie.includes('_ga=')")  # analytics started
    (first,) = backend.wait_for(1)
    assert visitor.page.evaluate(UNSENT) and stored_value(visitor) == first["cookie"]
    visitor.open("/services/")
    assert not visitor.banner_visible()
    second = backend.wait_for(2)[1]
    # The same receipt; its path is the page that sends it (location.pathname).
    assert second == {**first, "path": "/services/"} and visitor.page.evaluate(UNSENT)
    backend.answer = "stored"  # the backend is back
    visitor.open("/news/")
    backend.wait_for(3)
    assert not visitor.page.evaluate(UNSENT)
    assert len(backend.settled()) == 3
    assert consent_record(receipts_site, stored_value(visitor))["analytics"] == "1"
    for route in backend.held:
        route.abort("timedout")


def test_an_already_recorded_receipt_drops_the_unsent_part(visitor, receipts_site):
    backend = Backend(visitor, "recorded")
    visitor.open("/")
    visitor.click(text("reject"))
    (receipt,) = backend.wait_for(1)
    wait_until(visitor.page, f"!{UNSENT}")
    assert stored_value(visitor) == re.sub(r"\.p[^.]+$", "", receipt["cookie"])
    jar = visitor.cookies()[COOKIE]
    assert 180 * 86400 < jar["expires"] - time.time() < 185 * 86400  # the rest of its lifetime
    visitor.open("/services/")
    assert len(backend.settled()) == 1


def test_a_receipt_refused_for_its_order_keeps_the_unsent_part(visitor):
    backend = Backend(visitor, "order")
    visitor.open("/")
    visitor.click(text("reject"))
    backend.wait_for(1)
    visitor.open("/services/")
    backend.wait_for(2)
    assert visitor.page.evaluate(UNSENT)


@pytest.fixture(scope="module")
def server(receipts_site):
    """The site on a day its policy declares consent records: the banner sends receipts."""
    served = Server(receipts_site)
    yield served
    served.close()


@pytest.fixture(scope="module")
def without_backend(tmp_path_factory):
    """The site built for a host without the backend: CONSENT['receipts_url'] = '', on a
    day consent records are declared, so the setting alone turns receipts off."""
    consent = runpy.run_path(str(ROOT / "pelicanconf.py"))["CONSENT"]
    output = tmp_path_factory.mktemp("no-backend") / "output"
    site = build_or_fail(output, day=receipts_day(), CONSENT={**consent, "receipts_url": ""})
    served = Server(site)
    yield served
    served.close()


@pytest.fixture(scope="module")
def before_records(site):
    """The site on the pinned day, before the version declaring consent records."""
    served = Server(site)
    yield served
    served.close()


@pytest.mark.parametrize("served", ["without_backend", "before_records"])
def test_without_a_backend_or_before_records_no_receipt_is_sent_and_no_id_shows(
    new_visitor, request, served
):
    served = request.getfixturevalue(served)
    visitor = new_visitor(served)
    asked = []  # anything the page posts to the site itself
    site_posts = lambda r: r.method == "POST" and r.url.startswith(served.url("/"))  # noqa: E731
    visitor.page.on("request", lambda r: asked.append(r.url) if site_posts(r) else None)
    visitor.open("/")
    assert visitor.page.locator("script[data-receipts]").count() == 0
    visitor.click(text("accept"))
    visitor.open("/services/")
    save_settings(visitor, analytics=False)
    visitor.page.wait_for_load_state("networkidle")
    assert asked == []
    value = stored_value(visitor)
    assert ".p" not in value and value.endswith(".2")  # no p-part; the second choice
    assert value.split(".")[4] == "0" * 32  # an ID that names no one
    visitor.click(text("settings"))
    assert not visitor.page.locator(CONSENT_ID_LINE).is_visible()  # no record answers for it
    assert visitor.errors == []


def test_a_choice_made_before_records_holds_and_the_next_one_gets_an_id_of_its_own(
    visitor, receipts_site
):
    """A choice from before receipts started (its ID all zeros) still holds, as the policy
    version says (no new question); the visitor's next choice gets a random ID, seq 1."""
    backend = Backend(visitor)
    revision = manifest_of(receipts_site)["revision"]
    value = consent_value(revision, "1").replace(CONSENT_ID, "0" * 32)
    value = value[: -len(".1")] + ".3"
    cookie = {"name": COOKIE, "value": value, "domain": "www.example.test", "path": "/"}
    visitor.context.add_cookies([cookie])
    visitor.open("/")
    assert not visitor.banner_visible()
    assert backend.settled() == []
    save_settings(visitor, analytics=False)
    (receipt,) = backend.wait_for(1)
    record = consent_record(receipts_site, receipt["cookie"])
    assert record["id"] not in ("0" * 32, CONSENT_ID)
    assert (record["seq"], record["action"]) == ("1", "withdraw")
