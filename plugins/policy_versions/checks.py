"""The checks that make policy versions a legal record.

A version that took effect never changes (the lock); a version that adds a third
party or purpose says whether visitors are asked again; and the site sets and
contacts nothing the version in force does not declare.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from .declaration import Declaration, additions, disagreements, unused
from .lock import LOCK_FILE, LockError, changed_lines, locked_record, read_lock

if TYPE_CHECKING:
    from .policy_versions import PolicyDocument, PolicyVersion

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
    """Every version that has taken effect is locked, and still hashes to its lock."""
    try:
        locked = read_lock(folder)
    except LockError as error:
        raise PolicyError(str(error)) from None
    by_day = {v.effective.isoformat(): v for v in versions}
    for day in sorted(set(locked) - set(by_day)):
        raise PolicyError(
            f"policy_versions: {where}/{LOCK_FILE}: locked version {day} is missing; a version "
            "once published stays published: restore its files"
        )
    for day, version in by_day.items():
        started = version.status != "upcoming"
        if day not in locked:
            if started:
                raise PolicyError(
                    f"policy_versions: {version.source_path}: version {day} has taken effect but "
                    f"is not locked; check it is the text legal approved, run "
                    f"`make policy-version LOCK={day}` and commit {where}/{LOCK_FILE}"
                )
            continue
        if locked[day] == version.sha256:
            continue
        if not started:
            logger.warning(
                "policy_versions: %s: upcoming version %s changed since it was locked; "
                "lock it again before %s with `make policy-version LOCK=%s`",
                version.source_path,
                day,
                day,
                day,
            )
            continue
        source = Path(folder) / Path(version.source_path).name
        before = locked_record(source, locked[day])
        diff = (
            changed_lines(before, version.record, f"version {day}")
            if before is not None
            else "(the locked text is not in this repository's git history; `git log -p` shows it)"
        )
        raise PolicyError(
            f"policy_versions: {version.source_path}: version {day} is locked (it took effect on "
            f"{day}) but its text or declaration changed; restore it and publish the change as "
            f"a new version (`make policy-version DATE=YYYY-MM-DD`). What changed:\n{diff}"
        )


def check_site_against(document: PolicyDocument, site: Declaration, settings: dict) -> None:
    """What the site sets and contacts must be what the version in force declares."""
    if "COOKIE_INVENTORY" not in settings:  # no consent_banner: nothing set, nothing to compare
        return
    in_force = document.in_force
    problems = disagreements(site, in_force.declaration)
    if problems:
        later = [v for v in document.upcoming if not disagreements(site, v.declaration)]
        remedy = (
            f"the upcoming version {later[0].effective} declares it: keep it out of the site "
            f"until then and rebuild on {later[0].effective}"
            if later
            else "publish a new version that declares it (`make policy-version DATE=YYYY-MM-DD`) "
            "and keep it out of the site until that version takes effect"
        )
        raise PolicyError(
            f"policy_versions: the site sets or contacts what the policy in force "
            f"({in_force.source_path}) does not declare:\n  - "
            + "\n  - ".join(problems)
            + "\nEither bring the settings (CONSENT in pelicanconf.py, the embeds) back to what "
            f"the policy in force declares, or "
            f"{remedy}."
        )
    for item in unused(site, in_force.declaration, "CONSENT_PROVIDERS" in settings):
        logger.warning(
            "policy_versions: the policy in force (%s) declares %s, which the site no longer "
            "uses; the next version should drop it",
            in_force.source_path,
            item,
        )
