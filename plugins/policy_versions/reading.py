"""Reading a document's folder: one Markdown file per version, its declaration beside it,
and its translations (``2026-12-01.nl.md`` beside ``2026-12-01.md``), through Pelican's
readers, so that the versions are pages as any other: ``{filename}`` links to them work.

A translation has its own text, address (/privacy-policy/2026-12-01/nl/), record and
lock line; everything that has legal effect stays the original's (see model). The
original (DEFAULT_LANG) is the authoritative text.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from pathlib import Path

from pelican.contents import Page
from pelican.generators import Generator

from .declaration import read_declaration
from .lock import declaration_path, record
from .model import (
    Commands,
    PolicyDocument,
    PolicyError,
    PolicyTranslation,
    PolicyVersion,
    date_of,
)

# 2026-12-01.md, a version; 2026-12-01.nl.md, its translation into Dutch.
FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.([a-z]{2,3}(?:-[A-Za-z0-9]+)*))?\.\w+$")
RECONSENT_VALUES = {"yes": True, "no": False}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Placeholders drawn from the version's own declaration: template, and what it lists.
TABLES = {
    "cookie_table": ("_cookie_table", "cookies"),
    "provider_table": ("_provider_table", "providers"),
}


def effective_of(meta: dict, where: str, named: str) -> dt.date:
    """The 'Effective' date, which must be the date the file is named by."""
    effective = date_of(meta, "Effective", where)
    if effective.isoformat() != named:
        raise PolicyError(f"{where}: the file name says {named} but 'Effective' says {effective}")
    return effective


def reconsent_of(meta: dict, where: str) -> bool:
    reconsent = str(meta.get("reconsent", "no")).strip().lower()
    if reconsent not in RECONSENT_VALUES:
        raise PolicyError(f"{where}: 'Reconsent' must be yes or no, not {reconsent!r}")
    return RECONSENT_VALUES[reconsent]


def assign_periods(versions: list[PolicyVersion], today: dt.date) -> PolicyVersion:
    """Link versions, set their periods and statuses; return the one in force."""
    versions.sort(key=lambda v: v.effective)
    for earlier, later in zip(versions, versions[1:], strict=False):
        if earlier.effective == later.effective:
            raise PolicyError(
                f"{later.source_path}: two versions take effect on "
                f"{later.effective} (the other is {earlier.source_path})"
            )
        earlier.effective_until = later.effective - dt.timedelta(days=1)
        later.previous = earlier
    started = [v for v in versions if v.effective <= today]
    if not started:
        raise PolicyError(
            f"no policy version is in force on {today}; the earliest, "
            f"{versions[0].source_path}, takes effect on {versions[0].effective}"
        )
    in_force = started[-1]
    for version in started:
        version.status = "in force" if version is in_force else "superseded"
    return in_force


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
            f"{where}: a translation into {lang!r}, the language of the "
            f"original (DEFAULT_LANG); the original is the {lang!r} text"
        )
    if lang not in published:
        raise PolicyError(
            f"{where}: a translation into {lang!r}, which is not a language "
            f"the site publishes (LANGUAGES: {', '.join(published)})"
        )


def attach(translations: list[PolicyTranslation], today: dt.date) -> None:
    """Give each version its translations, one per language, and say which are fixed."""
    seen: dict[str, PolicyTranslation] = {}
    for translation in sorted(translations, key=lambda t: t.source_path):
        other = seen.setdefault(translation.lock_key, translation)
        if other is not translation:
            raise PolicyError(
                f"{translation.source_path}: two translations of "
                f"{translation.effective} into {translation.lang!r} (the other is "
                f"{other.source_path})"
            )
        translation.fixed = translation.day <= today
        translation.original.translations.append(translation)
    for translation in translations:
        translation.original.translations.sort(key=lambda t: t.lang)


class PolicyReader(Generator):
    """Reads every version and translation of a document folder, as Pelican pages."""

    def read_document(
        self, folder: Path, today: dt.date, drives_consent: bool, commands: Commands
    ) -> PolicyDocument:
        extensions = set(self.readers.extensions)
        files = sorted(p for p in folder.iterdir() if p.suffix.lstrip(".") in extensions)
        named = [(path, self.name_parts(path)) for path in files]
        versions = [self.read_version(path, folder.name) for path, (_, lang) in named if not lang]
        if not versions:
            raise PolicyError(f"no policy version found in {folder}")
        in_force = assign_periods(versions, today)
        by_day = {v.lock_key: v for v in versions}
        translations = [
            self.read_translation(path, day, lang, by_day) for path, (day, lang) in named if lang
        ]
        attach(translations, today)
        for translation in translations:
            translation.content = self.fill_placeholders(translation, commands)
        for version in versions:
            version.content = self.fill_placeholders(version, commands)
            if drives_consent and version.declaration is None:
                raise PolicyError(
                    f"{version.source_path}: no declaration of cookies and "
                    f"third parties beside it; while it is upcoming, write one with "
                    f"{commands.run('new', version.effective)}"
                )
        return PolicyDocument(slug=folder.name, versions=versions, in_force=in_force)

    def where(self, path: Path) -> str:
        """A file as the messages name it: relative to the content folder."""
        return os.path.relpath(path, self.path)

    def name_parts(self, path: Path) -> tuple[str, str | None]:
        """The effective date a file is named by, and the language of a translation."""
        named = FILE_NAME.match(path.name)
        if not named:
            raise PolicyError(
                f"{self.where(path)}: name the file by its "
                "effective date, like 2022-12-08.md (a translation: 2022-12-08.nl.md)"
            )
        return named.group(1), named.group(2)

    def read_page(self, path: Path) -> Page:
        try:
            return self.readers.read_file(
                base_path=self.path, path=str(path), content_class=Page, context=self.context
            )
        except Exception as error:
            where = self.where(path)
            raise PolicyError(f"{where}: cannot read it: {error}") from error

    def read_version(self, path: Path, slug: str) -> PolicyVersion:
        where = self.where(path)
        day, _ = self.name_parts(path)
        page = self.read_page(path)
        meta = page.metadata
        effective_date = effective_of(meta, where, day)
        reconsent = reconsent_of(meta, where)
        declaration = None
        if declaration_path(path).exists():
            declaration = read_declaration(
                declaration_path(path), self.where(declaration_path(path))
            )
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
        where = self.where(path)
        check_language(lang, where, self.settings)
        original = versions.get(day)
        if original is None:
            raise PolicyError(
                f"{where}: a translation of version {day}, which does not "
                f"exist: write {day}.md first, or name the file by the version it translates"
            )
        if declaration_path(path).exists():
            raise PolicyError(
                f"{self.where(declaration_path(path))}: a "
                f"translation has no declaration of its own; {original.source_path}'s applies: "
                "remove this file"
            )
        page = self.read_page(path)
        meta = page.metadata
        stated = str(meta.get("lang", lang)).strip()
        if stated != lang:
            raise PolicyError(f"{where}: the file name says {lang!r} but 'Lang' says {stated!r}")
        if "effective" in meta:  # kept from a copy of the original: it must still agree
            effective_of(meta, where, day)
        if "reconsent" in meta and reconsent_of(meta, where) != original.reconsent:
            raise PolicyError(
                f"{where}: 'Reconsent' disagrees with {original.source_path}; "
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

    def fill_placeholders(
        self, version: PolicyVersion | PolicyTranslation, commands: Commands
    ) -> str:
        """Fill {contact_email} from the settings, the tables from the version's declaration."""

        def fill(match: re.Match) -> str:
            name = match.group(1)
            if name == "contact_email":
                address = self.settings.get("CONTACT_EMAIL")
                if not address:
                    raise PolicyError(
                        f"{version.source_path}: {{contact_email}} needs the CONTACT_EMAIL setting"
                    )
                address = html.escape(address)
                return f'<a href="mailto:{address}">{address}</a>'
            if name in TABLES:
                if version.declaration is None:
                    raise PolicyError(
                        f"{version.source_path}: {{{name}}} needs a "
                        "declaration beside the version; write one with "
                        f"{commands.run('new', version.effective)}"
                    )
                template, key = TABLES[name]
                entries = getattr(version.declaration, key)
                return self.get_template(template).render(**{key: entries})
            raise PolicyError(
                f"{version.source_path}: unknown placeholder {{{name}}}; "
                "known: {contact_email}, {cookie_table}, {provider_table}"
            )

        # A placeholder alone in a paragraph stands for a block (a table).
        content = re.sub(r"<p>(\{(?:cookie|provider)_table\})</p>", r"\1", version.content)
        return PLACEHOLDER.sub(fill, content)
