"""The banner version and its manifest: what a visitor saw and what the banner did.

The version is a hash of everything that decides it (the JavaScript and CSS as shipped,
the head tag, each language's banner and Cookie settings markup, the settings), taken
once per build before a page is written; every receipt names it, and the backend keeps
the manifest (``output/consent/banner.json``) to show what that version said.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass

MANIFEST_NAME = "banner.json"  # in the banner's asset folder
# The cookie's grammar lives once, in consent.js: `const RECORD = /…/;`.
RECORD_SOURCE = re.compile(r"^\s*const RECORD = /(?P<source>.+)/;$", re.M)


@dataclass(frozen=True)
class BannerMarkup:
    """The banner in one language: the banner (with its dialog) and the settings control.
    Here, not in markup.py, so that reading a manifest needs no Jinja."""

    banner: str
    control: str


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def record_pattern(script: str) -> str:
    """The source of consent.js's RECORD regular expression (JavaScript syntax)."""
    found = RECORD_SOURCE.search(script)
    if not found:
        raise ValueError("consent_banner: consent.js has no `const RECORD = /…/;` line")
    return found.group("source")


def built_at() -> str:
    """The build's time in UTC: SOURCE_DATE_EPOCH when set, so a build can be repeated."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Policy:
    """The privacy policy version in force when the banner was built (policy_versions')."""

    version: str
    url: str
    sha256: str


@dataclass(frozen=True)
class Manifest:
    version: str
    document: dict

    def text(self) -> str:
        """UTF-8 JSON, sorted keys: the same build gives the same bytes."""
        return json.dumps(self.document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def banner_manifest(
    *,
    site_url: str,
    revision: str,
    policy: Policy | None,
    cookie: dict,
    providers: list[str],
    shipped: dict[str, str],
    markup: dict[str, BannerMarkup],
) -> Manifest:
    """The manifest of one banner version. `shipped` holds the files and the head tag as
    sent (by name), `markup` each language's (banner and dialog, settings control)."""
    settings = {
        "site_url": site_url,
        "revision": revision,
        "policy": policy and vars(policy),  # None without the policy_versions plugin
        "cookie": cookie,
        "languages": sorted(markup),
        "providers": providers,
    }
    inputs = {name: sha256(text) for name, text in shipped.items()}
    for lang, in_lang in markup.items():
        inputs[f"banner.{lang}"] = sha256(in_lang.banner)
        inputs[f"settings_control.{lang}"] = sha256(in_lang.control)
    inputs["settings"] = sha256(json.dumps(settings, sort_keys=True))
    version = sha256(json.dumps(inputs, sort_keys=True))[:12]
    document = {
        "banner_version": version,
        "built_at": built_at(),
        **settings,
        "inputs": inputs,
        "banner": {lang: in_lang.banner for lang, in_lang in markup.items()},
    }
    return Manifest(version=version, document=document)
