"""Translations of a policy version: ``2026-12-01.nl.md`` beside ``2026-12-01.md``.

A translation has its own text, address (/privacy-policy/2026-12-01/nl/), record and
lock line; everything that has legal effect stays the original's: the period, the
status, the declaration, the consent revision. The original (DEFAULT_LANG) is the
authoritative text.

A translation's day is the later of its version's effective day and its own
``Translated:`` day, the day it is published: the feed dates it by that day, and
from that day on it must be locked and may no longer change, as a version from its
effective day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .archive import plain_text
from .checks import PolicyError
from .lock import sha256

if TYPE_CHECKING:
    from .declaration import Declaration
    from .lock import Lock
    from .policy_versions import PolicyVersion


class Addressed:
    """The pages a version or a translation publishes, from its own URL, and whether it
    is approved."""

    url: str
    unapproved: list[str]  # what keeps it a draft (checks.unapproved); [] once approved

    @property
    def draft(self) -> bool:
        return bool(self.unapproved)

    @property
    def save_as(self) -> str:
        return f"{self.url}index.html"

    @property
    def changes_url(self) -> str:
        return f"{self.url}changes/"

    @property
    def changes_save_as(self) -> str:
        return f"{self.url}changes/index.html"


@dataclass
class PolicyTranslation(Addressed):
    """A version in another language, with its own text; its legal meaning is the original's."""

    original: PolicyVersion = field(repr=False)
    lang: str
    language: str  # its name in LANGUAGES: "Nederlands"
    source_path: str
    title: str
    summary: str
    content: str
    translated: dt.date
    record: bytes
    fixed: bool = False  # its day has come: it must be locked and may not change
    lock: Lock | None = None  # its line in versions.lock
    unapproved: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.original.url}{self.lang}/"

    @property
    def lock_key(self) -> str:
        """How versions.lock names it: 2026-12-01.nl."""
        return f"{self.original.effective.isoformat()}.{self.lang}"

    @property
    def record_name(self) -> str:
        return f"{self.lock_key}.txt"

    @property
    def sha256(self) -> str:
        return sha256(self.record)

    @property
    def day(self) -> dt.date:
        """The day it counts from: its version's effective day, or its own if later."""
        return max(self.original.effective, self.translated)

    @property
    def published(self) -> dt.date | None:
        """The day it was published: its 'Translated' day, or its version's if later; None
        for a draft."""
        if self.draft:
            return None
        return max(self.original.published, self.translated)

    @property
    def previous(self) -> PolicyTranslation | None:
        """What its redline compares it with: the previous version in the same language."""
        before = self.original.previous
        return before.translation(self.lang) if before else None

    @property
    def translations(self) -> list[PolicyVersion | PolicyTranslation]:
        """The same version in the other languages, the original first (like Pelican's)."""
        others = [t for t in self.original.translations if t is not self]
        return [self.original, *others]

    # What a translation cannot change: its version's.
    @property
    def effective(self) -> dt.date:
        return self.original.effective

    @property
    def effective_until(self) -> dt.date | None:
        return self.original.effective_until

    @property
    def effective_text(self) -> str:
        return self.original.effective_text

    @property
    def status(self) -> str:
        return self.original.status

    @property
    def period(self) -> str:
        return self.original.period

    @property
    def declaration(self) -> Declaration | None:
        return self.original.declaration

    @property
    def summary_text(self) -> str:
        return plain_text(self.summary)


def languages(settings: dict) -> dict[str, str]:
    """The languages the site publishes: LANGUAGES, or only the default language."""
    default = settings.get("DEFAULT_LANG", "en")
    return settings.get("LANGUAGES") or {default: default}


def check_language(lang: str, where: str, settings: dict) -> None:
    """A translation is into a language the site publishes, other than the original's."""
    published = languages(settings)
    default = settings.get("DEFAULT_LANG", "en")
    if lang == default:
        raise PolicyError(
            f"policy_versions: {where}: a translation into {lang!r}, the language of the "
            f"original (DEFAULT_LANG); the original is the {lang!r} text"
        )
    if lang not in published:
        raise PolicyError(
            f"policy_versions: {where}: a translation into {lang!r}, which is not a language "
            f"the site publishes (LANGUAGES: {', '.join(published)})"
        )


def attach(translations: list[PolicyTranslation], today: dt.date) -> None:
    """Give each version its translations, one per language, and say which are fixed."""
    seen: dict[str, PolicyTranslation] = {}
    for translation in sorted(translations, key=lambda t: t.source_path):
        other = seen.setdefault(translation.lock_key, translation)
        if other is not translation:
            raise PolicyError(
                f"policy_versions: {translation.source_path}: two translations of "
                f"{translation.effective} into {translation.lang!r} (the other is "
                f"{other.source_path})"
            )
        translation.fixed = translation.day <= today
        translation.original.translations.append(translation)
    for translation in translations:
        translation.original.translations.sort(key=lambda t: t.lang)
