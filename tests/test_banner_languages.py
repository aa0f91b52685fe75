"""The banner speaks the language of the page it is put into."""

from __future__ import annotations

import html
import re
import shutil

import pytest
from pelican.plugins.consent_banner.build import Build
from pelican.plugins.consent_banner.config import check_config
from pelican.plugins.consent_banner.languages import (
    BUILT_IN,
    TEXT_NAMES,
    LanguageError,
    placeholders,
)
from pelican.plugins.consent_banner.providers import BUILT_IN as PROVIDERS

from tests.conftest import ROOT, build_fails, copy_content, text

ANALYTICS_COOKIE = {
    "name": "_ga",
    "provider": "Google Analytics",
    "purpose": "Counts visitors.",
    "duration": "2 years",
    "category": "analytics",
}


@pytest.mark.parametrize("lang", sorted(BUILT_IN))
def test_every_built_in_language_has_every_word(lang):
    words = BUILT_IN[lang]
    assert {name for name, value in words.items() if isinstance(value, str)} == set(TEXT_NAMES)
    for name in TEXT_NAMES:
        assert placeholders(words[name]) <= placeholders(BUILT_IN["en"][name]) | {"site"}, name
    assert set(words["language_names"]) == set(BUILT_IN)
    # The rules a configured text is held to hold for the built-in ones ({id} once in
    # consent_id, where Cookie settings shows the consent ID).
    check_config({"texts": {lang: {name: words[name] for name in TEXT_NAMES}}})
    if lang != "en":  # English is what providers.py declares
        assert set(words["verbs"]) == set(PROVIDERS)
        assert set(words["cookies"]) == {c["name"] for p in PROVIDERS.values() for c in p.cookies}


# The site's own cookie is declared in English; the other languages describe it here.
GA_WORDS = {
    lang: {"cookies": {"_ga": {"purpose": f"{lang}: counts", "duration": f"{lang}: 2"}}}
    for lang in ("nl", "de", "fr")
}


def build(tmp_path, texts=None) -> Build:
    texts = {
        **GA_WORDS,
        **{lang: {**GA_WORDS.get(lang, {}), **t} for lang, t in (texts or {}).items()},
    }
    settings = {
        "CONSENT": {"measurement_id": "G-TEST1234", "texts": texts, "cookies": [ANALYTICS_COOKIE]},
        "OUTPUT_PATH": str(tmp_path),
        "SITENAME": "Cloud 7",
        "DEFAULT_LANG": "en",
    }
    built = Build(settings)
    built.use_embeds({"youtube": []})
    built.render({"CONSENT_REVISION": "2026-12-01", "POLICY_URL": "privacy-policy/"})
    return built


def page(lang: str | None) -> str:
    html = f'<html lang="{lang}">' if lang else "<html>"
    return (
        f"<!DOCTYPE html>\n{html}<head><title>T</title></head><body><p>Hallo</p>"
        '<iframe src="https://www.youtube.com/embed/abcdefghijk" title="Webinar"></iframe>'
        "<footer><!-- cookie-settings --></footer></body></html>"
    )


@pytest.mark.parametrize(
    ("tag", "lang"), [("nl", "nl"), ("nl-BE", "nl"), ("DE", "de"), ("fr-CA", "fr"), (None, "en")]
)
def test_the_banner_placeholders_and_control_are_in_the_pages_language(tmp_path, tag, lang):
    # As a browser reads it: characters above U+00FF are references (one_byte).
    injected = html.unescape(build(tmp_path).inject(page(tag), "t.html"))
    for name in ("title", "accept", "reject", "details", "table_caption", "settings", "save"):
        assert f">{text(name, lang, site='Cloud 7')}<" in injected, name
    verb = BUILT_IN[lang]["verbs"]["youtube"] if lang != "en" else PROVIDERS["youtube"].verb
    assert f">{verb}: Webinar</button>" in injected
    assert text("embed_always", lang, provider="YouTube") in injected
    if lang != "en":
        assert BUILT_IN[lang]["cookies"]["YSC"]["purpose"] in injected
        duration = f'<td data-label="{text("column_duration", lang)}">{lang}: 2</td>'
        assert f"<td>{lang}: counts</td>{duration}" in injected


def test_a_page_in_another_language_than_the_policy_is_told_so(tmp_path):
    built = build(tmp_path)
    dutch = built.inject(page("nl"), "t.html")
    link = re.search(r'<a href="[^"]*privacy-policy/" hreflang="en">([^<]*)</a> ([^<]*)</p>', dutch)
    assert link and link.groups() == (text("policy_link", "nl"), "(in het Engels)")
    english = built.inject(page("en"), "t.html")
    assert 'hreflang="en"' not in english and "(in English)" not in english


def test_configured_words_change_a_built_in_language(tmp_path):
    built = build(tmp_path, {"nl": {"accept": "Ja, graag"}})
    dutch = built.inject(page("nl"), "t.html")
    assert ">Ja, graag</button>" in dutch and f">{text('reject', 'nl')}</button>" in dutch


def test_a_language_without_every_word_is_named_with_what_it_lacks(tmp_path):
    built = build(tmp_path, {"es": {"accept": "Aceptar"}})
    with pytest.raises(LanguageError) as error:
        built.inject(page("es"), "t.html")
    message = str(error.value)
    assert "'es'" in message and "accept," not in message
    for missing in ("title", "reject", "verbs.youtube", "cookies._ga", "language_names.en"):
        assert missing in message


def test_a_language_given_in_full_in_the_settings_is_used(tmp_path):
    spanish = {
        **{name: f"ES {BUILT_IN['en'][name]}" for name in TEXT_NAMES},
        "language_names": {"en": "inglés"},
        "verbs": {"youtube": "Cargar vídeo"},
        "cookies": {
            "_ga": {"purpose": "Cuenta visitantes.", "duration": "2 años"},
            **{
                c["name"]: {"purpose": "YouTube", "duration": "6"}
                for c in PROVIDERS["youtube"].cookies
            },
        },
    }
    injected = build(tmp_path, {"es": spanish}).inject(page("es"), "t.html")
    assert ">Cargar vídeo: Webinar</button>" in injected
    assert "Cuenta visitantes." in injected and "(inglés)" not in injected  # "(in {language})"
    assert "ES (in inglés)" in injected


def test_a_page_in_a_language_without_banner_words_fails_the_build_naming_it(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "pages/sobre.md").write_text(
        "Title: Sobre nosotros\nLang: es\nSlug: about\n\nHola.\n"
    )
    # A Spanish edition whose theme words are there (any catalog will do for the test).
    theme = shutil.copytree(ROOT / "theme", tmp_path / "theme")
    shutil.copytree(theme / "translations/nl", theme / "translations/es")
    languages = {"en": "English", "nl": "Nederlands", "es": "Español"}
    message = build_fails(tmp_path / "out", content=content, LANGUAGES=languages, THEME=str(theme))
    log = " ".join(message.split())  # the log wraps long lines
    assert "the site publishes pages in 'es' (such as content/pages/sobre.md)" in log
    assert "CONSENT['texts']['es']" in log
    assert not (tmp_path / "out/index.html").exists()
