"""Versioned policy documents: one folder per document, one Markdown file per version, kept forever.

Every folder under ``content/policies/`` (``privacy-policy``, say) is one document and
publishes /privacy-policy/ (the version in force), /privacy-policy/<date>/ for every
version with its record (text and declaration) and SHA-256, /privacy-policy/history/,
/privacy-policy/<date>/changes/ (a redline against the previous version),
/privacy-policy/versions.json and /privacy-policy/feed.atom. A version may have
translations (``2026-12-01.nl.md``, see translations.py), each at its own address
(/privacy-policy/2026-12-01/nl/) with its own redline. The build fails when a
version that took effect is not locked or changed, and when the site sets or contacts
something the version in force of the consent document does not declare. A version
not approved yet (checks.unapproved: not locked as it is, no Summary, no Reconsent
decision where one is needed) is a draft: a preview shows it, marked and with a
warning; a publishing build (see publishing()) refuses it.

Exposes to templates and other plugins, for the consent document: ``POLICY_IN_FORCE``,
``POLICY_URL``, ``POLICY_HISTORY_URL``, ``policy_versions`` and ``CONSENT_REVISION``;
and ``policy_documents``, every document.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from pelican import signals
from pelican.contents import Page
from pelican.generators import Generator

from .archive import atom_feed, plain_text, versions_json
from .checks import PolicyError, check_approval, check_lock, check_site_against, unapproved
from .declaration import Declaration, DeclarationError, read_declaration, site_declaration
from .lock import Lock, LockError, declaration_path, read_lock, record, sha256
from .redline import redline
from .translations import Addressed, PolicyTranslation, attach, check_language, languages

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = {
    "source": "policies",
    "consent_document": "privacy-policy",
    "today": None,
    # "fail": a publishing build (publishconf.py), which refuses a disagreement between the
    # site and the policy in force, and any draft; "warn": a preview (pelicanconf.py),
    # which shows both with a warning. See publishing().
    "site_check": "fail",
}
SITE_CHECKS = ("fail", "warn")
# 2026-12-01.md, a version; 2026-12-01.nl.md, its translation into Dutch.
FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.([a-z]{2,3}(?:-[A-Za-z0-9]+)*))?\.\w+$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RECONSENT_VALUES = {"yes": True, "no": False}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Placeholders drawn from the version's own declaration: template, and what it lists.
TABLES = {
    "cookie_table": ("_cookie_table", "cookies"),
    "provider_table": ("_provider_table", "providers"),
}


@dataclass
class PolicyVersion(Addressed):
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
    def published(self) -> dt.date | None:
        """The day it was published: the day it was locked (approved), at the latest its
        effective day (a lock line without a day: its effective day); None for a draft."""
        if self.draft:
            return None
        if self.lock and self.lock.day:
            return min(self.lock.day, self.effective)
        return self.effective

    @property
    def original(self) -> PolicyVersion:
        """Itself: what a translation's ``original`` is, so templates treat both alike."""
        return self

    @property
    def fixed(self) -> bool:
        """It has taken effect: it must be locked and may not change."""
        return self.status != "upcoming"

    @property
    def lock_key(self) -> str:
        return self.effective.isoformat()

    @property
    def day(self) -> dt.date:
        """The day from which it may no longer change (a translation's may be later)."""
        return self.effective

    def translation(self, lang: str) -> PolicyTranslation | None:
        return next((t for t in self.translations if t.lang == lang), None)

    @property
    def record_name(self) -> str:
        """The published text and declaration, for anyone to hash: 2026-12-01.txt."""
        return f"{self.effective.isoformat()}.txt"

    @property
    def sha256(self) -> str:
        return sha256(self.record)

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


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def read_config(settings: dict) -> dict:
    config = {**DEFAULT_CONFIG, **settings.get("POLICY_VERSIONS", {})}
    unknown = set(config) - set(DEFAULT_CONFIG)
    if unknown:
        raise PolicyError(f"policy_versions: Invalid 'POLICY_VERSIONS' key: {sorted(unknown)[0]!r}")
    if config["site_check"] not in SITE_CHECKS:
        raise PolicyError(
            f"policy_versions: Invalid 'POLICY_VERSIONS' key: 'site_check': "
            f"{config['site_check']!r} is not one of {', '.join(SITE_CHECKS)}"
        )
    return config


def publishing(config: dict) -> bool:
    """A build of the site as it goes live, which publishes nothing legal has not approved:
    publishconf.py sets site_check "fail" (the default), pelicanconf.py "warn"."""
    return config["site_check"] == "fail"


def build_date(config: dict, timezone: str) -> dt.date:
    """The day that decides which version is in force: pinned, or today where the site is."""
    if config["today"]:
        try:
            return dt.date.fromisoformat(str(config["today"]))
        except ValueError:
            raise PolicyError(
                f"policy_versions: 'POLICY_VERSIONS' today is not a YYYY-MM-DD date: "
                f"{config['today']!r}"
            ) from None
    zone = ZoneInfo(timezone)
    if epoch := os.environ.get("SOURCE_DATE_EPOCH"):
        try:
            return dt.datetime.fromtimestamp(int(epoch), zone).date()
        except ValueError:
            raise PolicyError(
                f"policy_versions: SOURCE_DATE_EPOCH is not a number of seconds: {epoch!r}"
            ) from None
    return dt.datetime.now(zone).date()


def assign_periods(versions: list[PolicyVersion], today: dt.date) -> PolicyVersion:
    """Link versions, set their periods and statuses; return the one in force."""
    versions.sort(key=lambda v: v.effective)
    for earlier, later in zip(versions, versions[1:], strict=False):
        if earlier.effective == later.effective:
            raise PolicyError(
                f"policy_versions: {later.source_path}: two versions take effect on "
                f"{later.effective} (the other is {earlier.source_path})"
            )
        earlier.effective_until = later.effective - dt.timedelta(days=1)
        later.previous = earlier
    started = [v for v in versions if v.effective <= today]
    if not started:
        raise PolicyError(
            f"policy_versions: no policy version is in force on {today}; the earliest, "
            f"{versions[0].source_path}, takes effect on {versions[0].effective}"
        )
    in_force = started[-1]
    for version in started:
        version.status = "in force" if version is in_force else "superseded"
    return in_force


def consent_revision(versions: list[PolicyVersion]) -> str:
    """Effective date of the newest started version that asks for consent again."""
    started = [v for v in versions if v.status != "upcoming"]
    asking = [v for v in started if v.reconsent] or started[:1]
    return asking[-1].effective.isoformat()


def date_of(meta: dict, key: str, where: str) -> dt.date:
    """A required YYYY-MM-DD metadata line, as a date."""
    value = str(meta.get(key.lower(), "")).strip()
    if not value:
        raise PolicyError(f"policy_versions: {where}: missing '{key}: YYYY-MM-DD'")
    try:
        if not ISO_DATE.match(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PolicyError(
            f"policy_versions: {where}: '{key}' must be a YYYY-MM-DD date, not {value!r}"
        ) from None


def effective_of(meta: dict, where: str, named: str) -> dt.date:
    """The 'Effective' date, which must be the date the file is named by."""
    effective = date_of(meta, "Effective", where)
    if effective.isoformat() != named:
        raise PolicyError(
            f"policy_versions: {where}: the file name says {named} but 'Effective' says {effective}"
        )
    return effective


def reconsent_of(meta: dict, where: str) -> bool:
    reconsent = str(meta.get("reconsent", "no")).strip().lower()
    if reconsent not in RECONSENT_VALUES:
        raise PolicyError(
            f"policy_versions: {where}: 'Reconsent' must be yes or no, not {reconsent!r}"
        )
    return RECONSENT_VALUES[reconsent]


class PolicyVersionsGenerator(Generator):
    """Reads every document's versions, checks them, and writes the policy pages."""

    def generate_context(self) -> None:
        config = read_config(self.settings)
        root = Path(self.path) / config["source"]
        today = build_date(config, self.settings.get("TIMEZONE") or "UTC")
        if not root.is_dir():
            raise PolicyError(f"policy_versions: policy folder not found: {root}")
        folders = sorted(p for p in root.iterdir() if p.is_dir())
        consent_slug = config["consent_document"]
        if consent_slug not in [folder.name for folder in folders]:
            raise PolicyError(
                f"policy_versions: 'POLICY_VERSIONS' consent_document {consent_slug!r} is not a "
                f"folder of {root}; found: {', '.join(f.name for f in folders) or 'none'}"
            )
        self.documents = [
            self.read_document(folder, today, folder.name == consent_slug, publishing(config))
            for folder in folders
        ]
        self.today = today
        consent = next(d for d in self.documents if d.slug == consent_slug)
        try:
            check_site_against(consent, site_declaration(self.settings), self.settings)
        except PolicyError as disagreement:
            if config["site_check"] == "fail":
                raise
            logger.warning("%s (a preview: 'make publish' refuses this)", disagreement)
        self.context.update(
            policy_documents=self.documents,
            policy_versions=consent.newest_first,
            POLICY_IN_FORCE=consent.in_force,
            POLICY_URL=consent.url,
            POLICY_HISTORY_URL=consent.history_url,
            CONSENT_REVISION=consent_revision(consent.versions),
        )
        for document in self.documents:
            logger.info(
                "policy_versions: %s: %d versions, %d translations; in force on %s: %s",
                document.slug,
                len(document.versions),
                sum(len(v.translations) for v in document.versions),
                today,
                document.in_force.effective,
            )

    def read_document(
        self, folder: Path, today: dt.date, drives_consent: bool, publish: bool
    ) -> PolicyDocument:
        extensions = set(self.readers.extensions)
        files = sorted(p for p in folder.iterdir() if p.suffix.lstrip(".") in extensions)
        named = [(path, self.name_parts(path)) for path in files]
        versions = [self.read_version(path, folder.name) for path, (_, lang) in named if not lang]
        if not versions:
            raise PolicyError(f"policy_versions: no policy version found in {folder}")
        in_force = assign_periods(versions, today)
        by_day = {v.lock_key: v for v in versions}
        translations = [
            self.read_translation(path, day, lang, by_day) for path, (day, lang) in named if lang
        ]
        attach(translations, today)
        site_name = self.settings.get("SITENAME", "")
        for translation in translations:
            translation.content = self.fill_placeholders(translation)
        for version in versions:
            version.content = self.fill_placeholders(version)
            if drives_consent and version.declaration is None:
                raise PolicyError(
                    f"policy_versions: {version.source_path}: no declaration of cookies and "
                    f"third parties beside it; while it is upcoming, write one with "
                    f"`make policy-version DATE={version.effective}`"
                )
        try:
            locks = read_lock(folder)
        except LockError as error:
            raise PolicyError(str(error)) from None
        texts = [text for version in versions for text in (version, *version.translations)]
        for text in texts:  # a version before its translations, which depend on it
            text.lock = locks.get(text.lock_key)
            text.unapproved = unapproved(text, site_name)
        check_lock(folder, versions, os.path.relpath(folder, self.path), locks)
        check_approval(texts, publish)
        return PolicyDocument(slug=folder.name, versions=versions, in_force=in_force)

    def name_parts(self, path: Path) -> tuple[str, str | None]:
        """The effective date a file is named by, and the language of a translation."""
        named = FILE_NAME.match(path.name)
        if not named:
            raise PolicyError(
                f"policy_versions: {os.path.relpath(path, self.path)}: name the file by its "
                "effective date, like 2022-12-08.md (a translation: 2022-12-08.nl.md)"
            )
        return named.group(1), named.group(2)

    def read_page(self, path: Path) -> Page:
        try:
            return self.readers.read_file(
                base_path=self.path, path=str(path), content_class=Page, context=self.context
            )
        except Exception as error:
            where = os.path.relpath(path, self.path)
            raise PolicyError(f"policy_versions: {where}: cannot read it: {error}") from error

    def read_version(self, path: Path, slug: str) -> PolicyVersion:
        where = os.path.relpath(path, self.path)
        day, _ = self.name_parts(path)
        page = self.read_page(path)
        meta = page.metadata
        effective_date = effective_of(meta, where, day)
        reconsent = reconsent_of(meta, where)
        declaration = None
        if declaration_path(path).exists():
            try:
                declaration = read_declaration(
                    declaration_path(path), os.path.relpath(declaration_path(path), self.path)
                )
            except DeclarationError as error:
                raise PolicyError(str(error)) from None
        url = f"{slug}/{day}/"
        lang = self.settings.get("DEFAULT_LANG", "en")
        page.override_url = url  # where {filename} links to this file should point
        self.add_source_path(page)
        return PolicyVersion(
            source_path=where,
            title=page.title,
            effective=effective_date,
            summary=meta.get("summary", ""),
            reconsent=reconsent,
            reconsent_stated="reconsent" in meta,
            content=page.content,
            url=url,
            declaration=declaration,
            record=record(path),
            lang=lang,
            language=languages(self.settings).get(lang, lang),
        )

    def read_translation(
        self, path: Path, day: str, lang: str, versions: dict[str, PolicyVersion]
    ) -> PolicyTranslation:
        """A translation: checked against its version, which decides all but the words."""
        where = os.path.relpath(path, self.path)
        check_language(lang, where, self.settings)
        original = versions.get(day)
        if original is None:
            raise PolicyError(
                f"policy_versions: {where}: a translation of version {day}, which does not "
                f"exist: write {day}.md first, or name the file by the version it translates"
            )
        if declaration_path(path).exists():
            raise PolicyError(
                f"policy_versions: {os.path.relpath(declaration_path(path), self.path)}: a "
                f"translation has no declaration of its own; {original.source_path}'s applies: "
                "remove this file"
            )
        page = self.read_page(path)
        meta = page.metadata
        stated = str(meta.get("lang", lang)).strip()
        if stated != lang:
            raise PolicyError(
                f"policy_versions: {where}: the file name says {lang!r} but 'Lang' says {stated!r}"
            )
        if "effective" in meta:  # kept from a copy of the original: it must still agree
            effective_of(meta, where, day)
        if "reconsent" in meta and reconsent_of(meta, where) != original.reconsent:
            raise PolicyError(
                f"policy_versions: {where}: 'Reconsent' disagrees with {original.source_path}; "
                "only the version decides whether visitors are asked again: remove the line"
            )
        translation = PolicyTranslation(
            original=original,
            lang=lang,
            language=languages(self.settings)[lang],
            source_path=where,
            title=page.title,
            summary=meta.get("summary", ""),
            content=page.content,
            translated=date_of(meta, "Translated", where),
            record=record(path),
        )
        page.override_url = translation.url
        self.add_source_path(page)
        return translation

    def fill_placeholders(self, version: PolicyVersion | PolicyTranslation) -> str:
        """Fill {contact_email} from the settings, the tables from the version's declaration."""

        def fill(match: re.Match) -> str:
            name = match.group(1)
            if name == "contact_email":
                address = self.settings.get("CONTACT_EMAIL")
                if not address:
                    raise PolicyError(
                        f"policy_versions: {version.source_path}: {{contact_email}} "
                        "needs the CONTACT_EMAIL setting"
                    )
                address = html.escape(address)
                return f'<a href="mailto:{address}">{address}</a>'
            if name in TABLES:
                if version.declaration is None:
                    raise PolicyError(
                        f"policy_versions: {version.source_path}: {{{name}}} needs a "
                        "declaration beside the version; write one with "
                        f"`make policy-version DATE={version.effective}`"
                    )
                template, key = TABLES[name]
                entries = getattr(version.declaration, key)
                return self.get_template(template).render(**{key: entries})
            raise PolicyError(
                f"policy_versions: {version.source_path}: unknown placeholder {{{name}}}; "
                "known: {contact_email}, {cookie_table}, {provider_table}"
            )

        # A placeholder alone in a paragraph stands for a block (a table).
        content = re.sub(r"<p>(\{(?:cookie|provider)_table\})</p>", r"\1", version.content)
        return PLACEHOLDER.sub(fill, content)

    def generate_output(self, writer) -> None:
        for document in self.documents:
            self.write_document(writer, document)

    def write_document(self, writer, document: PolicyDocument) -> None:
        policy = self.get_template("policy")
        page = {"document": document, "upcoming": document.upcoming}
        writer.write_file(
            f"{document.url}index.html",
            policy,
            self.context,
            version=document.in_force,
            canonical_url=document.in_force.url,
            **page,
        )
        for version in document.versions:
            for text in (version, *version.translations):
                self.write_text(writer, text, page)
        writer.write_file(
            f"{document.history_url}index.html",
            self.get_template("policy_history"),
            self.context,
            **page,
        )
        site_url = self.settings.get("SITEURL", "")
        self.write_raw(document.json_url, versions_json(document, site_url).encode())
        site_name = self.settings.get("SITENAME", "")
        feed = atom_feed(document, site_url, site_name, self.timezone, self.today)
        self.write_raw(document.feed_url, feed)

    def write_text(
        self, writer, text: PolicyVersion | PolicyTranslation, page: dict[str, object]
    ) -> None:
        """A version or translation: its page, its changes (if not the first), its record."""
        writer.write_file(
            text.save_as, self.get_template("policy"), self.context, version=text, **page
        )
        if text.original.previous:
            # A translation whose previous version has none in its language gets the
            # page too, saying so: its address does not depend on what was translated.
            writer.write_file(
                text.changes_save_as,
                self.get_template("policy_changes"),
                self.context,
                version=text,
                redline=redline(text.previous.content, text.content) if text.previous else None,
                **page,
            )
        self.write_raw(text.url + text.record_name, text.record)

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.get("TIMEZONE") or "UTC")

    def write_raw(self, name: str, data: bytes) -> None:
        path = Path(self.output_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def get_generators(pelican) -> type[Generator]:
    return PolicyVersionsGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
