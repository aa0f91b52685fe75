"""The checks that make policy versions a legal record.

A version that took effect never changes (the lock); a version is published only
once approved (locked, with a Summary, and, if it adds a third party or purpose, a
decision whether visitors are asked again); and the site sets and contacts nothing
the version in force does not declare.
"""

from __future__ import annotations

from pathlib import Path

from .declaration import additions, disagreements, held_to, not_declared_remedy, unused
from .lock import GIT_HISTORY_DEPTH, LOCK_FILE, changed_lines, in_git, locked_record, read_lock
from .model import (
    Commands,
    Declaration,
    Lock,
    PolicyDocument,
    PolicyError,
    PolicyTranslation,
    PolicyVersion,
    logger,
)


def added_to(version: PolicyVersion, site_name: str) -> list[str]:
    """The third parties and purposes a version adds to the one before it."""
    before = version.previous
    if not before or not (before.declaration and version.declaration):
        return []
    return additions(before.declaration, version.declaration, site_name)


def open_questions(summary: str, reconsent_stated: bool, added: list[str]) -> list[str]:
    """What legal has still to decide in a version: what changed, and, when it adds a third
    party or purpose, whether visitors are asked again."""
    questions = []
    if not summary:
        questions.append("no Summary: say what changed in 'Summary:'")
    if added and not reconsent_stated:
        questions.append(
            f"no Reconsent decision: it adds {', '.join(added)}; say whether visitors are "
            "asked again: 'Reconsent: yes' (the banner asks everyone once this version is in "
            "force) or 'Reconsent: no'"
        )
    return questions


def unapproved(
    text: PolicyVersion | PolicyTranslation, site_name: str, commands: Commands
) -> list[str]:
    """What keeps a version or translation a draft; [] once it is approved.

    The one definition of a draft. A version is approved when it is locked as it is now
    and legal has answered its open questions (see open_questions); a translation, when
    it is locked as it is now and its version is approved. Previews show a draft, marked
    "Draft, not approved" and with a warning; a publishing build refuses it.
    """
    day = text.effective.isoformat()
    lock = commands.run("lock", day)
    missing = []
    if text.original is text:
        added = added_to(text, site_name)
        missing += open_questions(text.summary_text, text.reconsent_stated, added)
    elif text.original.draft:
        missing.append(f"its version {day} is a draft")
    if text.lock is None:
        missing.append(f"not locked: run {lock} once approved")
    elif text.lock.digest != text.sha256:
        missing.append(f"changed since it was locked: run {lock} once approved")
    return missing


def check_approval(
    texts: list[PolicyVersion | PolicyTranslation], publishing: bool, commands: Commands
) -> None:
    """A draft is a warning in a preview and an error when publishing; a locked version
    whose questions are open is an error in every build (the lock approved it as it is)."""
    refused = []
    for text in texts:
        if not text.draft:
            continue
        missing = "; ".join(text.unapproved)
        # Locked as it is, a version can only lack answers; a translation locked as it is
        # waits for its version, which is no error.
        if text.original is text and text.lock and text.lock.digest == text.sha256:
            raise PolicyError(
                f"{text.source_path}: {text.name} is locked, but {missing}; "
                f"answer it, then lock it again with {commands.run('lock', text.effective)}"
            )
        if publishing:
            refused.append(f"  - {text.source_path}: {missing}")
            continue
        logger.warning(
            '%s: %s is a draft, not approved: %s. Its pages are marked "Draft, '
            'not approved"; %s refuses it.',
            text.source_path,
            text.name,
            missing,
            commands.publish,
        )
    if refused:
        raise PolicyError(
            f"not approved, so never published (a draft shows only in {commands.preview}):\n"
            + "\n".join(refused)
        )


def check_document(
    document: PolicyDocument,
    folder: Path,
    where: str,
    site_name: str,
    publishing: bool,
    commands: Commands,
) -> None:
    """Say of each text whether it is approved (unapproved), then check the lock and the
    approvals; `where`, the folder as the messages name it."""
    locks = read_lock(folder)
    for text in document.texts:  # a version before its translations, which depend on it
        text.lock = locks.get(text.lock_key)
        text.unapproved = unapproved(text, site_name, commands)
    check_lock(folder, document, where, locks, commands)
    check_approval(document.texts, publishing, commands)


def check_lock(
    folder: Path, document: PolicyDocument, where: str, locked: dict[str, Lock], commands: Commands
) -> None:
    """Every version and translation whose day has come is locked, and still hashes to its
    lock; before its day a change only makes it a draft again (see unapproved)."""
    texts = {text.lock_key: text for text in document.texts}
    for key in sorted(set(locked) - set(texts)):
        kind = "translation" if "." in key else "version"
        raise PolicyError(
            f"{where}/{LOCK_FILE}: locked {kind} {key} is missing; a {kind} "
            "once published stays published: restore its files"
        )
    for text in texts.values():
        if not text.fixed:
            continue
        if text.lock is None:
            raise PolicyError(f"{text.source_path}: {_unlocked(text, where, commands)}")
        if text.lock.digest == text.sha256:
            continue
        source = Path(folder) / Path(text.source_path).name
        before = locked_record(source, text.lock.digest)
        diff = (
            changed_lines(before, text.record, text.name)
            if before is not None
            else _not_found(folder, text)
        )
        raise PolicyError(f"{text.source_path}: {_changed(text, commands)} What changed:\n{diff}")


def _embedded_in(site: Declaration, declared: Declaration, settings: dict) -> list[str]:
    """Where each embed provider the policy does not declare (or its cookies) is embedded."""
    lines = []
    for provider in settings.get("CONSENT_PROVIDERS") or []:
        name, places = provider.name, provider.embedded_in
        own = Declaration(
            cookies=tuple(c for c in site.cookies if c["provider"] == name),
            providers=tuple(p for p in site.providers if p["name"] == name),
        )
        if places and disagreements(own, declared):
            lines.append(f"{name} is embedded in {', '.join(places)}.")
    return lines


def _not_found(folder: Path, text: PolicyVersion | PolicyTranslation) -> str:
    """Where to find the locked text when git cannot show it."""
    if in_git(folder):
        why = (
            f"neither git's index nor the last {GIT_HISTORY_DEPTH} commits that change its "
            "files hold the text that was locked"
        )
    else:
        why = "this folder is not in a git repository, so the text that was locked cannot be shown"
    return (
        f"({why}; the published record /{text.url}{text.record_name} is that text: compare "
        "the files with it)"
    )


def _unlocked(text: PolicyVersion | PolicyTranslation, where: str, commands: Commands) -> str:
    day = text.effective.isoformat()
    lock = commands.run("lock", day)
    if text.original is text:
        return (
            f"version {day} has taken effect but is not locked; check it is the text legal "
            f"approved, run {lock} and commit {where}/{LOCK_FILE}"
        )
    return (
        f"translation {text.lock_key} is published from {text.day} but is not locked; "
        f"check it, run {lock} and commit {where}/{LOCK_FILE}"
    )


def _changed(text: PolicyVersion | PolicyTranslation, commands: Commands) -> str:
    day = text.effective.isoformat()
    if text.original is text:
        return (
            f"version {day} is locked (it took effect on {day}) but its text or declaration "
            f"changed; restore it and publish the change as a new version ({commands.run('new')})."
        )
    return (
        f"translation {text.lock_key} is locked (published from {text.day}) but its text "
        f"changed; restore it: a published translation never changes. Correct it in the "
        f"translation of the next version ({commands.run('new')})."
    )


def check_site_against(
    document: PolicyDocument, site: Declaration, settings: dict, commands: Commands
) -> None:
    """What the site sets and contacts must be what the version in force declares.

    What the banner holds back until a version declares it (consent records, the consent
    cookie's words: see held_to) is accepted once an approved upcoming version declares
    the settings: it takes effect by itself on that version's day."""
    if "COOKIE_INVENTORY" not in settings:  # no consent_banner: nothing set, nothing to compare
        return
    in_force, cookie = document.in_force, settings.get("CONSENT_COOKIE") or {}
    problems = disagreements(site, in_force.declaration)
    coming = _declaring(document, site, cookie, held=False)
    held = held_to(site, in_force.declaration, cookie)
    waiting = [p for p in problems if p not in disagreements(held, in_force.declaration)]
    if waiting and coming and not coming.draft:
        logger.info(
            "the settings go beyond the policy in force (%s): %s. The approved version "
            "%s declares them: until its day the site does what the version in force "
            "declares, and the first build from that day switches them on",
            in_force.source_path,
            "; ".join(waiting),
            coming.effective,
        )
        site = held
        problems = disagreements(site, in_force.declaration)
        coming = _declaring(document, site, cookie, held=True)
    if problems:
        raise PolicyError(
            f"the site sets or contacts what the policy in force "
            f"({in_force.source_path}) does not declare:\n  - "
            + "\n  - ".join(problems)
            + "".join(f"\n{line}" for line in _embedded_in(site, in_force.declaration, settings))
            + f"\nWhat to do: {not_declared_remedy(commands, coming and str(coming.effective))}."
        )
    for item in unused(site, in_force.declaration, "CONSENT_PROVIDERS" in settings):
        logger.warning(
            "the policy in force (%s) declares %s, which the site no longer "
            "uses; the next version should drop it",
            in_force.source_path,
            item,
        )


def _declaring(
    document: PolicyDocument, site: Declaration, cookie: dict, held: bool
) -> PolicyVersion | None:
    """The first upcoming version that declares what the site does; `held`: the site as the
    banner runs it while that version is in force (held_to)."""
    for version in document.upcoming:
        declared = version.declaration
        if not disagreements(held_to(site, declared, cookie) if held else site, declared):
            return version
    return None
