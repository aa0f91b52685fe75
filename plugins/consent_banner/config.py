"""The ``CONSENT`` setting: defaults, checks, and the cookie inventory derived from it."""

from __future__ import annotations

import re
from typing import Any

from .providers import BUILT_IN, Provider

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
    "external_title": "External media",
    "external_body": (
        "Videos and maps from other websites load only when you click them. Their "
        "providers may set cookies and see your IP address. Allow a provider here to "
        "load its content without asking each time."
    ),
    "external_label": "Always allow {provider}",
    "embed_notice": "Loads content from {provider}, which may set cookies and see your IP address.",
    "embed_policy": "{provider}’s privacy policy",
    "embed_always": "Always allow {provider}",
    "embed_link": "Open it on {provider}",
}

DEFAULTS: dict[str, Any] = {
    "measurement_id": None,
    "cookie_name": "cloud7_consent",
    "lifetime_months": 6,
    "honour_gpc": True,
    "policy_url": None,  # None: the privacy policy of the policy_versions plugin
    "cookies": [],
    "providers": [],  # embed providers besides the built-in YouTube, Vimeo and Google Maps
    "declared_hosts": {},  # other hosts the site loads from as it is: {host: reason}
    "texts": {},
}
MAX_LIFETIME_MONTHS = 13  # CNIL: a consent choice is kept for at most 13 months
MEASUREMENT_ID = re.compile(r"^G-[A-Z0-9]{4,16}$")
POLICY_URL = re.compile(r"^(https://[^\s\"'<>]+|[\w\-.][\w\-./]*)$")  # relative to SITEURL
COOKIE_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
COOKIE_KEYS = {"name", "provider", "purpose", "duration", "category"}
CATEGORIES = {"necessary", "analytics"}
PROVIDER_KEYS = {"id", "name", "hosts", "embeds", "policy_url", "verb", "cookies"}
PROVIDER_COOKIE_KEYS = {"name", "purpose", "duration"}
PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$")


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
    if not isinstance(config["providers"], list):
        raise _fail("providers", "must be a list of providers")
    config["providers"] = [_check_provider(i, p) for i, p in enumerate(config["providers"])]
    hosts = config["declared_hosts"]
    if not isinstance(hosts, dict):
        raise _fail("declared_hosts", "must be a dict of {host: reason}")
    for host, reason in hosts.items():
        if not (isinstance(host, str) and HOST.match(host)):
            raise _fail(f"declared_hosts.{host}", "is not a host name like 'cdn.cloud7.example'")
        if not (isinstance(reason, str) and reason.strip()):
            raise _fail(f"declared_hosts.{host}", "needs a reason: why may every visitor load it?")
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


def _check_provider(index: int, raw: Any) -> Provider:
    key = f"providers[{index}]"
    if not isinstance(raw, dict) or set(raw) != PROVIDER_KEYS:
        raise _fail(key, f"each provider needs exactly the keys {sorted(PROVIDER_KEYS)}")
    if not (isinstance(raw["id"], str) and PROVIDER_ID.match(raw["id"])) or raw["id"] in BUILT_IN:
        raise _fail(f"{key}.id", "use lower-case letters, digits and '-', not a built-in id")
    for name in ("name", "policy_url", "verb"):
        if not (isinstance(raw[name], str) and raw[name].strip()):
            raise _fail(f"{key}.{name}", "must be a non-empty string")
    if not raw["policy_url"].startswith("https://"):
        raise _fail(f"{key}.policy_url", "must be an https URL")
    for name in ("hosts", "embeds"):
        values = raw[name]
        if not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
            raise _fail(f"{key}.{name}", "must be a non-empty list of strings")
    for host in raw["hosts"]:
        if not HOST.match(host):
            raise _fail(f"{key}.hosts", f"{host!r} is not a host name like 'vimeo.com'")
    for embed in raw["embeds"]:
        if "://" in embed or not HOST.match(embed.split("/")[0]):
            raise _fail(f"{key}.embeds", f"{embed!r} is not like 'player.example.com/embed/'")
    cookies = []
    for i, cookie in enumerate(raw["cookies"] if isinstance(raw["cookies"], list) else [None]):
        where = f"{key}.cookies[{i}]"
        if not isinstance(cookie, dict) or set(cookie) != PROVIDER_COOKIE_KEYS:
            raise _fail(where, f"each cookie needs exactly the keys {sorted(PROVIDER_COOKIE_KEYS)}")
        if not all(isinstance(v, str) and v.strip() for v in cookie.values()):
            raise _fail(where, "every value must be a non-empty string")
        cookies.append({**cookie, "provider": raw["name"], "category": "external-media"})
    return Provider(
        id=raw["id"],
        name=raw["name"],
        category="external-media",
        hosts=tuple(raw["hosts"]),
        policy_url=raw["policy_url"],
        cookies=tuple(cookies),
        embeds=tuple(raw["embeds"]),
        verb=raw["verb"],
    )


def embed_providers(config: dict[str, Any]) -> list[Provider]:
    """The built-in embed providers and the configured ones."""
    return [*BUILT_IN.values(), *config["providers"]]


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


def cookie_inventory(
    config: dict[str, Any], site: str, providers: list[Provider] = ()
) -> list[dict[str, str]]:
    """Every cookie the site may set: the consent cookie first, the declared ones, then
    those of the embed providers the site uses."""
    texts = fill_texts(config, site)
    consent_cookie = {
        "name": config["cookie_name"],
        "provider": site,
        "purpose": texts["consent_cookie_purpose"],
        "duration": texts["lifetime"],
        "category": "necessary",
    }
    embedded = [dict(c) for p in providers if p.category == "external-media" for c in p.cookies]
    return [consent_cookie, *config["cookies"], *embedded]
