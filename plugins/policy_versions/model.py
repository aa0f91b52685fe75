"""The model of policy documents, which every other module of the plugin imports.

A document (one folder under ``content/policies/``) is a list of versions, oldest first;
a version may have translations. A version and a translation are both a text: each has
its own address, record (the bytes anyone can hash), lock line and approval. A
translation's legal meaning is its version's: the period, the status, the declaration
and the consent revision are the original's.

A version's declaration lists the cookies the site may set and the third parties it may
contact while the version is in force; its lock is its line in ``versions.lock``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup

NECESSARY = "necessary"  # the category a visitor is not asked about
# Pelican prints a message alone: every error and log line names the plugin.
PREFIX = "policy_versions: "


class PolicyError(Exception):
    """Bad policy input; the message names the file or the setting, and the fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(PREFIX + reason)
        self.reason = reason  # without the plugin's name, for the command line


class _Named(logging.LoggerAdapter):
    def process(self, msg: str, kwargs: Any) -> tuple[str, Any]:
        return PREFIX + msg, kwargs


logger = _Named(logging.getLogger(__package__), {})


@dataclass(frozen=True)
class Commands:
    """How the site runs each step, as the messages quote it (POLICY_VERSIONS['commands']):
    `new` and `lock` take the version's {day}; `publish` and `preview` are the builds."""

    new: str
    lock: str
    publish: str
    preview: str

    def run(self, step: str, day: object = "YYYY-MM-DD") -> str:
        """One step in the site's words: `make policy-version LOCK=2027-03-01`."""
        return getattr(self, step).format(day=day)

    @property
    def program(self) -> str:
        """The plugin's command line as the site runs it: what `new` and `lock` begin with."""
        return os.path.commonprefix([self.new, self.lock]).strip(" `")


# A site's own commands replace these (each a command in backticks, or words).
DEFAULT_COMMANDS = Commands(
    new="`python -m pelican.plugins.policy_versions new {day}`",
    lock="`python -m pelican.plugins.policy_versions lock {day}`",
    publish='a publishing build (site_check "fail")',
    preview='previews (site_check "warn")',
)


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def date_of(meta: dict, key: str, where: str) -> dt.date:
    """A required YYYY-MM-DD metadata line, as a date."""
    value = str(meta.get(key.lower(), "")).strip()
    if not value:
        raise PolicyError(f"{where}: missing '{key}: YYYY-MM-DD'")
    try:
        if not ISO_DATE.match(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PolicyError(f"{where}: '{key}' must be a YYYY-MM-DD date, not {value!r}") from None


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plain_text(fragment: str) -> str:
    """Text without the markup Pelican's Markdown reader gives a summary."""
    return " ".join(BeautifulSoup(fragment, "html.parser").get_text().split())


@dataclass(frozen=True)
class Declaration:
    cookies: tuple[dict[str, str], ...] = ()
    providers: tuple[dict[str, Any], ...] = ()
    consent_records: bool = False  # the site keeps a record (receipt) of each cookie choice

    def third_parties(self, site_name: str) -> set[str]:
        """Everyone but the site itself: each provider, and each cookie's setter."""
        setters = {cookie["provider"] for cookie in self.cookies}
        return ({p["name"] for p in self.providers} | setters) - {site_name}

    def purposes(self) -> set[str]:
        """The categories a visitor is asked about: all but the strictly necessary."""
        used = {c["category"] for c in self.cookies} | {p["category"] for p in self.providers}
        return used - {NECESSARY}


@dataclass(frozen=True)
class Lock:
    """One line of the lock file: the SHA-256 a text was approved with, and when."""

    digest: str
    day: dt.date | None = None  # None on lines written before the day was recorded

    def line(self, key: str) -> str:
        return f"{key}  {self.digest}" + (f"  {self.day.isoformat()}" if self.day else "")


class PolicyText:
    """What a version and a translation have alike: the pages they publish from their own
    URL, their record and lock line, whether they are approved, and their period."""

    url: str
    lang: str
    summary: str
    record: bytes
    effective: dt.date
    effective_until: dt.date | None
    original: PolicyVersion
    unapproved: list[str]  # what keeps it a draft (checks.unapproved); [] once approved

    @property
    def name(self) -> str:
        """ "version 2026-12-01", "translation 2026-12-01.nl"."""
        kind = "version" if self.original is self else "translation"
        return f"{kind} {self.lock_key}"

    @property
    def lock_key(self) -> str:
        """How versions.lock names it: 2026-12-01, or 2026-12-01.nl for a translation."""
        day = self.effective.isoformat()
        return day if self.original is self else f"{day}.{self.lang}"

    @property
    def record_name(self) -> str:
        """The published text (and declaration), for anyone to hash: 2026-12-01.txt."""
        return f"{self.lock_key}.txt"

    @property
    def sha256(self) -> str:
        return sha256(self.record)

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

    @property
    def summary_text(self) -> str:
        """The summary without the markup Pelican's Markdown reader gives it."""
        return plain_text(self.summary)

    @property
    def effective_text(self) -> str:
        return long_date(self.effective)

    @property
    def period(self) -> str:
        """E.g. "In force from 8 December 2022 to 30 November 2026"."""
        text = f"In force from {long_date(self.effective)}"
        if self.effective_until:
            text += f" to {long_date(self.effective_until)}"
        return text


@dataclass
class PolicyVersion(PolicyText):
    source_path: str
    title: str
    effective: dt.date
    summary: str
    reconsent: bool
    content: str
    url: str
    effective_until: dt.date | None = None
    status: str = "upcoming"
    previous: PolicyVersion | None = field(default=None, repr=False)
    reconsent_stated: bool = False  # a "Reconsent:" line was written, yes or no
    declaration: Declaration | None = None
    record: bytes = b""
    lang: str = "en"
    language: str = ""  # its name in LANGUAGES: "English"
    translations: list[PolicyTranslation] = field(default_factory=list, repr=False)
    lock: Lock | None = None  # its line in versions.lock
    unapproved: list[str] = field(default_factory=list)

    @property
    def original(self) -> PolicyVersion:
        """Itself: what a translation's ``original`` is, so templates treat both alike."""
        return self

    @property
    def published(self) -> dt.date | None:
        """The day it was published: the day it was locked (approved), at the latest its
        effective day (a lock line without a day: its effective day); None for a draft."""
        if self.draft:
            return None
        if self.lock and self.lock.day:
            return min(self.lock.day, self.effective)
        return self.effective

    @property
    def fixed(self) -> bool:
        """It has taken effect: it must be locked and may not change."""
        return self.status != "upcoming"

    @property
    def day(self) -> dt.date:
        """The day from which it may no longer change (a translation's may be later)."""
        return self.effective

    def translation(self, lang: str) -> PolicyTranslation | None:
        return next((t for t in self.translations if t.lang == lang), None)


@dataclass
class PolicyTranslation(PolicyText):
    """A version in another language, with its own text; its legal meaning is the original's.

    Its day is the later of its version's effective day and its own ``Translated:`` day,
    the day it is published: the feed dates it by that day, and from that day on it must
    be locked and may no longer change, as a version from its effective day.
    """

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
    def status(self) -> str:
        return self.original.status

    @property
    def declaration(self) -> Declaration | None:
        return self.original.declaration


@dataclass
class PolicyDocument:
    """One folder of versions: the privacy policy, terms of use, a cookie notice."""

    slug: str
    versions: list[PolicyVersion]  # oldest first
    in_force: PolicyVersion

    @property
    def title(self) -> str:
        return self.versions[-1].title

    @property
    def label(self) -> str:
        """The title as it reads inside a sentence: "Privacy policy"."""
        return self.title[:1].upper() + self.title[1:].lower()

    @property
    def url(self) -> str:
        return f"{self.slug}/"

    @property
    def history_url(self) -> str:
        return f"{self.slug}/history/"

    @property
    def feed_url(self) -> str:
        return f"{self.slug}/feed.atom"

    @property
    def json_url(self) -> str:
        return f"{self.slug}/versions.json"

    @property
    def newest_first(self) -> list[PolicyVersion]:
        return self.versions[::-1]

    @property
    def upcoming(self) -> list[PolicyVersion]:
        return [v for v in self.versions if v.status == "upcoming"]

    @property
    def texts(self) -> list[PolicyVersion | PolicyTranslation]:
        """Every version, oldest first, each followed by its translations."""
        return [text for version in self.versions for text in (version, *version.translations)]


def consent_revision(versions: list[PolicyVersion]) -> str:
    """Effective date of the newest started version that asks for consent again."""
    started = [v for v in versions if v.status != "upcoming"]
    asking = [v for v in started if v.reconsent] or started[:1]
    return asking[-1].effective.isoformat()
