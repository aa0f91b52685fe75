"""The ``CONSENT`` setting: defaults, checks, and the cookie inventory derived from it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .languages import BUILT_IN as BUILT_IN_LANGUAGES
from .languages import (
    LANGUAGE,
    TABLES,
    TEXT_NAMES,
    LanguageError,
    filled,
    merged,
    placeholders,
)
from .providers import BUILT_IN, Provider

DEFAULTS: dict[str, Any] = {
    "measurement_id": None,
    "cookie_name": "consent",
    "lifetime_months": 6,
    "honour_gpc": True,
    # The policy a visitor consents to. None: policy_versions' (its consent revision, its
    # privacy policy); a site without that plugin sets both.
    "revision": None,
    "policy_url": None,
    "receipts_url": "",  # where consent.js sends each choice's receipt; "": none
    "cookies": [],
    "providers": [],  # embed providers besides the built-in YouTube, Vimeo and Google Maps
    "declared_hosts": {},  # other hosts the site loads from as it is: {host: reason}
    "texts": {},  # per language: {"nl": {"accept": ..., "cookies": {...}}}
}
MAX_LIFETIME_MONTHS = 13  # CNIL: a consent choice is kept for at most 13 months
# How long a month of lifetime_months is: 30.44 days, a year of 365.25 days over twelve.
# The cookie audit reads "6 months" in a cookie table with the same month.
SECONDS_PER_MONTH = 365.25 / 12 * 86400
MEASUREMENT_ID = re.compile(r"^G-[A-Z0-9]{4,16}$")
POLICY_URL = re.compile(r"^(https://[^\s\"'<>]+|[\w\-.][\w\-./]*)$")  # relative to SITEURL
# A path on the site's own host: the backend must answer there (Safari keeps its cookie).
RECEIPTS_URL = re.compile(r"^(/[\w\-./]*)?$")
REVISION = re.compile(r"^\d{4}-\d\d-\d\d$")  # consent.js's RECORD reads it so
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
    revision = config["revision"]
    if revision is not None and not (isinstance(revision, str) and REVISION.match(revision)):
        raise _fail(
            "revision", f"{revision!r} is not a date like '2026-12-01' (the policy's version)"
        )
    url = config["policy_url"]
    if url is not None and not (isinstance(url, str) and POLICY_URL.match(url)):
        raise _fail("policy_url", f"{url!r} is not a path like 'privacy-policy/' or an https URL")
    receipts = config["receipts_url"]
    if not (isinstance(receipts, str) and RECEIPTS_URL.match(receipts)):
        raise _fail(
            "receipts_url",
            f"{receipts!r} is not a path on the site like '/api/consent' (or '' for no receipts)",
        )
    config["cookies"] = [_check_cookie(i, c) for i, c in enumerate(config["cookies"])]
    if not isinstance(config["providers"], list):
        raise _fail("providers", "must be a list of providers")
    config["providers"] = [_check_provider(i, p) for i, p in enumerate(config["providers"])]
    hosts = config["declared_hosts"]
    if not isinstance(hosts, dict):
        raise _fail("declared_hosts", "must be a dict of {host: reason}")
    for host, reason in hosts.items():
        if not (isinstance(host, str) and HOST.match(host)):
            raise _fail(f"declared_hosts.{host}", "is not a host name like 'cdn.example.com'")
        if not (isinstance(reason, str) and reason.strip()):
            raise _fail(f"declared_hosts.{host}", "needs a reason: why may every visitor load it?")
    if not isinstance(config["texts"], dict):
        raise _fail("texts", "must be a dict of languages, each a dict of texts")
    for lang, words in config["texts"].items():
        _check_words(lang, words)
    return config


@dataclass(frozen=True)
class ConsentPolicy:
    """The policy a visitor consents to: its revision (a new one asks everyone again) and
    the address of the page the banner links to."""

    revision: str
    url: str


def consent_policy(config: dict[str, Any], context: dict) -> ConsentPolicy:
    """From the policy_versions plugin when it is enabled (it publishes CONSENT_REVISION and
    POLICY_URL; ``policy_url`` may point elsewhere), else from ``revision`` and
    ``policy_url``: facts only the site knows, so there is no default."""
    versioned = context.get("CONSENT_REVISION")
    if versioned and config["revision"]:
        raise _fail("revision", "policy_versions decides the revision from its versions; remove it")
    revision = versioned or config["revision"]
    url = config["policy_url"] or context.get("POLICY_URL")
    for key, value in (("revision", revision), ("policy_url", url)):
        if not value:
            raise ConsentConfigError(
                f"consent_banner: CONSENT[{key!r}] is not set: set 'revision' to the date of "
                "the privacy policy visitors consent to (like '2026-12-01'; a later date asks "
                "everyone again) and 'policy_url' to its page (like 'privacy-policy/'), or "
                "enable the policy_versions plugin, which gives both"
            )
    return ConsentPolicy(revision=revision, url=url)


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


def uses_analytics(config: dict[str, Any]) -> bool:
    """Whether the site runs Google Analytics after consent: its own tag (measurement_id),
    or a tag pasted into a page or template, whose cookies the site declares."""
    return bool(config["measurement_id"]) or any(
        c["category"] == "analytics" for c in config["cookies"]
    )


def embed_providers(config: dict[str, Any]) -> list[Provider]:
    """The built-in embed providers and the configured ones."""
    return [*BUILT_IN.values(), *config["providers"]]


FILLED = {"site", "lifetime", "months", "language"}
# The placeholders each text may use besides those: {provider} and {id} only where the
# English text has them; {id} (where the page shows the consent ID) it must have.
OWN_PLACEHOLDERS = {name: placeholders(merged("en", {})[name]) - FILLED for name in TEXT_NAMES}
REQUIRED_PLACEHOLDERS = {"consent_id": {"id"}}


def _check_words(lang: Any, words: Any) -> None:
    """One language of ``texts``: known names, non-empty texts, known placeholders."""
    if not (isinstance(lang, str) and LANGUAGE.match(lang)):
        hint = "; texts are given per language: {'en': {...}}" if lang in TEXT_NAMES else ""
        raise _fail(
            f"texts.{lang}", f"is not a lower-case language code like 'nl' or 'pt-br'{hint}"
        )
    if not isinstance(words, dict):
        raise _fail(f"texts.{lang}", "must be a dict of texts")
    for name, text in words.items():
        key = f"texts.{lang}.{name}"
        if name in TABLES:
            _check_table(key, name, text)
            continue
        if name not in TEXT_NAMES:
            raise _fail(key, f"unknown text; known: {', '.join(sorted(TEXT_NAMES))}")
        if not isinstance(text, str) or not text.strip():
            raise _fail(key, "must be a non-empty string")
        unknown = placeholders(text) - FILLED - OWN_PLACEHOLDERS[name]
        if unknown:
            raise _fail(key, f"unknown placeholder {{{sorted(unknown)[0]}}}")
        for needed in REQUIRED_PLACEHOLDERS.get(name, ()):
            if text.count(f"{{{needed}}}") != 1:
                raise _fail(key, f"must hold {{{needed}}} once, where the page fills it in")


def _check_table(key: str, name: str, table: Any) -> None:
    """language_names and verbs: {key: text}; cookies: {name: {purpose, duration}}."""
    if not isinstance(table, dict):
        raise _fail(key, "must be a dict")
    for entry, value in table.items():
        if name == "cookies":
            if not isinstance(value, dict) or set(value) != {"purpose", "duration"}:
                raise _fail(f"{key}.{entry}", "needs exactly 'purpose' and 'duration'")
            value = " ".join(v if isinstance(v, str) and v.strip() else "" for v in value.values())
        if not (isinstance(value, str) and value.strip()):
            raise _fail(f"{key}.{entry}", "must be a non-empty string")


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
    config: dict[str, Any], site: str, providers: list[Provider] = (), lang: str = "en"
) -> list[dict[str, str]]:
    """Every cookie the site may set: the consent cookie first, the declared ones, then
    those of the embed providers the site uses; described in ``lang``, the site's own."""
    words = merged(lang, config["texts"])
    if "consent_cookie_purpose" not in words or "lifetime" not in words:
        raise LanguageError(
            f"consent_banner: no {lang!r} words for the consent cookie: add "
            f"'consent_cookie_purpose' and 'lifetime' to CONSENT['texts'][{lang!r}]"
        )
    consent_cookie = {
        "name": config["cookie_name"],
        "provider": site,
        "purpose": consent_cookie_purpose(config["texts"], lang, site),
        "duration": filled(words["lifetime"], {"months": str(config["lifetime_months"])}),
        "category": "necessary",
    }
    embedded = [dict(c) for p in providers if p.category == "external-media" for c in p.cookies]
    return [consent_cookie, *config["cookies"], *embedded]


def consent_cookie_purpose(texts: dict[str, dict[str, Any]], lang: str, site: str) -> str:
    """The consent cookie's purpose in ``lang``, as the banner's words say it."""
    return filled(merged(lang, texts).get("consent_cookie_purpose", ""), {"site": site})


def word_sets(texts: dict) -> list[dict]:
    """The words the banner can describe the consent cookie in, in every language: the
    settings' (``CONSENT["texts"]``), and the settings' with the built-in consent cookie
    words, for a policy version in force that declares those."""
    built_in = {
        code: {
            k: v
            for k, v in words.items()
            if k != "consent_cookie_purpose" or code not in BUILT_IN_LANGUAGES
        }
        for code, words in texts.items()
    }
    return [texts, built_in]


def consent_cookie_purposes(texts: dict, lang: str, site: str) -> list[str]:
    """The consent cookie's purposes in ``lang`` the banner can show (see word_sets)."""
    return [consent_cookie_purpose(words, lang, site) for words in word_sets(texts)]


def texts_in_force(texts: dict, declared_purpose: str, lang: str, site: str) -> dict:
    """``CONSENT["texts"]`` as they apply while the policy version in force describes the
    consent cookie as ``declared_purpose`` (in ``lang``, the site's own language): words
    for the consent cookie that the version does not declare wait for a version that
    does (policy_versions accepts them only then); the version's own words apply until
    then. The settings' words when the banner has none that the version declares (the
    site check says so)."""
    matching = (
        w for w in word_sets(texts) if consent_cookie_purpose(w, lang, site) == declared_purpose
    )
    return next(matching, texts)
