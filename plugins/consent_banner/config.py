"""The ``CONSENT`` setting: defaults, checks, and the cookie inventory derived from it."""

from __future__ import annotations

import re
from typing import Any

DEFAULT_TEXTS = {
    "title": "Cookies on {site}",
    "intro": (
        "We’d like to set analytics cookies to understand how you use {site}, so we can "
        "improve it. Google receives this information as an independent controller. "
        "We set no analytics cookie unless you accept, and we keep your choice for "
        "{lifetime}."
    ),
    "accept": "Accept analytics cookies",
    "reject": "Reject analytics cookies",
    "details": "View cookie details",
    "policy_link": "Read our privacy policy",
    "details_title": "Cookie settings",
    "necessary_title": "Strictly necessary cookies",
    "necessary_body": (
        "These make the website work and remember your cookie choice. They are always on."
    ),
    "necessary_label": "Always on",
    "analytics_title": "Analytics cookies",
    "analytics_body": (
        "Google Analytics tells us how people use the website: pages visited, time "
        "spent and the device used. Off unless you switch it on."
    ),
    "table_caption": "Cookies this website sets",
    "analytics_label": "Allow analytics cookies",
    "save": "Save cookie settings",
    "close": "Close",
    "accepted": (
        "You’ve accepted analytics cookies. You can change your cookie settings at any time."
    ),
    "rejected": (
        "You’ve rejected analytics cookies. You can change your cookie settings at any time."
    ),
    "hide": "Hide cookie message",
    "gpc": (
        "Your browser sent a Global Privacy Control signal, so we treat it as a "
        "rejection of analytics cookies unless you choose otherwise here."
    ),
    "settings": "Cookie settings",
    "consent_cookie_purpose": "Remembers whether you accepted or rejected analytics cookies.",
    "lifetime": "{months} months",
    "column_cookie": "Cookie",
    "column_provider": "Set by",
    "column_purpose": "Purpose",
    "column_duration": "Kept for",
    "column_category": "Type",
}

DEFAULTS: dict[str, Any] = {
    "measurement_id": None,
    "cookie_name": "cloud7_consent",
    "lifetime_months": 6,
    "honour_gpc": True,
    "policy_url": None,  # None: the privacy policy of the policy_versions plugin
    "cookies": [],
    "texts": {},
}
MAX_LIFETIME_MONTHS = 13  # CNIL: a consent choice is kept for at most 13 months
MEASUREMENT_ID = re.compile(r"^G-[A-Z0-9]{4,16}$")
POLICY_URL = re.compile(r"^(https://[^\s\"'<>]+|[\w\-.][\w\-./]*)$")  # relative to SITEURL
COOKIE_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
COOKIE_KEYS = {"name", "provider", "purpose", "duration", "category"}
CATEGORIES = {"necessary", "analytics"}


class ConsentConfigError(Exception):
    """A bad ``CONSENT`` setting; the message names the key."""


def _fail(key: str, problem: str) -> ConsentConfigError:
    return ConsentConfigError(f"consent_banner: Invalid 'CONSENT' key: {key!r}: {problem}")


def check_config(raw: dict | None) -> dict[str, Any]:
    """Return CONSENT with defaults filled in, or raise naming the bad key."""
    raw = dict(raw or {})
    for key in raw:
        if key not in DEFAULTS:
            raise _fail(key, f"unknown key; known keys: {', '.join(sorted(DEFAULTS))}")
    config = {**DEFAULTS, **raw}
    mid = config["measurement_id"]
    if mid is not None and not (isinstance(mid, str) and MEASUREMENT_ID.match(mid)):
        raise _fail("measurement_id", f"{mid!r} is not a GA4 measurement ID like 'G-ABC123XYZ'")
    if not (isinstance(config["cookie_name"], str) and COOKIE_NAME.match(config["cookie_name"])):
        raise _fail("cookie_name", "use letters, digits, '_' or '-' only")
    months = config["lifetime_months"]
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise _fail("lifetime_months", f"{months!r} is not a whole number of months")
    if months > MAX_LIFETIME_MONTHS:
        raise _fail("lifetime_months", f"{months} is more than {MAX_LIFETIME_MONTHS} months")
    if not isinstance(config["honour_gpc"], bool):
        raise _fail("honour_gpc", "must be True or False")
    url = config["policy_url"]
    if url is not None and not (isinstance(url, str) and POLICY_URL.match(url)):
        raise _fail("policy_url", f"{url!r} is not a path like 'privacy-policy/' or an https URL")
    config["cookies"] = [_check_cookie(i, c) for i, c in enumerate(config["cookies"])]
    texts = config["texts"]
    if not isinstance(texts, dict):
        raise _fail("texts", "must be a dict of texts")
    for name, text in texts.items():
        if name not in DEFAULT_TEXTS:
            raise _fail(f"texts.{name}", f"unknown text; known: {', '.join(sorted(DEFAULT_TEXTS))}")
        if not isinstance(text, str) or not text.strip():
            raise _fail(f"texts.{name}", "must be a non-empty string")
    config["texts"] = {**DEFAULT_TEXTS, **texts}
    return config


def fill_texts(config: dict[str, Any], site: str) -> dict[str, str]:
    """The texts with {site}, {lifetime} and {months} filled in."""
    months = str(config["lifetime_months"])
    lifetime = config["texts"]["lifetime"].replace("{months}", months)
    return {
        name: text.replace("{site}", site)
        .replace("{lifetime}", lifetime)
        .replace("{months}", months)
        for name, text in config["texts"].items()
    }


def _check_cookie(index: int, cookie: Any) -> dict[str, str]:
    key = f"cookies[{index}]"
    if not isinstance(cookie, dict) or set(cookie) != COOKIE_KEYS:
        raise _fail(key, f"each cookie needs exactly the keys {sorted(COOKIE_KEYS)}")
    if not all(isinstance(v, str) and v.strip() for v in cookie.values()):
        raise _fail(key, "every value must be a non-empty string")
    if cookie["category"] not in CATEGORIES:
        raise _fail(f"{key}.category", f"must be one of {sorted(CATEGORIES)}")
    return dict(cookie)


def cookie_inventory(config: dict[str, Any], site: str) -> list[dict[str, str]]:
    """Every cookie the site may set: the consent cookie first, then the declared ones."""
    texts = fill_texts(config, site)
    consent_cookie = {
        "name": config["cookie_name"],
        "provider": site,
        "purpose": texts["consent_cookie_purpose"],
        "duration": texts["lifetime"],
        "category": "necessary",
    }
    return [consent_cookie, *config["cookies"]]
