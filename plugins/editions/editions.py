"""The site in each language of LANGUAGES, in one build: English at /, a translation at /<lang>/.

Pages and news are translated with Pelican's own `Lang:` and `Slug:` metadata; this plugin
checks that every file's language is an edition and that every translation has an original
in DEFAULT_LANG, and gives the theme what it needs to link the editions: the page's
language, its alternates (hreflang, sitemap) and each edition's home. The theme's own
words come from gettext catalogs (theme_words.py).
"""

from __future__ import annotations

import logging
import os

from babel import Locale, UnknownLocaleError
from jinja2 import pass_context
from jinja2.runtime import Context
from pelican import signals
from pelican.generators import Generator

from . import theme_words

log = logging.getLogger(__name__)

# What the writer names the rendered object, first match wins; policy_versions renders
# `version`. Pages without one (the news index, categories, tags) are in DEFAULT_LANG.
RENDERED = ("article", "page", "version")


class EditionsError(Exception):
    """A setting, a file's language or a translation no edition can publish; names it."""


def languages(settings: dict) -> dict[str, str]:
    """LANGUAGES, checked: each edition's code and its name in its own language."""
    default = settings["DEFAULT_LANG"]
    editions = settings.get("LANGUAGES") or {default: default}
    if not isinstance(editions, dict) or next(iter(editions)) != default:
        raise EditionsError(
            f"editions: 'LANGUAGES' must be a dict of language code to name, "
            f"DEFAULT_LANG {default!r} first"
        )
    return editions


def language_of(content, default: str) -> str:
    return getattr(content, "lang", None) or default


def in_language(content, lang: str):
    """The content itself or its translation in `lang`; None where there is none."""
    if content is None:
        return None
    for candidate in (content, *(getattr(content, "translations", None) or ())):
        if getattr(candidate, "lang", None) == lang:
            return candidate
    return None


def address(content) -> str:
    """A content's URL path as linked: a folder's index.html left out, as in canonical."""
    return content.url.removesuffix("index.html")


def alternates(content, settings: dict) -> list[dict[str, str]]:
    """hreflang links for a content and its translations, x-default last; none alone."""
    if content is None or not getattr(content, "translations", None):
        return []
    order = list(languages(settings))
    versions = sorted(
        (content, *content.translations), key=lambda c: order.index(language_of(c, order[0]))
    )
    links = [{"hreflang": language_of(c, order[0]), "url": address(c)} for c in versions]
    original = next(c for c in versions if language_of(c, order[0]) == order[0])
    return [*links, {"hreflang": "x-default", "url": address(original)}]


@pass_context
def rendered_content(context: Context):
    """The article, page or policy version the writer renders, from its own variables."""
    for name in RENDERED:
        shown = context.parent.get(name)
        if shown is not None:
            return shown
    return None


@pass_context
def page_language(context: Context) -> str:
    """The language of the page being rendered; base.html sets it once as `page_lang`."""
    settings_default = context.parent["DEFAULT_LANG"]
    return language_of(rendered_content(context), settings_default)


def edition_homes(context: Context) -> dict[str, str]:
    """Each edition's home page URL path; the default's home where one is not translated."""
    pages = context.parent.get("hidden_pages") or ()
    home = next((p for p in pages if p.save_as == "index.html"), None)
    if home is None:
        return {}
    return {lang: address(in_language(home, lang) or home) for lang in languages(context.parent)}


@pass_context
def content_alternates(context: Context, content) -> list[dict[str, str]]:
    return alternates(content, context.parent)


def language_name(lang: str, in_lang: str) -> str:
    """A language's name in another language, as a word in a sentence: "Engels" in Dutch."""
    try:
        return Locale.parse(in_lang).languages.get(lang, lang)
    except (ValueError, UnknownLocaleError):
        return lang


def source_name(content, settings: dict) -> str:
    root = settings["PATH"]
    return os.path.join(os.path.basename(root), os.path.relpath(content.source_path, root))


# Where Pelican's generators keep the originals of pages and news: an item in DEFAULT_LANG,
# or one that no item in DEFAULT_LANG has as its translation.
ORIGINALS = ("pages", "hidden_pages", "draft_pages", "articles", "hidden_articles", "drafts")


def language_problems(generators: list[Generator]) -> list[str]:
    """Files in no edition's language, and translations without an original."""
    settings = generators[0].settings
    editions = languages(settings)
    default = next(iter(editions))
    problems = []
    read = generators[0].context["generated_content"].values()
    for content in sorted(read, key=lambda c: c.source_path):
        lang = language_of(content, default)
        if lang not in editions:
            problems.append(
                f"{source_name(content, settings)} has Lang: {lang}, "
                f"which is not one of LANGUAGES ({', '.join(editions)})"
            )
    originals = (c for g in generators for name in ORIGINALS for c in getattr(g, name, ()))
    for content in sorted(originals, key=lambda c: c.source_path):
        lang = language_of(content, default)
        if lang != default and lang in editions:
            problems.append(
                f"{source_name(content, settings)} is a translation ({lang}) without an "
                f"original in {default}: give it the Slug: of the {editions[default]} page "
                f"it translates"
            )
    return problems


def untranslated(generators: list[Generator]) -> dict[str, list[str]]:
    """Per edition, the pages of the navigation it has no translation of, by file."""
    settings = generators[0].settings
    default, *others = languages(settings)
    pages = sorted(
        (page for g in generators for page in getattr(g, "pages", ())),
        key=lambda page: page.source_path,
    )
    missing = {
        lang: [source_name(page, settings) for page in pages if not in_language(page, lang)]
        for lang in others
    }
    return {lang: files for lang, files in missing.items() if files}


def check(generators: list[Generator]) -> None:
    problems = language_problems(generators)
    problems += theme_words.catalog_problems(generators[0])
    if problems:
        raise EditionsError("editions: " + "; ".join(problems))
    if missing := untranslated(generators):
        editions = languages(generators[0].settings)
        default = editions[next(iter(editions))]
        log.warning(
            "editions: pages without a translation: the navigation of each edition below "
            "shows their %s title, marked as %s; translate them (see docs/marketing.md, "
            "'Translating a page'):\n%s",
            default,
            default,
            "\n".join(
                f"  - {editions[lang]} ({lang}): {', '.join(files)}"
                for lang, files in missing.items()
            ),
        )
    log.debug(
        "editions: every file and catalog fits %s", ", ".join(languages(generators[0].settings))
    )


def install(generator: Generator) -> None:
    """Give every generator's templates the editions' helpers and the theme's words."""
    languages(generator.settings)
    env = generator.env
    homes: dict[str, str] = {}  # per generator, so per build: filled at its first page

    @pass_context
    def edition_home(context: Context, lang: str) -> str:
        """The URL path of the home page in `lang`, else of the home page (saved as index.html)."""
        if not homes:
            homes.update(edition_homes(context))
        return homes.get(lang, "")

    env.globals.update(
        rendered_content=rendered_content,
        page_language=page_language,
        edition_home=edition_home,
        alternates=content_alternates,
        language_name=language_name,
        og_locale=theme_words.og_locale,
    )
    env.filters["in_language"] = in_language
    theme_words.install(generator)


def register() -> None:
    signals.generator_init.connect(install)
    signals.all_generators_finalized.connect(check)
