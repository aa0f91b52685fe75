"""The checks that make policy versions a legal record.

A version that took effect never changes (the lock); a version that adds a third
party or purpose says whether visitors are asked again; and the site sets and
contacts nothing the version in force does not declare.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from .declaration import Declaration, additions, disagreements, not_declared_remedy, unused
from .lock import LOCK_FILE, LockError, changed_lines, locked_record, read_lock

if TYPE_CHECKING:
    from .policy_versions import PolicyDocument, PolicyVersion
    from .translations import PolicyTranslation

logger = logging.getLogger(__name__)


class PolicyError(Exception):
    """Bad policy input; the message names the file or the setting."""


def check_reconsent(version: PolicyVersion, site_name: str) -> None:
    """A version that adds a third party or purpose must say whether visitors are asked again."""
    before = version.previous
    if version.reconsent_stated or not before or not (before.declaration and version.declaration):
        return
    added = additions(before.declaration, version.declaration, site_name)
    if added:
        raise PolicyError(
            f"policy_versions: {version.source_path}: adds {', '.join(added)} to the version of "
            f"{before.effective}; say whether visitors are asked again: 'Reconsent: yes' "
            "(the banner asks everyone once this version is in force) or 'Reconsent: no'"
        )


def check_lock(folder: Path, versions: list[PolicyVersion], where: str) -> None:
    """Every version and translation whose day has come is locked, and still hashes to its lock."""
    try:
        locked = read_lock(folder)
    except LockError as error:
        raise PolicyError(str(error)) from None
    texts = {text.lock_key: text for v in versions for text in (v, *v.translations)}
    for key in sorted(set(locked) - set(texts)):
        kind = "translation" if "." in key else "version"
        raise PolicyError(
            f"policy_versions: {where}/{LOCK_FILE}: locked {kind} {key} is missing; a {kind} "
            "once published stays published: restore its files"
        )
    for key, text in texts.items():
        day = text.effective.isoformat()
        if key not in locked:
            if text.fixed:
                raise PolicyError(f"policy_versions: {text.source_path}: {_unlocked(text, where)}")
            continue
        if locked[key] == text.sha256:
            continue
        if not text.fixed:
            logger.warning(
                "policy_versions: %s: %s changed since it was locked; lock it again before "
                "%s with `make policy-version LOCK=%s`",
                text.source_path,
                _name(text),
                text.day,
                day,
            )
            continue
        source = Path(folder) / Path(text.source_path).name
        before = locked_record(source, locked[key])
        diff = (
            changed_lines(before, text.record, _name(text))
            if before is not None
            else "(the locked text is not in this repository's git history; `git log -p` shows it)"
        )
        raise PolicyError(
            f"policy_versions: {text.source_path}: {_changed(text)} What changed:\n{diff}"
        )


def _embedded_in(site: Declaration, declared: Declaration, settings: dict) -> list[str]:
    """Where each embed provider the policy does not declare (or its cookies) is embedded."""
    lines = []
    for provider in settings.get("CONSENT_PROVIDERS") or []:
        name, places = provider["name"], provider.get("embedded_in") or []
        own = Declaration(
            cookies=tuple(c for c in site.cookies if c["provider"] == name),
            providers=tuple(p for p in site.providers if p["name"] == name),
        )
        if places and disagreements(own, declared):
            lines.append(f"{name} is embedded in {', '.join(places)}.")
    return lines


def _name(text: PolicyVersion | PolicyTranslation) -> str:
    """ "upcoming version 2026-12-01", "translation 2026-12-01.nl"."""
    if text.original is not text:
        return f"translation {text.lock_key}"
    return f"{'upcoming ' if not text.fixed else ''}version {text.lock_key}"


def _unlocked(text: PolicyVersion | PolicyTranslation, where: str) -> str:
    day = text.effective.isoformat()
    if text.original is text:
        return (
            f"version {day} has taken effect but is not locked; check it is the text legal "
            f"approved, run `make policy-version LOCK={day}` and commit {where}/{LOCK_FILE}"
        )
    return (
        f"translation {text.lock_key} is published from {text.day} but is not locked; "
        f"check it, run `make policy-version LOCK={day}` and commit {where}/{LOCK_FILE}"
    )


def _changed(text: PolicyVersion | PolicyTranslation) -> str:
    day = text.effective.isoformat()
    if text.original is text:
        return (
            f"version {day} is locked (it took effect on {day}) but its text or declaration "
            "changed; restore it and publish the change as a new version "
            "(`make policy-version DATE=YYYY-MM-DD`)."
        )
    return (
        f"translation {text.lock_key} is locked (published from {text.day}) but its text "
        f"changed; restore it: a published translation never changes. Correct it in the "
        "translation of the next version (`make policy-version DATE=YYYY-MM-DD`)."
    )


def check_site_against(document: PolicyDocument, site: Declaration, settings: dict) -> None:
    """What the site sets and contacts must be what the version in force declares."""
    if "COOKIE_INVENTORY" not in settings:  # no consent_banner: nothing set, nothing to compare
        return
    in_force = document.in_force
    problems = disagreements(site, in_force.declaration)
    if problems:
        later = [v for v in document.upcoming if not disagreements(site, v.declaration)]
        raise PolicyError(
            f"policy_versions: the site sets or contacts what the policy in force "
            f"({in_force.source_path}) does not declare:\n  - "
            + "\n  - ".join(problems)
            + "".join(f"\n{line}" for line in _embedded_in(site, in_force.declaration, settings))
            + f"\nWhat to do: {not_declared_remedy(str(later[0].effective) if later else None)}."
        )
    for item in unused(site, in_force.declaration, "CONSENT_PROVIDERS" in settings):
        logger.warning(
            "policy_versions: the policy in force (%s) declares %s, which the site no longer "
            "uses; the next version should drop it",
            in_force.source_path,
            item,
        )
