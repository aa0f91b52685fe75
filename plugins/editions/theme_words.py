"""The theme's own words and dates in the page's language, from gettext catalogs.

Templates write English msgids (`{% trans %}…{% endtrans %}`, `_()`, jinja2.ext.i18n);
each other edition has theme/translations/<lang>/LC_MESSAGES/messages.po, read with Babel
as it is (no compile step). A word missing from a catalog stops the build naming the
language and the text, so a new theme word is never silently English on a Dutch page.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from pathlib import Path

from babel.core import get_global
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from pelican.generators import Generator

# The date pattern (Unicode CLDR) every template shows a date with; a msgid like any other
# word, so an edition can order day, month and year its own way ("d. MMMM y" in German).
DATE_PATTERN = "d MMMM y"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class MissingThemeWord(Exception):
    """A page needs a word its language's catalog does not translate; names both."""


def catalog_path(settings: dict, lang: str) -> Path:
    return Path(settings["THEME"]) / "translations" / lang / "LC_MESSAGES" / "messages.po"


def shown_path(settings: dict, lang: str) -> str:
    theme = Path(settings["THEME"])
    return str(Path(theme.name) / catalog_path(settings, lang).relative_to(theme))


def read_catalog(settings: dict, lang: str) -> Catalog | None:
    path = catalog_path(settings, lang)
    if not path.is_file():
        return None
    with path.open("rb") as po:
        return read_po(po, locale=lang)


def translated_ids(catalog: Catalog) -> set:
    """The msgids with a reviewed translation: not empty, not marked fuzzy."""
    return {
        m.id
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }


def template_words(generator: Generator) -> list[str]:
    """Every msgid our theme's templates use, in file order."""
    words = []
    for path in sorted((Path(generator.theme) / "templates").glob("*.html")):
        for _line, _function, message in generator.env.extract_translations(path.read_text()):
            # A tuple for ngettext; None where the text is a variable (_(SITE_DESCRIPTION)),
            # which the catalog must still translate: rendering checks those.
            messages = message if isinstance(message, tuple) else (message,)
            words += [m for m in messages if m]
    return [*dict.fromkeys(words), DATE_PATTERN]


def catalog_problems(generator: Generator) -> list[str]:
    """Each edition's catalog against the theme's words: missing ones, changed placeholders."""
    settings = generator.settings
    default = settings["DEFAULT_LANG"]
    words = template_words(generator)
    problems = []
    for lang in settings.get("LANGUAGES") or {}:
        if lang == default:
            continue
        catalog = read_catalog(settings, lang)
        if catalog is None:
            problems.append(f"no catalog for {lang}: copy another to {shown_path(settings, lang)}")
            continue
        known = translated_ids(catalog)
        for word in words:
            if word not in known:
                problems.append(f"the {lang} catalog does not translate {word!r}")
            elif set(PLACEHOLDER.findall(catalog[word].string)) != set(PLACEHOLDER.findall(word)):
                problems.append(f"the {lang} translation of {word!r} changes its %(…)s names")
    return problems


def install(generator: Generator) -> None:
    """Install gettext callables that pick each page's catalog as it is rendered."""
    settings = generator.settings
    default = settings["DEFAULT_LANG"]
    catalogs = {}
    for lang in settings.get("LANGUAGES") or {}:
        catalog = read_catalog(settings, lang) if lang != default else None
        if catalog is not None:
            mo = io.BytesIO()
            write_mo(mo, catalog)
            mo.seek(0)
            catalogs[lang] = (Translations(mo), translated_ids(catalog))

    def page_lang(context: Context) -> str:
        """The page's language as base.html set it; the site's in a template of its own."""
        return context.get("page_lang") or default

    def translations(context: Context, *words: str) -> Translations | None:
        lang = page_lang(context)
        if lang == default:
            return None
        found, known = catalogs.get(lang, (None, set()))
        for word in words:
            if word not in known:
                raise MissingThemeWord(
                    f"editions: the {lang} catalog ({shown_path(settings, lang)}) "
                    f"does not translate {word!r}"
                )
        return found

    @pass_context
    def gettext(context: Context, message: str) -> str:
        found = translations(context, message)
        return found.gettext(message) if found else message

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, count: int) -> str:
        found = translations(context, singular)
        if found:
            return found.ngettext(singular, plural, count)
        return singular if count == 1 else plural

    @pass_context
    def long_date(context: Context, day: dt.date) -> str:
        """A date as the page's language writes it: "25 November 2026", "25 november 2026"."""
        return formatted_date(day, gettext(context, DATE_PATTERN), page_lang(context))

    generator.env.install_gettext_callables(gettext, ngettext, newstyle=False)
    generator.env.filters["long_date"] = long_date


@functools.lru_cache(maxsize=4096)
def formatted_date(day: dt.date, pattern: str, lang: str) -> str:
    """Babel's formatting, once per date: a news item's date is on six pages or more."""
    return format_date(day, pattern, locale=lang)


def og_locale(lang: str) -> str:
    """Open Graph's language_TERRITORY for a language: its most likely territory."""
    likely = get_global("likely_subtags").get(lang, lang)
    parts = likely.split("_")
    return f"{parts[0]}_{parts[-1]}" if len(parts) > 1 else lang
