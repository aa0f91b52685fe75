"""What the privacy policy in force declares, as the built site publishes it.

A site may set and contact only what its policy in force declares (see policy_versions).
The build checks its settings against it; the audit checks the markup it judges: each
cookie of the banner's table and each third party there must be in the declaration of
the version in force, read from the version's record (its text, then its declaration)
that `versions.json` links to. A finding speaks the build's words (one source for them).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pelican.plugins.policy_versions.declaration import not_declared_remedy
from pelican.plugins.policy_versions.model import DEFAULT_COMMANDS, Commands

from cookie_audit.inventory import PageDeclarations
from cookie_audit.rules import Finding

RULE = "not-in-policy"


@dataclass(frozen=True)
class DeclaredVersion:
    """The cookie and third-party names one version declares."""

    effective: str
    url: str  # the version's page on the site
    cookies: frozenset[str]
    providers: frozenset[str]  # third parties, and whoever sets a declared cookie


@dataclass(frozen=True)
class PolicyInForce:
    """The version in force, and the versions published ahead of their day."""

    in_force: DeclaredVersion
    upcoming: tuple[DeclaredVersion, ...]
    commands: Commands  # the site's, for the advice

    def remedy(self, declares) -> str:
        """The build's advice, naming the first upcoming version that declares it."""
        later = next((v.effective for v in self.upcoming if declares(v)), None)
        return not_declared_remedy(self.commands, upcoming=later)


def read_policy_in_force(site: Path, commands: Commands = DEFAULT_COMMANDS) -> PolicyInForce | None:
    """The declarations of the consent policy's versions; None for a site without one.
    `commands`: how the site runs policy_versions (POLICY_VERSIONS['commands'])."""
    for listing in sorted(site.rglob("versions.json")):
        data = json.loads(listing.read_text(encoding="utf-8"))
        versions = [_read_version(site, v) for v in data["versions"]]
        in_force = next((v for v in versions if v.effective == data["in_force"]), None)
        if in_force and in_force.cookies:  # the consent policy: the one that declares cookies
            later = [v for v in versions if v.effective > in_force.effective]
            upcoming = sorted(later, key=lambda v: v.effective)
            return PolicyInForce(in_force, tuple(upcoming), commands)
    return None


def _read_version(site: Path, version: dict) -> DeclaredVersion:
    record = site / urlsplit(version["record_url"]).path.lstrip("/")
    declaration = _declaration(record.read_text(encoding="utf-8"))
    cookies = declaration.get("cookies", [])
    return DeclaredVersion(
        effective=version["effective"],
        url=urlsplit(version["url"]).path,
        cookies=frozenset(c["name"] for c in cookies),
        providers=frozenset(
            [p["name"] for p in declaration.get("providers", [])] + [c["provider"] for c in cookies]
        ),
    )


def _declaration(record: str) -> dict:
    """The TOML after a version's text in its record: from the first table on."""
    start = record.find("\n[[")
    return tomllib.loads(record[start:]) if start != -1 else {}


def check_policy(
    declarations: dict[str, PageDeclarations], choice_page: str, policy: PolicyInForce
) -> list[Finding]:
    """A finding for each cookie of the banner's table and each third party the policy in
    force does not declare: a cookie on the choice page, an embed provider on each page
    that embeds it. The consent cookie's setter is the site itself, not a third party."""
    site = declarations[choice_page]
    own = next((c.provider for c in site.cookies if c.name == site.consent_cookie), "")
    in_force = policy.in_force

    def detail(what: str, declares) -> str:
        return f"{what} the policy in force ({in_force.url}) does not declare; " + policy.remedy(
            declares
        )

    found = [
        Finding(
            RULE,
            None,
            choice_page,
            c.name,
            detail(f"a cookie of {c.provider}", lambda v, name=c.name: name in v.cookies),
        )
        for c in site.cookies
        if c.name not in in_force.cookies
    ]
    embedded = {name: provider_id for provider_id, (name, _) in site.providers.items()}
    parties = dict.fromkeys([*(c.provider for c in site.cookies if c.provider != own), *embedded])
    for name in (n for n in parties if n not in in_force.providers):
        pages = [p for p, d in declarations.items() if embedded.get(name) in d.embeds]
        advice = detail("a third party", lambda v, name=name: name in v.providers)
        subject = f"provider {name!r}"
        found += [Finding(RULE, None, page, subject, advice) for page in pages or [choice_page]]
    return found
