"""The Dutch edition as Pelican writes it: its URLs, languages, alternates, words and errors."""

import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup

from pelicanconf import LANGUAGES
from tests.conftest import (
    DUTCH_PAGES,
    ROOT,
    build_fails,
    build_or_fail,
    build_output,
    copy_content,
    html_pages,
)

# Each English page with a Dutch translation, and the translation.
TRANSLATED = {
    "/": "/nl/",
    "/services/": "/nl/services/",
    "/about/": "/nl/about/",
    "/contact/": "/nl/contact/",
    "/newsletter/": "/nl/newsletter/",
    "/404.html": "/nl/404.html",
}
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def soup(site, path: str) -> BeautifulSoup:
    file = site / path.lstrip("/")
    file = file / "index.html" if path.endswith("/") else file
    return BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser")


def hreflangs(doc: BeautifulSoup) -> dict[str, str]:
    return {
        link["hreflang"]: link["href"]
        for link in doc.find_all("link", rel="alternate")
        if link.get("hreflang")
    }


def switch(doc: BeautifulSoup):
    return doc.select_one(".site-header .language-switch a")


def test_every_dutch_page_is_written_at_its_address(site):
    assert sorted(TRANSLATED.values()) == sorted(DUTCH_PAGES)
    for path in DUTCH_PAGES:
        assert soup(site, path).h1, path


def test_html_lang_is_the_page_language_on_every_page_of_both_editions(site):
    for page in html_pages(site):
        relative = page.relative_to(site).as_posix()
        # The Dutch edition, and the Dutch translations of a policy version (/<doc>/<day>/nl/).
        dutch = re.match(r"(nl|[^/]+/\d{4}-\d\d-\d\d/nl)/", relative)
        expected = "nl" if dutch else "en"
        assert BeautifulSoup(page.read_text(), "html.parser").html["lang"] == expected, relative


def test_translations_link_each_other_and_english_is_x_default(site):
    for english, dutch in TRANSLATED.items():
        expected = {"en": english, "nl": dutch, "x-default": english}
        assert hreflangs(soup(site, english)) == expected, english
        assert hreflangs(soup(site, dutch)) == expected, dutch
        assert soup(site, dutch).find("link", rel="canonical")["href"] == dutch
        locales = soup(site, dutch).find_all("meta", property=re.compile("^og:locale"))
        assert [(m["property"], m["content"]) for m in locales] == [
            ("og:locale", "nl_NL"),
            ("og:locale:alternate", "en_US"),
        ]


def test_a_page_without_a_translation_has_no_alternates(site):
    for path in ("/news/", "/news/archives/", "/privacy-policy/"):
        assert hreflangs(soup(site, path)) == {}, path


def test_the_switch_links_the_same_page_in_the_other_language(site):
    for english, dutch in TRANSLATED.items():
        to_dutch, to_english = switch(soup(site, english)), switch(soup(site, dutch))
        assert (to_dutch["href"], to_dutch["lang"], to_dutch["hreflang"]) == (dutch, "nl", "nl")
        assert to_dutch.get_text(strip=True) == LANGUAGES["nl"]
        assert (to_english["href"], to_english["lang"]) == (english, "en")
        assert to_english.get_text(strip=True) == LANGUAGES["en"]


def test_the_switch_leads_to_the_dutch_home_where_a_page_has_no_translation(site):
    for path in ("/news/", "/news/managed-kubernetes-is-now-generally-available/"):
        assert switch(soup(site, path))["href"] == "/nl/", path


def test_dutch_navigation_links_dutch_pages_and_english_news(site):
    nav = soup(site, "/nl/about/").find("nav")
    links = {a.get_text(strip=True): a for a in nav.find_all("a")}
    assert links["Diensten"]["href"] == "/nl/services/"
    assert links["Over ons"]["aria-current"] == "page"
    assert (links["Nieuws"]["href"], links["Nieuws"]["hreflang"]) == ("/news/", "en")
    english = soup(site, "/about/").select("nav li:not(.language-switch) a")
    assert english and not [a["href"] for a in english if a["href"].startswith("/nl/")]


def test_theme_words_and_dates_are_dutch_on_dutch_pages(site):
    home = soup(site, "/nl/")
    assert home.find("a", class_="skip-link").get_text() == "Naar de inhoud"
    assert home.find("h2", id="latest-news").get_text() == "Laatste nieuws"
    footer = home.find("footer").get_text(" ", strip=True)
    assert "Juridisch en nieuws" in footer and "Privacybeleid" in footer
    dates = [t.get_text() for t in home.select(".card time")]
    assert dates and all(re.fullmatch(r"\d{1,2} [a-z]+ \d{4}", d) for d in dates), dates
    assert "24 maart 2026" in dates
    english = [t.get_text() for t in soup(site, "/").select(".card time")]
    assert "24 March 2026" in english


def test_the_dutch_home_lists_english_news_marked_as_english(site):
    cards = soup(site, "/nl/").select(".card")
    assert len(cards) == 3
    for card in cards:
        heading = card.find(["h2", "h3"])
        assert heading["lang"] == "en"
        assert card.a["href"].startswith("/news/") and card.a["hreflang"] == "en"


def test_dutch_services_keep_the_english_anchors_and_icons(site):
    english, dutch = soup(site, "/services/"), soup(site, "/nl/services/")
    ids = [li["id"] for li in english.select("li.service")]
    assert ids and [li["id"] for li in dutch.select("li.service")] == ids
    assert [str(li.svg) for li in dutch.select("li.service")] == [
        str(li.svg) for li in english.select("li.service")
    ]


def test_the_sitemap_lists_both_editions_with_their_alternates(site):
    entries = {
        url.find(f"{SITEMAP}loc").text: {
            link.get("hreflang"): link.get("href") for link in url.findall(f"{XHTML}link")
        }
        for url in ET.parse(site / "sitemap.xml").getroot()
    }
    for english, dutch in TRANSLATED.items():
        if english.endswith(".html"):  # the 404 pages are not for search engines
            assert english not in entries and dutch not in entries
            continue
        expected = {"en": english, "nl": dutch, "x-default": english}
        assert entries[english] == expected and entries[dutch] == expected, english
    assert entries["/news/"] == {}
    assert "Sitemap: /sitemap.xml" in (site / "robots.txt").read_text()


def test_a_page_in_an_unknown_language_fails_the_build_naming_the_file(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "pages/nl/careers.md").write_text(
        "Title: Werken bij\nSlug: careers\nLang: de\n\nWerk bij ons.\n"
    )
    message = build_fails(tmp_path / "out", content=content)
    assert "content/pages/nl/careers.md has Lang: de" in message
    assert "not one of LANGUAGES (en, nl)" in message
    assert not (tmp_path / "out/de").exists()


def test_a_translation_without_an_english_original_fails_the_build_naming_the_file(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "pages/nl/vacatures.md").write_text(
        "Title: Vacatures\nSlug: vacatures\nLang: nl\n\nWerk bij ons.\n"
    )
    message = build_fails(tmp_path / "out", content=content)
    assert "content/pages/nl/vacatures.md is a translation (nl) without an original" in message


def theme_copy(tmp_path):
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    return theme


def test_a_catalog_missing_a_word_fails_the_build_naming_language_and_text(tmp_path):
    theme = theme_copy(tmp_path)
    catalog = theme / "translations/nl/LC_MESSAGES/messages.po"
    text = catalog.read_text()
    entry = 'msgid "Latest news"\nmsgstr "Laatste nieuws"\n'
    assert entry in text
    catalog.write_text(text.replace(entry, ""))
    message = build_fails(tmp_path / "out", THEME=str(theme))
    assert "the nl catalog does not translate 'Latest news'" in message


def test_a_new_theme_word_fails_the_build_until_every_catalog_has_it(tmp_path):
    theme = theme_copy(tmp_path)
    base = theme / "templates/base.html"
    base.write_text(base.read_text().replace("</footer>", "{{ _('Made in Amsterdam') }}</footer>"))
    message = build_fails(tmp_path / "out", THEME=str(theme))
    assert "the nl catalog does not translate 'Made in Amsterdam'" in message


def test_a_changed_setting_text_fails_the_build_until_the_catalog_has_it(tmp_path):
    message = build_fails(tmp_path / "out", SITE_DESCRIPTION="Cloud hosting with a smile.")
    assert "does not translate 'Cloud hosting with a smile.'" in message
    assert "theme/translations/nl/LC_MESSAGES/messages.po" in message


def test_a_language_without_a_catalog_fails_the_build_naming_it(tmp_path):
    message = build_fails(
        tmp_path / "out", LANGUAGES={"en": "English", "nl": "Nederlands", "de": "Deutsch"}
    )
    assert "no catalog for de" in message


@pytest.mark.parametrize("languages", [{"nl": "Nederlands", "en": "English"}, ["en", "nl"]])
def test_languages_must_name_the_default_first(tmp_path, languages):
    message = build_fails(tmp_path / "out", LANGUAGES=languages)
    assert "'LANGUAGES' must be a dict" in message


def test_a_translated_news_item_is_published_under_nl_and_listed_on_the_dutch_home(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "news/2026-03-24-webinar-opname.md").write_text(
        "Title: Bekijk de opname van ons webinar over Managed Kubernetes\n"
        "Slug: watch-the-recording-of-our-managed-kubernetes-webinar\nLang: nl\n"
        "Date: 2026-03-24 14:00\nCategory: Product\n"
        "Summary: Het webinar gemist? De opname staat online.\n\nDe opname staat online.\n"
    )
    site = build_or_fail(tmp_path / "out", content=content)
    english = "/news/watch-the-recording-of-our-managed-kubernetes-webinar/"
    dutch = "/nl" + english
    expected = {"en": english, "nl": dutch, "x-default": english}
    assert hreflangs(soup(site, english)) == expected == hreflangs(soup(site, dutch))
    assert soup(site, dutch).html["lang"] == "nl"
    first = soup(site, "/nl/").select_one(".card h3")
    assert first.a["href"] == dutch and not first.get("lang")
    listed = [a["href"] for a in soup(site, "/news/").select(".card h2 a")]
    assert english in listed and dutch not in listed


def test_the_dutch_forms_are_labelled_in_dutch(tmp_path):
    out = tmp_path / "out"
    build_or_fail(
        out,
        CONTACT_FORM_ACTION="https://forms.cloud7.example/callback",
        NEWSLETTER_FORM_ACTION="https://forms.cloud7.example/news",
    )
    contact = soup(out, "/nl/contact/")
    labels = [label.get_text() for label in contact.select("main form label")]
    assert labels[:2] == ["Een terugbelverzoek", "Een offerte"] and "E-mailadres" in labels
    assert contact.select_one("main form button").get_text() == "Verzoek versturen"
    policy = contact.select_one("main form a[hreflang=en]")
    assert policy["href"] == "/privacy-policy/" and policy.get_text() == "privacybeleid"
    assert soup(out, "/nl/newsletter/").select_one("main form button").get_text() == "Aanmelden"


def test_a_page_without_a_translation_is_listed_and_marked_english_in_the_dutch_navigation(
    tmp_path,
):
    content = copy_content(tmp_path / "content")
    for name in ("careers", "partners"):
        (content / f"pages/{name}.md").write_text(f"Title: {name.title()}\nOrder: 8\n\nBody.\n")
    said = build_output(tmp_path / "out", content=content)
    assert said.count("editions: pages without a translation") == 1
    assert "  - Nederlands (nl): content/pages/careers.md, content/pages/partners.md" in said
    link = soup(tmp_path / "out", "/nl/").select_one('nav a[href="/careers/"]')
    assert link["lang"] == "en" and link["hreflang"] == "en"
    assert link.get_text() == "Careers (Engels)"
    assert link.select_one(".nav-language")["lang"] == "nl"
    # In its own language the page's title stands alone.
    english = soup(tmp_path / "out", "/").select_one('nav a[href="/careers/"]')
    assert english.get_text() == "Careers" and not english.get("lang")


def test_the_real_site_translates_every_page_of_its_navigation(tmp_path):
    assert "pages without a translation" not in build_output(tmp_path / "out")
