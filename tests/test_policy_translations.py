"""Translations of a policy version: own address and language, lock, feed, redline per language.

These tests write translations of the versions 2022-12-08 and 2026-12-01 into a copy of the
content, beside the ones the real site publishes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
from xml.etree import ElementTree as ET

import pytest
from bs4 import BeautifulSoup

import pelicanconf
from tests.conftest import (
    CONTENTS,
    OVERFLOWING,
    ROOT,
    Server,
    axe_violations,
    build_fails,
    build_or_fail,
    build_output,
    copy_content,
    policy_days,
    policy_version_fails,
    policy_version_or_fail,
    revision_of,
)

POLICIES = "policies/privacy-policy"
LANGUAGES = {"en": "English", "nl": "Nederlands", "de": "Deutsch"}
# German pages get the German banner, which describes the site's own cookies in German too.
GERMAN_COOKIES = {
    name: {"purpose": "Zählt Besucher.", "duration": "2 Jahre"} for name in ("_ga", "_ga_*")
}
CONSENT = {
    **pelicanconf.CONSENT,
    "texts": {**pelicanconf.CONSENT["texts"], "de": {"cookies": GERMAN_COOKIES}},
}
SETTINGS = {"LANGUAGES": LANGUAGES, "CONSENT": CONSENT}


@pytest.fixture(scope="module", autouse=True)
def german_theme(tmp_path_factory):
    """The theme with a German catalog for its own words (the Dutch ones do for these tests)."""
    theme = shutil.copytree(ROOT / "theme", tmp_path_factory.mktemp("theme") / "theme")
    shutil.copytree(theme / "translations/nl", theme / "translations/de")
    SETTINGS["THEME"] = str(theme)


ATOM = "{http://www.w3.org/2005/Atom}"
TRANSLATED = "2026-12-10"  # before PINNED_DAY: these translations must be locked

OLD_NL = f"""Title: Privacybeleid
Translated: {TRANSLATED}
Summary: De eerste gepubliceerde versie van het privacybeleid van Cloud 7.

Als gebruiker van de website van Cloud 7 is uw online privacy belangrijk voor ons.

Wij gebruiken Google Analytics om te tellen hoeveel mensen de website bezoeken.

Neem contact op met Info@Cloud.
"""
# A copy of the original's metadata, translated: Effective and Reconsent may stay.
NEW_NL = f"""Title: Privacybeleid
Effective: 2026-12-01
Reconsent: yes
Translated: {TRANSLATED}
Summary: Deze versie voegt de cookietabel en het e-mailadres toe.

Als gebruiker van de website van Cloud 7 is uw online privacy belangrijk voor ons.

Wij gebruiken Google Analytics om te tellen hoeveel mensen de website bezoeken, alleen als u
daarmee instemt.

## Welke cookies gebruiken wij? {{#what-types-of-cookies-do-we-use-in-general}}

{{cookie_table}}

Neem contact op met {{contact_email}}.
"""
NEW_DE = f"""Title: Datenschutzerklärung
Translated: {TRANSLATED}

Als Nutzer der Website von Cloud 7 ist uns Ihre Privatsphäre wichtig.
"""


def published_translations(day: str) -> list[str]:
    """The addresses of the translations of that version the real content publishes."""
    texts = (ROOT / "content" / POLICIES).glob(f"{day}.*.md")
    return sorted(f"/privacy-policy/{day}/{path.suffixes[-2].lstrip('.')}/" for path in texts)


def page_of(site, path: str) -> BeautifulSoup:
    return BeautifulSoup((site / path / "index.html").read_text(encoding="utf-8"), "html.parser")


def words(element) -> str:
    return " ".join(element.get_text().split())


def lock_lines(content) -> dict[str, str]:
    lines = (content / POLICIES / "versions.lock").read_text().splitlines()
    # "2026-12-01.nl  <sha-256>  <day locked>": the key and its SHA-256
    return dict(line.split()[:2] for line in lines if line and not line.startswith("#"))


def with_translations(content, **texts: str):
    """Write translations into a copy of the content: name=text, e.g. 2026-12-01.nl.md."""
    for name, text in texts.items():
        (content / POLICIES / name).write_text(text, encoding="utf-8")
    return content


@pytest.fixture(scope="module")
def translated_content(tmp_path_factory):
    """Dutch translations of both versions and a German one of the newer, all locked."""
    content = copy_content(tmp_path_factory.mktemp("translated") / "content")
    before = lock_lines(content)
    with_translations(
        content,
        **{"2022-12-08.nl.md": OLD_NL, "2026-12-01.nl.md": NEW_NL, "2026-12-01.de.md": NEW_DE},
    )
    for day in ("2022-12-08", "2026-12-01"):
        policy_version_or_fail(content, "lock", day)
    return content, before


@pytest.fixture(scope="module")
def translated(translated_content, tmp_path_factory):
    content, _ = translated_content
    return build_or_fail(
        tmp_path_factory.mktemp("translated") / "out",
        content=content,
        **SETTINGS,
    )


def test_a_translation_is_published_at_its_own_address_in_its_language(translated):
    page = page_of(translated, "privacy-policy/2026-12-01/nl")
    article = page.find("main").article
    assert page.html["lang"] == "nl"  # the theme's words in Dutch, the banner too
    assert article.h1.get_text() == "Privacybeleid"
    assert "alleen als u daarmee instemt" in words(article)
    # Placeholders are filled as in the original: the version's own declaration, the address.
    assert "cloud7_consent" in article.table.get_text()
    assert article.find("a", href="mailto:privacy@cloud7.example")
    assert page.find("link", rel="canonical")["href"] == "/privacy-policy/2026-12-01/nl/"
    # Its period and status are its version's: open-ended unless a newer version follows.
    newer = [day for day in policy_days() if day > "2026-12-01"]
    period = "van 1 december 2026 tot en met" if newer else "vanaf 1 december 2026"
    assert f"Van kracht Van kracht {period}" in words(article)


def test_the_original_links_to_each_translation_and_each_links_back(translated):
    for path in ("privacy-policy", "privacy-policy/2026-12-01"):
        links = page_of(translated, path).select(".policy-translations a")
        assert [(a["href"], a["hreflang"], a["lang"], a.get_text()) for a in links] == [
            ("/privacy-policy/2026-12-01/de/", "de", "de", "Deutsch"),
            ("/privacy-policy/2026-12-01/nl/", "nl", "nl", "Nederlands"),
        ]
    dutch = page_of(translated, "privacy-policy/2026-12-01/nl").find("main")
    note = dutch.find(role="note")
    assert "Dit is een vertaling" in words(note) and "juridisch bindend" in words(note)
    assert note.a["href"] == "/privacy-policy/2026-12-01/" and note.a["hreflang"] == "en"
    others = [(a["href"], a["lang"]) for a in dutch.select(".policy-translations a")]
    assert others == [
        ("/privacy-policy/2026-12-01/", "en"),
        ("/privacy-policy/2026-12-01/de/", "de"),
    ]


def test_the_policy_in_force_stays_english(translated):
    page = page_of(translated, "privacy-policy")
    article = page.find("main").article
    assert page.html["lang"] == "en" and article.h1.get_text() == "Privacy Policy"


def test_a_translation_that_came_later_is_locked_without_touching_its_version(translated_content):
    content, before = translated_content
    after = lock_lines(content)
    assert {day: after[day] for day in before} == before
    for key in ("2022-12-08.nl", "2026-12-01.nl", "2026-12-01.de"):
        written = (content / POLICIES / f"{key}.md").read_bytes()
        assert after[key] == hashlib.sha256(written).hexdigest()


def test_versions_json_lists_each_translation_with_its_hash(translated):
    data = json.loads((translated / "privacy-policy/versions.json").read_text())
    by_day = {version["effective"]: version for version in data["versions"]}
    translated_version = by_day["2026-12-01"]
    assert [t["lang"] for t in translated_version["translations"]] == ["de", "nl"]
    dutch = translated_version["translations"][1]
    assert dutch == {
        "lang": "nl",
        "title": "Privacybeleid",
        "translated": TRANSLATED,
        "url": "/privacy-policy/2026-12-01/nl/",
        "changes_url": "/privacy-policy/2026-12-01/nl/changes/",
        "record_url": "/privacy-policy/2026-12-01/nl/2026-12-01.nl.txt",
        "summary": "Deze versie voegt de cookietabel en het e-mailadres toe.",
        "draft": False,
        "sha256": dutch["sha256"],
    }
    record = (translated / dutch["record_url"].lstrip("/")).read_bytes()
    assert record == NEW_NL.encode()
    assert hashlib.sha256(record).hexdigest() == dutch["sha256"]
    assert dutch["sha256"] in (translated / "privacy-policy/2026-12-01/nl/index.html").read_text()
    assert by_day["2022-12-08"]["translations"][0]["changes_url"] is None  # the first version


def test_the_feed_announces_each_translation_on_its_day(translated):
    feed = ET.parse(translated / "privacy-policy/feed.atom").getroot()
    entries = {
        e.find(f"{ATOM}link[@rel='alternate']").get("href"): e for e in feed.findall(f"{ATOM}entry")
    }
    dutch = entries["/privacy-policy/2026-12-01/nl/"]
    assert dutch.find(f"{ATOM}link[@rel='alternate']").get("hreflang") == "nl"
    assert dutch.find(f"{ATOM}updated").text.startswith(TRANSLATED)
    assert "translation into Nederlands" in dutch.find(f"{ATOM}title").text
    assert "cookietabel" in dutch.find(f"{ATOM}summary").text
    assert feed.find(f"{ATOM}updated").text.startswith(TRANSLATED)
    # Newest first: the translations of 10 December before the version of 1 December.
    assert list(entries)[-2:] == ["/privacy-policy/2026-12-01/", "/privacy-policy/2022-12-08/"]


def test_the_sitemap_and_the_history_list_the_translations(translated):
    sitemap = (translated / "sitemap.xml").read_text()
    for day, lang in (("2022-12-08", "nl"), ("2026-12-01", "nl"), ("2026-12-01", "de")):
        assert f"<loc>/privacy-policy/{day}/{lang}/</loc>" in sitemap
    history = page_of(translated, "privacy-policy/history").select("ol.versions > li")
    listed = {
        li.h2.a["href"]: [a["href"] for a in li.select(".policy-translations a")] for li in history
    }
    assert listed == {
        **{f"/privacy-policy/{day}/": published_translations(day) for day in policy_days()},
        "/privacy-policy/2026-12-01/": [
            "/privacy-policy/2026-12-01/de/",
            "/privacy-policy/2026-12-01/nl/",
        ],
        "/privacy-policy/2022-12-08/": ["/privacy-policy/2022-12-08/nl/"],
    }


def test_the_redline_compares_a_translation_with_the_previous_version_in_its_language(translated):
    page = page_of(translated, "privacy-policy/2026-12-01/nl/changes")
    changes = page.find("main")
    assert page.html["lang"] == "nl"
    redline = changes.find(class_="redline")
    deleted = " ".join(words(d) for d in redline.find_all("del"))
    assert "bezoeken." in deleted and "Info@Cloud." in deleted and "instemt" not in deleted
    inserted = " ".join(words(i) for i in redline.find_all("ins"))
    assert "alleen als u daarmee instemt" in inserted and "privacy@cloud7.example" in inserted
    compared = changes.find("a", string="de versie van 8 december 2022")
    assert compared["href"] == "/privacy-policy/2022-12-08/nl/"
    assert "Wat deze versie veranderde" in words(
        page_of(translated, "privacy-policy/2026-12-01/nl").find("main")
    )


def test_without_a_previous_translation_the_redline_page_says_so(translated):
    changes = page_of(translated, "privacy-policy/2026-12-01/de/changes").find("main")
    assert not changes.find(class_="redline")
    note = changes.find(role="note")
    # The German words are the Dutch catalog's copy here; the date is German.
    assert "De versie van 8 Dezember 2022 is niet in deze taal vertaald" in words(note)
    english = note.find("a", hreflang="en")
    assert english["href"] == "/privacy-policy/2026-12-01/changes/"


def test_a_translation_never_changes_the_consent_revision(translated, site):
    assert revision_of(translated) == revision_of(site)
    page = (translated / "privacy-policy/2022-12-08/nl/index.html").read_text()
    assert f'data-revision="{revision_of(site)}"' in page


def test_the_translated_pages_have_no_accessibility_violation(translated, new_visitor):
    served = Server(translated)
    try:
        visitor = new_visitor(served)
        for path in (
            "/privacy-policy/2026-12-01/nl/",
            "/privacy-policy/2026-12-01/nl/changes/",
            "/privacy-policy/2026-12-01/de/changes/",
            "/privacy-policy/history/",
        ):
            visitor.open(path)
            assert axe_violations(visitor.page) == [], path
    finally:
        served.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
def test_a_dutch_policy_page_has_dutch_contents_and_tables_that_fit(
    translated, new_visitor, width, scheme
):
    served = Server(translated)
    try:
        visitor = new_visitor(served, viewport={"width": width, "height": 800}, color_scheme=scheme)
        visitor.open("/privacy-policy/2026-12-01/nl/")
        contents = visitor.page.get_by_role("navigation", name="Inhoud")
        assert contents.is_visible()
        assert visitor.page.evaluate(CONTENTS) == [
            ["Welke cookies gebruiken wij?", True],
            ["Deze versie controleren", True],
        ]
        # The id is the English one, so a link to the section works in either language.
        assert contents.get_by_role("link").first.get_attribute("href") == (
            "#what-types-of-cookies-do-we-use-in-general"
        )
        assert visitor.page.evaluate(OVERFLOWING) == []
        assert axe_violations(visitor.page) == []
    finally:
        served.close()


def test_a_translation_may_change_until_its_day_then_never(tmp_path):
    late = NEW_NL.replace(f"Translated: {TRANSLATED}", "Translated: 2026-12-20")
    content = with_translations(copy_content(tmp_path / "content"), **{"2026-12-01.nl.md": late})
    # Before its day it need not be locked, and once locked it may still change.
    build_or_fail(tmp_path / "unlocked", content=content, **SETTINGS)
    policy_version_or_fail(content, "lock", "2026-12-01")
    translation = content / POLICIES / "2026-12-01.nl.md"
    translation.write_text(late.replace("instemt", "toestemt"))
    changed = build_output(tmp_path / "changed", content=content, **SETTINGS)
    assert (
        "translation 2026-12-01.nl is a draft, not approved: changed since it was locked" in changed
    )
    said = policy_version_or_fail(content, "lock", "2026-12-01")
    assert "Locked 2026-12-01.nl.md" in said and "Locked 2026-12-01.md" not in said
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "as locked"]):
        subprocess.run(["git", "-C", str(content), *command], check=True, capture_output=True)
    # From its day the lock holds: the build and the lock command refuse a change.
    on_the_day = dt.date(2026, 12, 20)
    build_or_fail(tmp_path / "locked", content=content, day=on_the_day, **SETTINGS)
    translation.write_text(late.replace("instemt", "akkoord gaat"))
    refused = build_fails(tmp_path / "refused", content=content, day=on_the_day, **SETTINGS)
    assert f"{POLICIES}/2026-12-01.nl.md: translation 2026-12-01.nl is locked" in refused
    assert "-daarmee toestemt." in refused
    assert "+daarmee akkoord gaat." in refused
    assert not (tmp_path / "refused/index.html").exists()
    relock = policy_version_fails(content, "lock", "2026-12-01", day=on_the_day)
    assert "a published translation never changes" in relock


DRAFT_NL = """Title: Privacybeleid
Translated: 2027-02-15
Summary: Een duidelijkere zin.

Als gebruiker van de website van Cloud 7 is uw online privacy belangrijk voor ons.
"""


def draft_marks(site, path: str) -> list[str]:
    main = page_of(site, path).find("main")
    return [words(mark) for mark in main.select(".status-draft, .notice.draft")]


def test_a_draft_and_its_translation_are_marked_in_their_languages_and_never_published(
    tmp_path,
):
    content = copy_content(tmp_path / "content")
    policy_version_or_fail(content, "new", "2027-03-01")
    with_translations(content, **{"2027-03-01.nl.md": DRAFT_NL})
    preview = build_output(tmp_path / "preview", content=content, **SETTINGS)
    said = " ".join(preview.split())
    assert (
        f"{POLICIES}/2027-03-01.nl.md: translation 2027-03-01.nl is a draft, not approved: its "
        "version 2027-03-01 is a draft; not locked" in said
    )
    out = tmp_path / "preview"
    dutch = draft_marks(out, "privacy-policy/2027-03-01/nl")
    assert page_of(out, "privacy-policy/2027-03-01/nl").html["lang"] == "nl"
    assert dutch[0] == "Concept, niet goedgekeurd"
    assert dutch[1].startswith("Concept, niet goedgekeurd. De juridische afdeling")
    assert draft_marks(out, "privacy-policy/2027-03-01/nl/changes")[0] == dutch[0]
    assert draft_marks(out, "privacy-policy/2027-03-01")[0] == "Draft, not approved"
    assert draft_marks(out, "privacy-policy") == []
    published = build_fails(
        tmp_path / "published", content=content, settings_file="publishconf.py", **SETTINGS
    )
    refused = " ".join(published.split())
    assert f"{POLICIES}/2027-03-01.md: no Summary" in refused
    assert f"{POLICIES}/2027-03-01.nl.md: its version 2027-03-01 is a draft" in refused


def test_a_locked_translation_of_a_version_changed_before_its_day_waits_for_it(tmp_path):
    content = copy_content(tmp_path / "content")
    policy_version_or_fail(content, "new", "2027-03-01")
    version = content / POLICIES / "2027-03-01.md"
    version.write_text(version.read_text().replace("Summary: \n", "Summary: Clearer.\n"))
    with_translations(content, **{"2027-03-01.nl.md": DRAFT_NL})
    policy_version_or_fail(content, "lock", "2027-03-01")
    version.write_text(version.read_text().replace("Summary: Clearer.", "Summary: Much clearer."))
    preview = build_output(tmp_path / "preview", content=content, **SETTINGS)
    said = " ".join(preview.split())
    assert "translation 2027-03-01.nl is a draft, not approved: its version 2027-03-01" in said
    dutch = draft_marks(tmp_path / "preview", "privacy-policy/2027-03-01/nl")
    assert dutch[0] == "Concept, niet goedgekeurd"


def test_a_translation_is_published_only_once_locked(tmp_path):
    late = NEW_NL.replace(f"Translated: {TRANSLATED}", "Translated: 2026-12-20")
    content = with_translations(copy_content(tmp_path / "content"), **{"2026-12-01.nl.md": late})
    publish = {"settings_file": "publishconf.py", **SETTINGS}
    refused = build_fails(tmp_path / "refused", content=content, **publish)
    assert (
        f"{POLICIES}/2026-12-01.nl.md: not locked: run `make policy-version LOCK=2026-12-01` "
        "once approved" in " ".join(refused.split())
    )
    policy_version_or_fail(content, "lock", "2026-12-01")
    out = build_or_fail(tmp_path / "out", content=content, **publish)
    assert draft_marks(out, "privacy-policy/2026-12-01/nl") == []


def test_a_translation_whose_day_has_come_must_be_locked(tmp_path):
    content = with_translations(copy_content(tmp_path / "content"), **{"2026-12-01.nl.md": NEW_NL})
    result = build_fails(tmp_path / "out", content=content, **SETTINGS)
    assert (
        f"{POLICIES}/2026-12-01.nl.md: translation 2026-12-01.nl is published from "
        f"{TRANSLATED} but is not locked" in result
    )
    assert "make policy-version LOCK=2026-12-01" in result


BAD_TRANSLATIONS = {
    "language the site does not publish": (
        {"2026-12-01.fr.md": NEW_DE},
        "2026-12-01.fr.md",
        "a translation into 'fr', which is not a language the site publishes "
        "(LANGUAGES: en, nl, de)",
    ),
    "translation into the original's language": (
        {"2026-12-01.en.md": NEW_DE},
        "2026-12-01.en.md",
        "a translation into 'en', the language of the original",
    ),
    "translation of no version": (
        {"2027-05-01.nl.md": NEW_DE},
        "2027-05-01.nl.md",
        "a translation of version 2027-05-01, which does not exist",
    ),
    "no Translated date": (
        {"2026-12-01.nl.md": "Title: Privacybeleid\n\nTekst.\n"},
        "2026-12-01.nl.md",
        "missing 'Translated: YYYY-MM-DD'",
    ),
    "Effective disagrees with the name": (
        {"2026-12-01.nl.md": NEW_NL.replace("Effective: 2026-12-01", "Effective: 2026-12-02")},
        "2026-12-01.nl.md",
        "the file name says 2026-12-01 but 'Effective' says 2026-12-02",
    ),
    "Lang disagrees with the name": (
        {"2026-12-01.nl.md": NEW_DE.replace("Title:", "Lang: de\nTitle:")},
        "2026-12-01.nl.md",
        "the file name says 'nl' but 'Lang' says 'de'",
    ),
    "a translation asking visitors again": (
        {"2022-12-08.nl.md": OLD_NL.replace("Summary:", "Reconsent: yes\nSummary:")},
        "2022-12-08.nl.md",
        "'Reconsent' disagrees with policies/privacy-policy/2022-12-08.md",
    ),
    "a declaration of its own": (
        {"2026-12-01.nl.md": NEW_DE, "2026-12-01.nl.toml": ""},
        "2026-12-01.nl.toml",
        "a translation has no declaration of its own",
    ),
    "two translations into one language": (
        {"2026-12-01.nl.md": NEW_DE, "2026-12-01.nl.markdown": NEW_DE},
        "2026-12-01.nl.md",
        "two translations of 2026-12-01 into 'nl' (the other is "
        "policies/privacy-policy/2026-12-01.nl.markdown)",
    ),
}


@pytest.mark.parametrize("case", BAD_TRANSLATIONS)
def test_a_bad_translation_fails_naming_the_file(tmp_path, case):
    files, named, message = BAD_TRANSLATIONS[case]
    content = with_translations(copy_content(tmp_path / "content"), **files)
    output = build_fails(tmp_path / "out", content=content, **SETTINGS)
    assert f"{POLICIES}/{named}" in output and message in output, output
    assert not (tmp_path / "out/index.html").exists()
