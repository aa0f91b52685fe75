"""The site as Pelican writes it: every template, stable URLs, nothing third-party."""

import gzip
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import brotli
import pytest
from bs4 import BeautifulSoup

from backend.words import consent_text
from tests.conftest import ROOT, build_fails, build_or_fail, build_site, copy_content, html_pages

STABLE_URLS = [
    "index.html",
    "404.html",
    "services/index.html",
    "about/index.html",
    "contact/index.html",
    "newsletter/index.html",
    "news/index.html",
    "news/page/2/index.html",
    "news/archives/index.html",
    "news/category/company/index.html",
    "news/tag/kubernetes/index.html",
    "news/managed-kubernetes-is-now-generally-available/index.html",
    "privacy-policy/index.html",
    "privacy-policy/history/index.html",
    "privacy-policy/2022-12-08/index.html",
    "privacy-policy/2026-12-01/index.html",
    "privacy-policy/2026-12-01/changes/index.html",
    "sitemap.xml",
    "robots.txt",
    "theme/css/site.css",
]


def soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_every_published_url_is_written(tmp_path):
    # Two articles a page, so the news index paginates.
    out = build_or_fail(tmp_path / "out", DEFAULT_PAGINATION=2)
    missing = [url for url in STABLE_URLS if not (out / url).is_file()]
    assert missing == []


def test_every_page_has_title_description_canonical_and_open_graph(site):
    for page in html_pages(site):
        doc = soup(page)
        assert doc.html["lang"], page
        assert doc.title.string.strip(), page
        assert doc.find("meta", attrs={"name": "description"})["content"].strip(), page
        assert doc.find("link", rel="canonical")["href"].startswith("/"), page
        for prop in ("og:title", "og:description", "og:url", "og:type", "og:image"):
            assert doc.find("meta", property=prop), (page, prop)
        assert doc.find("meta", property="og:image:alt")["content"].strip(), page
        assert doc.find("meta", attrs={"name": "twitter:card"})["content"] == (
            "summary_large_image"
        ), page
        assert doc.find("main", id="main") and doc.find("a", href="#main"), page
        assert len(doc.find_all("h1")) == 1, page


def test_no_page_loads_anything_from_another_host(site):
    loaded = []
    for page in html_pages(site):
        doc = soup(page)
        for tag in doc.find_all(["script", "img", "iframe", "source", "video", "audio"]):
            loaded.append((page, tag.get("src", "")))
        for link in doc.find_all("link"):
            if not {"canonical", "alternate"} & set(link.get("rel", [])):
                loaded.append((page, link.get("href", "")))
        for style in doc.find_all("style"):
            loaded += [(page, url) for url in re.findall(r"url\(([^)]*)\)", style.text)]
    foreign = [(p.name, url) for p, url in loaded if re.match(r"^(https?:)?//", url)]
    assert loaded and foreign == []
    css = (site / "theme/css/site.css").read_text()
    assert "@import" not in css and "url(" not in css


def test_the_stylesheet_stays_within_8_kb_gzipped(site):
    assert len(gzip.compress((site / "theme/css/site.css").read_bytes(), 9)) <= 8 * 1024


def test_headings_keep_the_ids_links_point_at(site):
    # Addresses published before headings had ids of their own must still work.
    services = ["cloud-hosting", "managed-kubernetes", "backup-and-disaster-recovery"]
    services += ["migration", "24-7-customer-service"]
    for path in ("services/index.html", "nl/services/index.html"):
        assert [li["id"] for li in soup(site / path).select("li.service")] == services
    policy = soup(site / "privacy-policy/2026-12-01/index.html").select(".policy-text h2[id]")
    assert policy[0]["id"] == "do-we-process-any-of-your-personal-data"
    assert "do-we-use-third-party-cookies" in [h["id"] for h in policy]
    # The page in force is the same text: a link to a section works on either address.
    in_force = soup(site / "privacy-policy/index.html").select(".policy-text h2[id]")
    assert [h["id"] for h in in_force] == [h["id"] for h in policy]


def test_sitemap_lists_pages_news_and_policy_versions(site):
    urls = {loc.text for loc in ET.parse(site / "sitemap.xml").iter() if loc.tag.endswith("loc")}
    for expected in ("/", "/services/", "/news/", "/privacy-policy/2022-12-08/"):
        assert expected in urls
    assert "Sitemap: /sitemap.xml" in (site / "robots.txt").read_text()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The real content built as `make publish` builds it."""
    return build_or_fail(
        tmp_path_factory.mktemp("published") / "out", settings_file="publishconf.py"
    )


def test_publish_uses_absolute_urls_and_writes_the_news_feed(published):
    home = soup(published / "index.html")
    assert home.find("link", rel="canonical")["href"] == "https://www.cloud7.example/"
    feed = (published / "news/feed.atom").read_text()
    assert "Managed Kubernetes" in feed and "https://www.cloud7.example/news/" in feed


def test_published_robots_txt_and_sitemap_use_absolute_urls(published):
    robots = (published / "robots.txt").read_text()
    assert "Sitemap: https://www.cloud7.example/sitemap.xml" in robots
    tree = ET.parse(published / "sitemap.xml")
    urls = [loc.text for loc in tree.iter() if loc.tag.endswith("loc")]
    assert urls and all(url.startswith("https://www.cloud7.example/") for url in urls)
    assert "https://www.cloud7.example/privacy-policy/2022-12-08/" in urls


def test_icons_and_the_preview_image_are_served_from_the_site(published):
    home = soup(published / "index.html")
    linked = [link["href"] for link in home.find_all("link", rel=["icon", "apple-touch-icon"])]
    image = home.find("meta", property="og:image")["content"]
    assert image == "https://www.cloud7.example/images/social-card.jpg"
    for url in [*linked, image, "/favicon.ico"]:
        path = url.removeprefix("https://www.cloud7.example")
        assert (published / path.lstrip("/")).is_file(), url
    assert {"/favicon.ico", "/favicon.svg", "/apple-touch-icon.png"} <= {
        url.removeprefix("https://www.cloud7.example") for url in linked
    }


def test_icon_and_card_bitmaps_have_the_sizes_browsers_and_crawlers_ask_for():
    extra, images = ROOT / "content/extra", ROOT / "content/images"
    assert png_size((extra / "apple-touch-icon.png").read_bytes()) == (180, 180)
    ico = (extra / "favicon.ico").read_bytes()
    count = struct.unpack_from("<H", ico, 4)[0]
    sizes = {struct.unpack_from("<B", ico, 6 + 16 * i)[0] for i in range(count)}
    assert sizes == {16, 32, 48}
    card = (images / "social-card.jpg").read_bytes()
    assert card[:2] == b"\xff\xd8" and jpeg_size(card) == (1200, 630)


def test_a_page_may_name_its_own_preview_image(tmp_path):
    content = copy_content(tmp_path / "content")
    shutil.copy(content / "images/social-card.jpg", content / "images/kubernetes.jpg")
    (content / "news/2026-11-01-k8s.md").write_text(
        "Title: Kubernetes 2\nDate: 2026-11-01 09:00\nCategory: Product\n"
        "Image: images/kubernetes.jpg\nImage_alt: A cluster diagram\n\nBody.\n"
    )
    out = build_or_fail(tmp_path / "out", content=content)
    own = soup(out / "news/kubernetes-2/index.html")
    assert own.find("meta", property="og:image")["content"] == "/images/kubernetes.jpg"
    assert own.find("meta", property="og:image:alt")["content"] == "A cluster diagram"
    other = soup(out / "about/index.html").find("meta", property="og:image")["content"]
    assert other == "/images/social-card.jpg"


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("Image: images/nowhere.jpg\nImage_alt: Nothing", "'images/nowhere.jpg' is not a file"),
        ("Image: images/social-card.jpg\n", "has no description: add Image_alt:"),
        ("Image_alt: A picture\n", "Image_alt: without Image:"),
    ],
)
def test_a_bad_preview_image_fails_the_build_naming_the_file(tmp_path, metadata, message):
    content = copy_content(tmp_path / "content")
    (content / "pages/offer.md").write_text(f"Title: Offer\n{metadata}\n\nBody.\n")
    output = " ".join(build_fails(tmp_path / "out", content=content).split())
    assert "social_cards: content/pages/offer.md:" in output and message in output


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height from a JPEG's start-of-frame segment."""
    at = 2
    while at < len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise ValueError("no start-of-frame segment")


def test_publish_writes_gzip_and_brotli_copies_of_every_text_file(published):
    texts = [
        path
        for suffix in ("*.html", "*.css", "*.js", "*.xml", "*.svg")
        for path in published.rglob(suffix)
    ]
    assert len(texts) > 30
    for path in texts:
        original = path.read_bytes()
        packed = path.with_name(path.name + ".gz")
        assert gzip.decompress(packed.read_bytes()) == original, packed
        unpacked = brotli.decompress(path.with_name(path.name + ".br").read_bytes())
        assert unpacked == original, path
    assert not list(published.rglob("*.png.gz")), "images are compressed already"


def test_contact_page_posts_to_the_sites_own_backend_and_says_only_what_it_shows(tmp_path, site):
    for path, lang in (("contact/index.html", "en"), ("nl/contact/index.html", "nl")):
        main = soup(site / path).find("main")
        form = main.find("form")
        assert form["action"] == "/api/contact"
        fields = {field["name"] for field in form.find_all(["input", "textarea"])}
        # The policy's fields, and what the backend needs to check the post.
        assert fields == {
            "request",
            "name",
            "phone",
            "email",
            "country",
            "message",
            "lang",
            "page",
            "token",
            "website",
        }
        assert form.find("input", attrs={"name": "lang"})["value"] == lang
        assert (
            form.find("input", attrs={"name": "page"})["value"] == "/" + path[: -len("index.html")]
        )
        assert main.find("script", src="/theme/js/forms.js")
        assert not main.find("script", src=False), "no inline script"
        assert form.find(attrs={"aria-live": "polite"})
    labels = {
        label.get_text(strip=True) for label in soup(site / "contact/index.html").find_all("label")
    }
    assert {"Name", "Phone number", "E-mail address", "Country of residence", "Message"} <= labels
    form = soup(site / "contact/index.html").find("main").find("form")
    hint = form.find(id=form.find("textarea")["aria-describedby"]).get_text()
    assert "special categories of personal data" in hint
    for path in ("contact-received/index.html", "nl/contact-received/index.html"):
        assert soup(site / path).find("h1")

    without = build_or_fail(tmp_path / "out", CONTACT_FORM_ACTION="")
    main = soup(without / "contact/index.html").find("main")
    assert main.find("form") is None
    assert main.find("a", href="mailto:privacy@cloud7.example")
    # The page never promises a form it does not show.
    for path in ("contact/index.html", "nl/contact/index.html"):
        words = soup(without / path).find("main").get_text(" ").lower()
        assert not re.search(r"\bform\b|formulier", words), path


def test_newsletter_page_posts_to_the_sites_own_backend_and_otherwise_says_how_to_subscribe(
    tmp_path, site
):
    form = soup(site / "newsletter/index.html").find("main").find("form")
    assert form["action"] == "/api/newsletter"
    shown = form.find("p").get_text(" ", strip=True)
    # The proof of opt-in stores the backend's words for the language: the ones shown.
    assert shown.startswith(consent_text("en")), "the proof keeps the words the visitor saw"
    assert form.find("input", attrs={"name": "consent_text"}) is None  # nothing posted
    dutch = soup(site / "nl/newsletter/index.html").find("main").find("form").find("p")
    assert dutch.get_text(" ", strip=True).startswith(consent_text("nl"))
    assert consent_text("nl") != consent_text("en")
    out = build_or_fail(tmp_path / "out", NEWSLETTER_FORM_ACTION="")
    main = soup(out / "newsletter/index.html").find("main")
    assert main.find("form") is None and main.find(id="subscribe")


def test_marketing_adds_a_news_item_with_one_markdown_file(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "news/2026-11-01-green-energy.md").write_text(
        "Title: All regions now run on green energy\nDate: 2026-11-01 09:00\n"
        "Category: Company\nTags: energy\nSummary: Every region is renewable.\n\nBody.\n"
    )
    out = build_or_fail(tmp_path / "out", content=content)
    article = out / "news/all-regions-now-run-on-green-energy/index.html"
    assert "All regions now run on green energy" in article.read_text()
    assert "/news/all-regions-now-run-on-green-energy/" in (out / "news/index.html").read_text()
    assert (out / "news/tag/energy/index.html").is_file()


def test_markup_from_markdown_stays_markup_free_where_it_must(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "news/2026-11-03-prices.md").write_text(
        "Title: Prices & plans\nDate: 2026-11-03 09:00\nCategory: Product\n"
        'Summary: From `<iframe>` to "quotes" & more.\n\n'
        "| Plan | Price |\n|:-----|------:|\n| Small | €5 |\n"
    )
    out = build_or_fail(tmp_path / "out", content=content)
    article = (out / "news/prices-plans/index.html").read_text()
    assert "style=" not in article  # a strict CSP forbids inline styles
    assert 'content="From &lt;iframe&gt; to &#34;quotes&#34; &amp; more."' in article
    assert "<iframe" not in (out / "news/index.html").read_text()


def test_broken_metadata_fails_the_build_naming_the_file(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "news/2026-11-02-broken.md").write_text("Title: Broken\nDate: not a date\n\nBody.\n")
    message = build_fails(tmp_path / "out", content=content)
    assert "2026-11-02-broken.md" in message


def test_a_markdown_file_outside_the_content_folders_fails_the_build(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "careers.md").write_text("Title: Careers\n\nJoin us.\n")
    (content / "policies/cookie-notes.md").write_text("Title: Notes\n\nDraft.\n")
    message = build_fails(tmp_path / "out", content=content)
    assert "content/careers.md, content/policies/cookie-notes.md" in message
    assert "move pages to content/pages/ and news to content/news/" in message
    assert not (tmp_path / "out/careers").exists()


def test_a_link_to_a_policy_version_file_points_at_its_permanent_page(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "pages/legal.md").write_text(
        "Title: Legal\n\n[The first policy]({filename}/policies/privacy-policy/2022-12-08.md)\n"
    )
    out = build_or_fail(tmp_path / "out", content=content)
    assert 'href="/privacy-policy/2022-12-08/"' in (out / "legal/index.html").read_text()


def test_a_plugin_that_fails_to_load_fails_the_build(tmp_path):
    plugins = ["pelican.plugins.refusals", "pelican.plugins.consent_banner", "no_such_plugin"]
    message = build_fails(tmp_path / "out", PLUGINS=plugins)
    assert "no_such_plugin" in message


@pytest.mark.parametrize(
    "module",
    [
        "tests.benchmarks",
        "tests.lighthouse",
        "tests.screenshots",
        "backend.audit",
        "theme.artwork.make_images",
    ],
)
def test_the_make_targets_scripts_load_outside_pytest(module):
    """`make bench`, `lighthouse`, `screenshots`, `audit` and `images` run these with
    `python -m` from the checkout, without pytest: each finds its imports as installed."""
    loaded = subprocess.run(
        [sys.executable, "-c", f"import runpy; runpy.run_module({module!r}, run_name='loaded')"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert loaded.returncode == 0, loaded.stderr


def test_a_refused_build_says_why_once_without_a_traceback(tmp_path):
    message = build_fails(tmp_path / "out", CONSENT={"lifetime_months": 24})
    assert message.count("Invalid 'CONSENT' key: 'lifetime_months'") == 1
    assert "ConsentConfigError" not in message


def test_a_refusal_pelican_logged_names_its_cause_once(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "news/2026-11-02-broken.md").write_text("Title: Broken\nDate: not a date\n\nBody.\n")
    message = build_fails(tmp_path / "out", content=content)
    assert "Could not process news/2026-11-02-broken.md" in message
    assert message.count("'not a date' is not a valid date") == 1


def test_a_bug_in_a_plugin_keeps_its_traceback(tmp_path):
    plugin = tmp_path / "plugins/buggy.py"
    plugin.parent.mkdir()
    plugin.write_text(
        "from pelican import signals\n\n\n"
        "def initialized(pelican):\n    return {}['no such key']\n\n\n"
        "def register():\n    signals.initialized.connect(initialized)\n"
    )
    result = build_site(
        tmp_path / "out",
        PLUGIN_PATHS=[str(plugin.parent)],
        PLUGINS=["pelican.plugins.refusals", "buggy"],
    )
    said = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" in said and "KeyError: 'no such key'" in said


def test_debug_keeps_the_traceback_of_a_refusal(tmp_path):
    result = build_site(tmp_path / "out", flags=("--debug",), CONSENT={"lifetime_months": 24})
    assert result.returncode != 0
    assert "Traceback" in result.stdout + result.stderr
