"""The visitor journeys, written once against `Engine`, so that every engine runs the same.

Each journey asserts what a visitor must see and what must not happen, and every failure
names the engine and the page. Selectors, not button names: the banner's words are
translatable settings (the Dutch journey reads them).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from pelican.plugins.consent_banner.languages import BUILT_IN as LANGUAGES

from cookie_audit.engines import Engine, settled_cookies, wait_for, wait_until
from cookie_audit.sandbox import SeenRequest

CONSENT_COOKIE = "cloud7_consent"
ANALYTICS = ("_ga", "_gid", "_gat")
ACCEPT, REJECT = "[data-consent-choice=accept]", "[data-consent-choice=reject]"
SETTINGS = "[data-consent-open]"
DIALOG = "#cb-details"
ANALYTICS_SWITCH = "#cb-analytics"
SAVE = "#cb-details button[value=save]"
HIDE = "[data-consent-hide]"
CONFIRMED = {True: "[data-consent-message=accept]", False: "[data-consent-message=reject]"}
NEXT_PAGE = "/services/"
EMBED_PAGE = "/news/watch-the-recording-of-our-managed-kubernetes-webinar/"
EMBED_HOSTS = ("youtube-nocookie.com", "youtube.com")
GA_CONFIGURED = "document.cookie.includes('_ga=')"


def visible(selector: str) -> str:
    """An expression: the first element the selector finds is on screen."""
    return f"""(() => {{
      const el = document.querySelector({json.dumps(selector)});
      if (!el || !el.checkVisibility({{visibilityProperty: true}})) return false;
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.height > 0;
    }})()"""


def focused(selector: str) -> str:
    """An expression: the page has keyboard focus (not the browser's own bar), on the selector."""
    return f"document.hasFocus() && document.activeElement.matches({json.dumps(selector)})"


def where(engine: Engine) -> str:
    """The engine and the page it shows, as every failure names them."""
    return f"{engine.name} on {urlsplit(engine.evaluate('location.href')).path}"


def check(engine: Engine, holds: bool, what: str) -> None:
    if not holds:
        raise AssertionError(f"{where(engine)}: {what}")


def cookie_names(engine: Engine) -> list[str]:
    return sorted(cookie.name for cookie in settled_cookies(engine))


def elsewhere(requests: list[SeenRequest]) -> list[str]:
    """The addresses asked for: the proxy sees only requests to other hosts than the site."""
    return [r.url for r in requests]


def storage(engine: Engine) -> list[str]:
    return engine.evaluate("[...Object.keys(localStorage), ...Object.keys(sessionStorage)]")


def asks(engine: Engine) -> None:
    """The banner is on screen with both of its choices."""
    check(engine, engine.evaluate(visible("#cb-banner")), "the banner is not visible")
    for button in (ACCEPT, REJECT):
        check(engine, engine.evaluate(visible(button)), f"{button} is not visible")


def sets_nothing(engine: Engine) -> None:
    """No cookie, no storage, no request to another host."""
    check(engine, cookie_names(engine) == [], f"cookies before consent: {cookie_names(engine)}")
    check(engine, storage(engine) == [], f"storage before consent: {storage(engine)}")
    sent = elsewhere(engine.requests())
    check(engine, sent == [], f"requests to other hosts before consent: {sent}")


def only_the_consent_cookie(engine: Engine, after: str) -> None:
    names = cookie_names(engine)
    check(engine, names == [CONSENT_COOKIE], f"cookies {after}: {names}, not only {CONSENT_COOKIE}")


def choose(engine: Engine, button: str) -> None:
    engine.click(button)
    wait_for(engine, visible(CONFIRMED[button == ACCEPT]), "the confirmation")


def first_visit(engine: Engine, path: str = "/") -> None:
    engine.goto(path)
    asks(engine)
    sets_nothing(engine)


def reject(engine: Engine) -> None:
    engine.goto("/")
    choose(engine, REJECT)
    only_the_consent_cookie(engine, "after reject")
    engine.click(HIDE)
    check(engine, not engine.evaluate(visible("#cb-banner")), "the banner did not hide")
    engine.goto(NEXT_PAGE)
    check(engine, not engine.evaluate(visible("#cb-banner")), "the banner asks again")
    only_the_consent_cookie(engine, "on the next page after reject")
    sent = elsewhere(engine.requests())
    check(engine, sent == [], f"requests to other hosts after reject: {sent}")
    check(engine, storage(engine) == [], f"storage after reject: {storage(engine)}")


def accept(engine: Engine) -> None:
    engine.goto("/")
    choose(engine, ACCEPT)
    wait_for(engine, GA_CONFIGURED, "the analytics cookie")
    loaded = [url for url in elsewhere(engine.requests()) if "/gtag/js?id=" in url]
    check(engine, bool(loaded), "gtag.js was not requested after accept")
    parent = [c for c in settled_cookies(engine) if c.name == "_ga"]
    check(engine, [c.domain for c in parent] == [".example.test"], f"_ga cookies: {parent}")


def withdrawal(engine: Engine, next_page: str = NEXT_PAGE) -> None:
    """Accept, then untick analytics in Cookie settings: every analytics cookie goes,
    on the host and the parent domain, and nothing more is sent on `next_page`."""
    accept(engine)
    declared = engine.evaluate(
        "document.querySelector('script[data-analytics-cookies]').dataset.analyticsCookies"
    )
    for name in (n.replace("*", "PLANTED") for n in declared.split()):
        for scope in ("", "; domain=.example.test"):
            engine.evaluate(f"document.cookie = '{name}=x; path=/{scope}'")
    wait_for(engine, "document.readyState === 'complete'", "the page's load")
    _page_view_answered(engine)
    engine.click(SETTINGS)
    wait_for(engine, f"document.querySelector('{DIALOG}').open", "the settings dialog")
    check(
        engine, engine.evaluate(f"document.querySelector('{ANALYTICS_SWITCH}').checked"), "unticked"
    )
    engine.click(ANALYTICS_SWITCH)
    sent = len(engine.requests())
    engine.click(SAVE)
    wait_for(engine, visible(CONFIRMED[False]), "the confirmation of the withdrawal")
    only_the_consent_cookie(engine, "after withdrawal")
    engine.evaluate("dataLayer.push(['event', 'after_withdrawal'])")
    engine.goto(next_page)
    only_the_consent_cookie(engine, "after withdrawal")
    after = elsewhere(engine.requests()[sent:])
    check(engine, after == [], f"requests to other hosts after withdrawal: {after}")


def _page_view_answered(engine: Engine) -> None:
    wait_for(
        engine,
        "performance.getEntriesByType('resource').some(e => e.name.includes('en=page_view'))",
        "the page view's answer",
    )


def global_privacy_control(engine: Engine) -> None:
    """A visitor whose browser sends GPC is not asked and gets no cookie."""
    engine.goto("/")
    check(engine, engine.evaluate("navigator.globalPrivacyControl") is True, "no GPC signal")
    check(engine, not engine.evaluate(visible("#cb-banner")), "the banner asks despite GPC")
    engine.goto(NEXT_PAGE)
    check(engine, not engine.evaluate(visible("#cb-banner")), "the banner asks despite GPC")
    sets_nothing(engine)


def embed(engine: Engine) -> None:
    """The placeholder fetches nothing from its provider; a click loads the player."""
    engine.goto(EMBED_PAGE)
    engine.goto(EMBED_PAGE)  # a second load: nothing is fetched ahead either
    provider = [
        u for u in elsewhere(engine.requests()) if urlsplit(u).hostname.endswith(EMBED_HOSTS)
    ]
    check(engine, provider == [], f"requests to the provider before the click: {provider}")
    check(engine, not engine.evaluate(visible(".cb-embed iframe")), "the player before the click")
    sets_nothing(engine)
    engine.click("[data-embed-load]")
    wait_for(engine, visible(".cb-embed iframe"), "the player")

    def players() -> list[str]:
        return [r.url for r in engine.requests() if "youtube-nocookie.com/embed/" in r.url]

    wait_until(engine, players, "the player's request")
    check(engine, all(r.document for r in engine.requests() if r.url in players()), "no frame")
    asks(engine)  # loading one embed is no answer to the banner


def keyboard(engine: Engine) -> None:
    """Reject, hide, open and close the dialog, then accept and withdraw in it, by keys."""
    engine.goto("/")
    tab_to(engine, REJECT)
    engine.press("Enter")
    wait_for(engine, visible(CONFIRMED[False]), "the confirmation")
    check(engine, engine.evaluate(focused(".cb-done")), "focus did not move to the confirmation")
    tab_to(engine, HIDE)
    engine.press("Enter")
    check(engine, not engine.evaluate(visible("#cb-banner")), "the banner did not hide")
    tab_to(engine, SETTINGS)
    engine.press("Enter")
    wait_for(engine, f"document.querySelector('{DIALOG}').open", "the dialog")
    check(
        engine,
        engine.evaluate(f"document.querySelector('{DIALOG}').contains(document.activeElement)"),
        "focus is not in the dialog",
    )
    engine.press("Escape")
    wait_for(engine, f"!document.querySelector('{DIALOG}').open", "Escape closing the dialog")
    for now_on in (True, False):
        tab_to(engine, SETTINGS)
        engine.press("Enter")
        wait_for(engine, f"document.querySelector('{DIALOG}').open", "the dialog")
        tab_to(engine, ANALYTICS_SWITCH)
        engine.press("Space")
        tab_to(engine, SAVE)
        engine.press("Enter")
        wait_for(engine, visible(CONFIRMED[now_on]), "the confirmation")
        if now_on:
            wait_for(engine, GA_CONFIGURED, "the analytics cookie")
    only_the_consent_cookie(engine, "after withdrawing by keyboard")


def tab_to(engine: Engine, selector: str, limit: int = 80) -> None:
    """Press Tab until the selector has focus; no key at all when it has already."""
    for _ in range(limit):
        if engine.evaluate(focused(selector)):
            return
        engine.press("Tab")
    raise AssertionError(f"{where(engine)}: Tab never reached {selector}")


def dutch(engine: Engine) -> None:
    """The Dutch edition asks in Dutch, and sets nothing before the answer."""
    engine.goto("/nl/")
    asks(engine)
    words = LANGUAGES["nl"]
    for button, name in ((ACCEPT, "accept"), (REJECT, "reject")):
        shown = engine.evaluate(f"document.querySelector('{button}').textContent.trim()")
        check(engine, shown == words[name], f"{button} reads {shown!r}, not {words[name]!r}")
    check(engine, engine.evaluate("document.documentElement.lang") == "nl", "not lang=nl")
    sets_nothing(engine)
    choose(engine, REJECT)
    only_the_consent_cookie(engine, "after reject")


# Every journey above that each engine runs, in the order a visitor meets them; the
# GPC journey runs only where the browser itself sends the signal.
EVERY_ENGINE = (first_visit, reject, accept, withdrawal, embed, keyboard, dutch)
