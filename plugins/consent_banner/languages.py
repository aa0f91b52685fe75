"""The banner's words in the language of each page.

Built in: every ``languages/<code>.toml`` (English, Dutch, German and French). Each holds
every text of the banner by name, the names of languages (for a policy in another
language than the page's), and the button verb and cookie descriptions of the built-in
embed providers. ``CONSENT["texts"]`` adds a language or changes words, in the same
shape. A language the site publishes without a complete set fails the build, naming the
language and what is missing.

The declarations themselves (``CONSENT["cookies"]``, ``CONSENT["providers"]``) are
written in the site's ``DEFAULT_LANG``, the built-in providers in English; a
translation of theirs is needed only for the other languages.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .providers import BUILT_IN as BUILT_IN_PROVIDERS
from .providers import Provider

FOLDER = Path(__file__).parent / "languages"
BUILT_IN: dict[str, dict[str, Any]] = {
    path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
    for path in sorted(FOLDER.glob("*.toml"))
}
TEXT_NAMES = tuple(name for name, text in BUILT_IN["en"].items() if isinstance(text, str))
TABLES = ("language_names", "verbs", "cookies")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")  # a BCP 47 tag, lower case
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Built-in providers' cookies are described in English in providers.py.
ENGLISH_COOKIES = {c["name"] for p in BUILT_IN_PROVIDERS.values() for c in p.cookies}


class LanguageError(Exception):
    """A language the site publishes without all the banner's words; the message says which."""


@dataclass(frozen=True)
class Words:
    """Everything the banner says in one language, placeholders filled in."""

    lang: str
    texts: dict[str, str]
    verbs: dict[str, str]  # embed provider id -> the verb of its button
    cookies: dict[str, dict[str, str]]  # cookie name -> purpose and duration


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def language_of(tag: str, available) -> str | None:
    """The available language for a page's `lang`: the tag itself, or its language
    without region or script (`nl-BE` is `nl`)."""
    tag = tag.lower()
    for candidate in (tag, tag.split("-")[0]):
        if candidate in available:
            return candidate
    return None


def merged(lang: str, configured: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The built-in words of a language with the configured ones over them."""
    words = {**BUILT_IN.get(lang, {}), **configured.get(lang, {})}
    for table in TABLES:
        words[table] = {
            **BUILT_IN.get(lang, {}).get(table, {}),
            **configured.get(lang, {}).get(table, {}),
        }
    return words


def words_for(
    lang: str,
    *,
    configured: dict[str, dict[str, Any]],
    site: str,
    months: int,
    declared_in: str,
    policy_lang: str,
    providers: list[Provider],
    cookies: list[dict[str, str]],
) -> Words:
    """The words of one language, or LanguageError naming everything missing.

    ``declared_in`` is the language of ``CONSENT``'s own declarations; ``cookies`` are
    the inventory's rows after the consent cookie, ``providers`` the embed providers used.
    """
    words = merged(lang, configured)
    missing = [name for name in TEXT_NAMES if name not in words]

    def declared(english: bool) -> bool:
        return lang == ("en" if english else declared_in)

    verbs = {}
    for p in providers:
        if p.id in words["verbs"] or declared(p.id in BUILT_IN_PROVIDERS):
            verbs[p.id] = words["verbs"].get(p.id, p.verb)
        else:
            missing.append(f"verbs.{p.id}")
    described = {}
    for row in cookies:
        name = row["name"]
        if name in words["cookies"]:
            described[name] = words["cookies"][name]
        elif declared(name in ENGLISH_COOKIES):
            described[name] = {"purpose": row["purpose"], "duration": row["duration"]}
        else:
            missing.append(f"cookies.{name}")
    language = words["language_names"].get(policy_lang)
    if lang != policy_lang and not language:
        missing.append(f"language_names.{policy_lang}")
    if missing:
        raise LanguageError(
            f"consent_banner: the site publishes pages in {lang!r}, but the banner has no "
            f"{lang!r} words for: {', '.join(missing)}; add them to CONSENT['texts'][{lang!r}]"
        )
    fill = {"site": site, "months": str(months), "language": language or ""}
    fill["lifetime"] = filled(words["lifetime"], fill)
    return Words(
        lang=lang,
        texts={name: filled(words[name], fill) for name in TEXT_NAMES},
        verbs=verbs,
        cookies=described,
    )


def filled(text: str, fill: dict[str, str]) -> str:
    """{site}, {lifetime}, {months} and {language} filled in; {provider} stays for each embed."""
    return PLACEHOLDER.sub(lambda m: fill.get(m.group(1), m.group(0)), text)
