"""A version's frozen declaration: the cookies the site may set, the third parties it may contact.

A declaration lives beside its version, ``2026-12-01.toml`` next to ``2026-12-01.md``, so
legal reviews both together. It is written once, from the site's settings, when the
version is created (the plugin's ``new`` command), and never recomputed: changing the
settings later changes what the site does, never what a version said.

The site's side comes from the consent_banner plugin: ``COOKIE_INVENTORY`` (dicts with
``name, provider, purpose, duration, category``), ``CONSENT_PROVIDERS`` (its provider
objects: ``name, category, hosts, policy_url, embedded_in``), ``CONSENT_RECORDS``
(whether it keeps a record of each cookie choice) and ``CONSENT_COOKIE`` (the consent
cookie's ``name`` and the ``purposes`` the banner can describe it by), read when the
build needs them.
"""

from __future__ import annotations

import json
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .model import DEFAULT_COMMANDS, Commands, Declaration, PolicyError

COOKIE_FIELDS = ("name", "provider", "purpose", "duration", "category")
PROVIDER_FIELDS = ("name", "category", "hosts", "policy_url")


def _cookie(raw: dict) -> dict[str, str]:
    return {key: str(raw[key]) for key in COOKIE_FIELDS}


def _provider(raw: dict) -> dict[str, Any]:
    return {
        "name": str(raw["name"]),
        "category": str(raw["category"]),
        "hosts": [str(host) for host in raw.get("hosts") or []],
        "policy_url": str(raw.get("policy_url") or ""),
    }


def site_declaration(settings: dict) -> Declaration:
    """What the site may set and contact today, from the consent_banner plugin's settings."""
    return Declaration(
        cookies=tuple(_cookie(c) for c in settings.get("COOKIE_INVENTORY") or []),
        providers=tuple(_provider(vars(p)) for p in settings.get("CONSENT_PROVIDERS") or []),
        consent_records=bool(settings.get("CONSENT_RECORDS")),
    )


def held_to(site: Declaration, declared: Declaration, consent_cookie: dict) -> Declaration:
    """The site as it runs while `declared` is in force: the banner keeps consent records
    only if the version declares them, and describes the consent cookie in the version's
    words where it has them (consent_banner follows the declaration in force); the rest
    is the settings'."""
    name = consent_cookie.get("name")
    said = next((c["purpose"] for c in declared.cookies if c["name"] == name), None)
    return Declaration(
        cookies=tuple(
            {**c, "purpose": said}
            if c["name"] == name and said in consent_cookie.get("purposes", ())
            else c
            for c in site.cookies
        ),
        providers=site.providers,
        consent_records=site.consent_records and declared.consent_records,
    )


def read_declaration(path: Path, where: str) -> Declaration:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"{where}: cannot read it: {error}") from None
    unknown = set(data) - {"consent_records", "cookies", "providers"}
    if unknown:
        raise PolicyError(
            f"{where}: unknown key {sorted(unknown)[0]!r}; "
            "a declaration has consent_records, [[cookies]] and [[providers]]"
        )
    records = data.get("consent_records", False)  # declarations before receipts have none
    if not isinstance(records, bool):
        raise PolicyError(f"{where}: consent_records must be true or false, not {records!r}")
    entries = {}
    for kind, fields in (("cookies", COOKIE_FIELDS), ("providers", PROVIDER_FIELDS)):
        entries[kind] = data.get(kind, [])
        for index, entry in enumerate(entries[kind]):
            if not isinstance(entry, dict) or set(entry) != set(fields):
                raise PolicyError(
                    f"{where}: {kind}[{index}] needs exactly the keys {', '.join(fields)}"
                )
    return Declaration(
        cookies=tuple(_cookie(c) for c in entries["cookies"]),
        providers=tuple(_provider(p) for p in entries["providers"]),
        consent_records=records,
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # A JSON string is a TOML basic string; true and false are the same in both.
    return json.dumps(value, ensure_ascii=False)


def declaration_text(declaration: Declaration, heading: str) -> str:
    """The declaration as TOML: whether consent records are kept, then one table per
    cookie and per third party."""
    lines = [f"# {line}".rstrip() for line in heading.splitlines()]
    lines += ["", f"consent_records = {_toml_value(declaration.consent_records)}"]
    for kind, entries in (("cookies", declaration.cookies), ("providers", declaration.providers)):
        for entry in entries:
            lines += ["", f"[[{kind}]]"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in entry.items()]
        if not entries:  # a comment, not "providers = []", so that a table can be added by hand
            lines += ["", f"# No {kind}."]
    return "\n".join(lines) + "\n"


def _differences(kind: str, site: dict, declared: dict, fields: tuple[str, ...]) -> list[str]:
    out = []
    for key in fields:
        if key in ("hosts", "policy_url"):
            continue
        if site[key] != declared[key]:
            out.append(
                f"{kind} {site['name']!r}: the site says {key} {site[key]!r}, "
                f"the policy declares {declared[key]!r}"
            )
    return out


def _covers(declared: str, host: str) -> bool:
    """A declared domain covers itself and its subdomains (as consent_banner's `within()`,
    the CSP and the audit read it); a declared pattern with "*" covers what it matches.
    Not `within()` itself: this plugin works without consent_banner, and a declaration
    may hold patterns."""
    if "*" in declared:
        return fnmatchcase(host, declared)
    return host == declared or host.endswith(f".{declared}")


def disagreements(site: Declaration, declared: Declaration) -> list[str]:
    """What the site sets or contacts that the declaration does not say, one line each."""
    problems = []
    if site.consent_records and not declared.consent_records:
        problems.append(
            "consent records (a receipt of each cookie choice, CONSENT['receipts_url']) "
            "are not declared"
        )
    cookies = {c["name"]: c for c in declared.cookies}
    for cookie in site.cookies:
        if cookie["name"] not in cookies:
            problems.append(
                f"cookie {cookie['name']!r} ({cookie['provider']}, {cookie['category']}) "
                "is not declared"
            )
        else:
            problems += _differences("cookie", cookie, cookies[cookie["name"]], COOKIE_FIELDS)
    providers = {p["name"]: p for p in declared.providers}
    for provider in site.providers:
        known = providers.get(provider["name"])
        if not known:
            problems.append(
                f"provider {provider['name']!r} ({provider['category']}, hosts "
                f"{', '.join(provider['hosts']) or 'none'}) is not declared"
            )
            continue
        problems += _differences("provider", provider, known, PROVIDER_FIELDS)
        for host in provider["hosts"]:
            if not any(_covers(pattern, host) for pattern in known["hosts"]):
                problems.append(f"provider {provider['name']!r}: host {host!r} is not declared")
    return problems


def not_declared_remedy(commands: Commands = DEFAULT_COMMANDS, upcoming: str | None = None) -> str:
    """What to do about a cookie or provider the policy in force does not declare, in the
    words of both the build and the audit; `upcoming`, the day of a version that declares it."""
    if upcoming:
        return (
            f"the upcoming version {upcoming} declares it: until that day it stays out of the "
            f"published site ({commands.publish} refuses it); rebuild on {upcoming}"
        )
    return (
        f"legal first starts a policy version that declares it ({commands.run('new')}, see "
        "“Publishing a new privacy-policy version”); until that version's day it stays out "
        f"of the published site ({commands.publish} refuses it): take it out of the page, or "
        "out of the settings (CONSENT in pelicanconf.py)"
    )


def unused(site: Declaration, declared: Declaration, with_providers: bool) -> list[str]:
    """Declared cookies (and, when the site lists them, providers) the site no longer uses."""
    cookies = {c["name"] for c in site.cookies}
    providers = {p["name"] for p in site.providers}
    stale = ["consent records"] if declared.consent_records and not site.consent_records else []
    stale += [f"cookie {c['name']!r}" for c in declared.cookies if c["name"] not in cookies]
    if with_providers:
        stale += [
            f"provider {p['name']!r}" for p in declared.providers if p["name"] not in providers
        ]
    return stale


def additions(before: Declaration, after: Declaration, site_name: str) -> list[str]:
    """The third parties and purposes a version adds to the one before it."""
    parties = sorted(after.third_parties(site_name) - before.third_parties(site_name))
    purposes = sorted(after.purposes() - before.purposes())
    return [f"third party {name!r}" for name in parties] + [
        f"purpose {name!r}" for name in purposes
    ]
