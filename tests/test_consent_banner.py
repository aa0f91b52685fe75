"""The consent_banner plugin at build time: settings, injection, gating, assets."""

import datetime as dt
import hashlib
import re
import runpy
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pelican.plugins.consent_banner.build import Build
from pelican.plugins.consent_banner.config import ConsentConfigError, check_config
from pelican.plugins.consent_banner.gate_google_tags import gate_google_tags
from pelican.plugins.consent_banner.languages import BUILT_IN as LANGUAGES
from pelican.plugins.consent_banner.markup import InjectionError
from pelican.plugins.policy_versions.declaration import read_declaration

from tests.conftest import (
    PINNED_DAY,
    ROOT,
    build_fails,
    build_or_fail,
    build_output,
    consent_record,
    copy_content,
    html_pages,
    manifest_of,
    policy_version_or_fail,
    receipts_day,
    revision_of,
    text,
)

HEAD = re.compile(r'<link rel="stylesheet" href="/consent/consent\.[0-9a-f]{10}\.css"><script ')


def test_every_html_page_gets_the_banner_exactly_once(site):
    pages = html_pages(site)
    assert len(pages) > 20
    for page in pages:
        html = page.read_text()
        lang = re.search(r'<html lang="([a-z]+)"', html).group(1)
        assert len(HEAD.findall(html)) == 1, page
        assert html.count('id="cb-banner"') == 1, page
        settings = f'cb-scripted" data-consent-open>{text("settings", lang)}</button>'
        assert html.count(settings) == 1, page
        # Early in the page: the banner comes straight after <body>.
        assert re.search(r"<body[^>]*><div id=\"cb\"", html), page


def test_assets_are_minified_and_named_by_their_content(site):
    assets = sorted((site / "consent").glob("consent.*"), key=lambda a: a.suffix)
    assert [a.suffix for a in assets] == [".css", ".js"]
    for asset in assets:
        digest = hashlib.sha256(asset.read_bytes()).hexdigest()[:10]
        assert asset.name == f"consent.{digest}{asset.suffix}"
        assert "\n\n" not in asset.read_text()


def pelican_in_process(tmp_path):
    """Pelican on the real content, run in this process as `make serve`'s autoreload does."""
    from pelican import Pelican
    from pelican.settings import read_settings

    settings = read_settings(
        str(ROOT / "pelicanconf.py"),
        override={
            "PATH": str(ROOT / "content"),
            "OUTPUT_PATH": str(tmp_path / "out"),
            "CACHE_PATH": str(tmp_path / "cache"),
            "POLICY_VERSIONS": {"today": "2026-12-15"},
        },
    )
    return Pelican(settings)


def test_the_banner_survives_the_content_cache_and_autoreload(tmp_path):
    site = pelican_in_process(tmp_path)
    for _ in range(3):  # a cold build, then two rebuilds from the cache, as autoreload does
        site.run()
        pages = html_pages(tmp_path / "out")
        assert all(len(HEAD.findall(p.read_text())) == 1 for p in pages)
    assert (tmp_path / "cache").is_dir()


def test_a_plugin_reading_each_page_as_it_is_written_finds_the_banner(tmp_path):
    """A page gets the banner before it is written: a plugin listening for content_written
    (pelican-image-process reads and rewrites each page there) finds it."""
    from pelican import signals

    seen = {}

    def read(path, context):
        if path.endswith(".html"):
            seen[path] = len(HEAD.findall(Path(path).read_text(encoding="utf-8")))

    signals.content_written.connect(read)
    try:
        pelican_in_process(tmp_path).run()
    finally:
        signals.content_written.disconnect(read)
    assert len(seen) == len(html_pages(tmp_path / "out")) > 20
    assert set(seen.values()) == {1}


def build(tmp_path):
    settings = {
        "CONSENT": {"measurement_id": "G-TEST1234"},
        "OUTPUT_PATH": str(tmp_path),
        "SITENAME": "Cloud 7",
    }
    built = Build(settings)
    built.use_embeds({})
    built.render({"CONSENT_REVISION": "2026-12-01", "POLICY_URL": "privacy-policy/"})
    return built


PAGE = (
    "<!DOCTYPE html>\r\n<html><head><title>T</title></head>\r\n"
    '<body class="x"><p>Hello</p><footer><!-- cookie-settings --></footer></body></html>'
)


def test_injection_is_idempotent_and_keeps_every_other_byte(tmp_path):
    built = build(tmp_path)
    once = built.inject(PAGE, "t.html")
    assert built.inject(once, "t.html") == once
    markup = built.markup.banner_in("en")
    restored = once.replace(built.markup.head, "").replace(markup.banner, "")
    assert restored.replace(markup.control, "<!-- cookie-settings -->") == PAGE


def test_a_theme_without_the_footer_slot_still_gets_cookie_settings(tmp_path):
    built = build(tmp_path)
    page = built.inject("<html><head></head><BODY><p>x</p></BODY></html>", "t.html")
    assert built.markup.banner_in("en").control in page


@pytest.mark.parametrize("page", ["<html><body>no head</body></html>", "<head></head>"])
def test_a_page_that_cannot_be_injected_fails_naming_it(tmp_path, page):
    with pytest.raises(InjectionError, match="broken.html"):
        build(tmp_path).inject(page, "broken.html")


def saved(code: str) -> str:
    return "/consent/gated.js"


@pytest.mark.parametrize(
    "snippet",
    [
        '<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123"></script>',
        "<script src='https://www.googletagmanager.com/gtag/js?id=G-ABC123' defer></script>",
        '<SCRIPT defer async SRC="https://www.google-analytics.com/analytics.js"></SCRIPT>',
        "<script>window.dataLayer = window.dataLayer || []; gtag('config', 'G-ABC123');</script>",
        "<script>(function(w,d,s,l,i){})(window,document,'script','dataLayer','GTM-XYZ');</script>",
        '<script type="text/javascript">ga("create", "UA-1"); GoogleAnalyticsObject</script>',
        "<script async src=https://www.googletagmanager.com/gtag/js?id=G-ABC123></script>",
        '<script\n  data-x="1"\n  src="//www.googletagmanager.com/gtm.js?id=GTM-XYZ"\n></script>',
        "<script type=module src='https://www.googletagmanager.com/gtag/js?id=G-ABC123'></script>",
        "<script>dataLayer.push({'event': 'signup'});</script>",
        # Read as the tokeniser reads tags: a ">" in a quoted value, an end tag with more.
        '<script data-note="a>b" src="https://www.googletagmanager.com/gtag/js"></script>',
        '<script src="https://www.googletagmanager.com/gtag/js"></script foo>',
    ],
)
def test_google_tags_are_gated(snippet):
    page, gated = gate_google_tags(f"<head>{snippet}</head>", saved)
    assert len(gated) == 1
    gated_tag = (
        r'<script type="text/plain" data-consent="analytics" data-src="[^"]+"[^>]*></script>'
    )
    assert re.fullmatch(f"<head>{gated_tag}</head>", page)
    assert "google" not in page.split("data-src=")[0]


def test_tag_manager_noscript_iframe_is_removed():
    noscript = (
        '<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-XYZ" '
        'height="0" width="0" style="display:none"></iframe></noscript>'
    )
    page, gated = gate_google_tags(f"<body>{noscript}<p>x</p></body>", saved)
    assert page == "<body><p>x</p></body>"
    assert gated == ["Tag Manager <noscript> iframe removed"]


@pytest.mark.parametrize(
    "script",
    [
        '<script src="/theme/site.js"></script>',
        "<script>console.log('google is a word')</script>",
        '<script type="application/ld+json">{"name": "googletagmanager.com"}</script>',
    ],
)
def test_other_scripts_are_left_alone(script):
    assert gate_google_tags(script, saved) == (script, [])


def test_a_theme_page_that_cannot_be_injected_fails_the_build_naming_it(tmp_path):
    before = {page: page.read_text() for page in html_pages(build_or_fail(tmp_path / "out"))}
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "page.html").write_text("<p>{{ page.content }}</p>")  # no <head>, no <body>
    message = build_fails(tmp_path / "out", THEME_TEMPLATES_OVERRIDES=[str(overrides)])
    assert re.search(r"consent_banner: [\w/]+/index\.html: no </head> followed by <body>", message)
    # Rebuilding into the same folder (make serve), no page was left half-written.
    after = {page: page.read_text() for page in html_pages(tmp_path / "out")}
    assert after.keys() == before.keys()
    assert all(len(HEAD.findall(page)) == 1 for page in after.values())


def test_pelican_analytics_setting_is_gated_and_logged(tmp_path):
    snippet = "<script>gtag('config', 'G-THEME999');</script>"
    said = build_output(tmp_path / "out", ANALYTICS=snippet)
    page = (tmp_path / "out/index.html").read_text()
    assert snippet not in page and 'data-consent="analytics"' in page
    assert "consent_banner: gated in index.html: inline script moved to" in said


@pytest.mark.parametrize(
    ("consent", "key"),
    [
        ({"measurement_id": "UA-12345-1"}, "measurement_id"),
        ({"lifetime_months": 14}, "lifetime_months"),
        ({"lifetime_months": "6"}, "lifetime_months"),
        ({"colour": "blue"}, "colour"),
        ({"texts": {"en": {"acept": "Yes"}}}, "texts.en.acept"),
        ({"texts": {"en": {"accept": ""}}}, "texts.en.accept"),
        ({"texts": {"accept": "Yes"}}, "texts.accept"),  # texts are per language
        ({"texts": {"NL": {}}}, "texts.NL"),
        ({"texts": {"nl": {"intro": "Welkom op {sitee}"}}}, "texts.nl.intro"),
        ({"texts": {"nl": {"title": "{provider}"}}}, "texts.nl.title"),
        ({"texts": {"nl": {"cookies": {"_ga": {"purpose": "Telt"}}}}}, "texts.nl.cookies._ga"),
        ({"texts": {"nl": {"verbs": {"youtube": ""}}}}, "texts.nl.verbs.youtube"),
        ({"cookies": [{"name": "_ga"}]}, "cookies[0]"),
        ({"honour_gpc": "yes"}, "honour_gpc"),
        ({"cookie_name": "my cookie"}, "cookie_name"),
        ({"policy_url": "javascript:alert(1)"}, "policy_url"),
        ({"policy_url": "/privacy/"}, "policy_url"),
        ({"receipts_url": "https://backend.example/api/consent"}, "receipts_url"),
        ({"receipts_url": "api/consent"}, "receipts_url"),
        ({"receipts_url": None}, "receipts_url"),
        ({"texts": {"nl": {"consent_id": "Uw toestemmings-ID"}}}, "texts.nl.consent_id"),
        ({"texts": {"nl": {"title": "Cookies {id}"}}}, "texts.nl.title"),
    ],
)
def test_bad_consent_settings_name_the_key(consent, key):
    with pytest.raises(ConsentConfigError, match=re.escape(f"Invalid 'CONSENT' key: '{key}'")):
        check_config(consent)


def test_a_bad_consent_setting_fails_the_build(tmp_path):
    message = build_fails(tmp_path / "out", CONSENT={"lifetime_months": 24})
    assert "consent_banner: Invalid 'CONSENT' key: 'lifetime_months'" in message
    assert not (tmp_path / "out/index.html").exists()


def test_configured_texts_are_escaped(tmp_path):
    texts = {"title": '<img src=x onerror="alert(1)"> “Cookies”', "accept": "Yes & agree"}
    consent = {"measurement_id": "G-TEST1234", "texts": {"en": texts}}
    out = build_or_fail(tmp_path / "out", CONSENT=consent)
    page = (out / "index.html").read_text()
    assert "<img src=x" not in page
    # Characters above U+00FF go in as references (see one_byte).
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &#8220;Cookies&#8221;" in page
    assert ">Yes &amp; agree</button>" in page


def test_cookie_inventory_texts_are_escaped_in_banner_and_policy(tmp_path):
    cookie = {
        "name": "_ga",
        "provider": "Google <b>Analytics</b>",
        "purpose": '<script>alert("x")</script>',
        "duration": "2 years",
        "category": "analytics",
    }
    dutch = {"purpose": '<script>alert("nl")</script>', "duration": "2 jaar"}
    consent = {
        "measurement_id": "G-T1234",
        "cookies": [cookie],
        "texts": {"nl": {"cookies": {"_ga": dutch}}},
    }
    # The policy's table is a version's frozen declaration: declare the cookie in a new one.
    content = copy_content(tmp_path / "content")
    policy_version_or_fail(content, "new", "2027-01-01", CONSENT=consent)
    new = content / "policies/privacy-policy/2027-01-01.md"
    new.write_text(new.read_text().replace("Summary: \n", "Summary: x\nReconsent: no\n"))
    policy_version_or_fail(content, "lock", "2027-01-01", CONSENT=consent)
    out = build_or_fail(tmp_path / "out", content=content, day=dt.date(2027, 1, 1), CONSENT=consent)
    for page in ("index.html", "privacy-policy/index.html", "nl/index.html"):
        text = (out / page).read_text()
        assert "<script>alert(" not in text and "<b>Analytics" not in text
        assert "&lt;script&gt;alert(" in text


def test_a_failed_make_build_leaves_the_last_good_output(tmp_path):
    import shutil
    import subprocess

    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", "output*", "cache", ".*"))
    make = ["make", "-C", str(project), "build", f"VENV={ROOT / '.venv'}"]
    assert subprocess.run(make, capture_output=True).returncode == 0
    good = (project / "output/index.html").read_text()
    (project / "content/news/2026-11-02-broken.md").write_text("Title: Broken\nDate: soon\n\nx\n")
    failed = subprocess.run(make, capture_output=True, text=True)
    assert failed.returncode != 0 and "2026-11-02-broken.md" in failed.stdout + failed.stderr
    assert (project / "output/index.html").read_text() == good
    assert not (project / "output.tmp").exists()


def test_no_page_has_an_inline_script_or_style(site):
    for page in html_pages(site):
        text = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*text/plain)[^>]*>", text), page
        assert "<style" not in text and " style=" not in text, page


MANIFEST_KEYS = {
    "banner_version",
    "built_at",
    "site_url",
    "revision",
    "policy",
    "cookie",
    "languages",
    "providers",
    "inputs",
    "banner",
}


def test_the_manifest_names_the_banner_version_every_page_runs_with(receipts_site):
    manifest = manifest_of(receipts_site)
    assert set(manifest) == MANIFEST_KEYS
    version = manifest["banner_version"]
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    for page in html_pages(receipts_site):
        assert f'data-banner="{version}"></script>' in page.read_text(), page
    assert manifest["revision"] == revision_of(receipts_site)
    assert manifest["languages"] == ["en", "nl"] == sorted(manifest["banner"])
    assert manifest["built_at"] == f"{receipts_day()}T12:00:00Z"  # SOURCE_DATE_EPOCH
    assert manifest["cookie"]["name"] == "cloud7_consent"
    # Each language's banner as injected into its pages.
    home = (receipts_site / "nl/index.html").read_text()
    assert manifest["banner"]["nl"] in home


def test_the_manifest_names_the_policy_in_force_with_its_hash(receipts_site):
    policy = manifest_of(receipts_site)["policy"]
    assert policy["version"] == str(receipts_day())
    record = receipts_site / "privacy-policy" / policy["version"] / f"{policy['version']}.txt"
    assert hashlib.sha256(record.read_bytes()).hexdigest() == policy["sha256"]
    assert policy["url"] == f"/privacy-policy/{policy['version']}/"


def test_the_cookie_grammar_is_consent_js_own(receipts_site):
    site = receipts_site
    pattern = manifest_of(site)["cookie"]["pattern"]
    script = (ROOT / "consent_js/consent.js").read_text()
    assert f"const RECORD = /{pattern}/;" in script
    value = "v2.2026-12-01.a1.1796000000.0123456789abcdef0123456789abcdef.3.eyoutube+vimeo"
    record = consent_record(site, value + ".psave_nl-BE_0123456789ab")
    assert (record["seq"], record["embeds"], record["lang"]) == ("3", "youtube+vimeo", "nl-BE")
    assert consent_record(site, value)["action"] is None
    assert consent_record(site, "v1.2026-12-01.a1.1796000000") is None


def test_the_same_build_writes_the_same_manifest_bytes(receipts_site, tmp_path):
    again = build_or_fail(tmp_path / "again", day=receipts_day())
    assert (again / "consent/banner.json").read_bytes() == (
        receipts_site / "consent/banner.json"
    ).read_bytes()


def test_the_banner_version_changes_with_the_banner_words(receipts_site, tmp_path):
    consent = runpy.run_path(str(ROOT / "pelicanconf.py"))["CONSENT"]
    texts = {**consent["texts"], "nl": {**consent["texts"]["nl"], "accept": "Ja, meten mag"}}
    changed = build_or_fail(
        tmp_path / "changed", day=receipts_day(), CONSENT={**consent, "texts": texts}
    )
    before, after = manifest_of(receipts_site), manifest_of(changed)
    assert after["banner_version"] != before["banner_version"]
    differ = {name for name in before["inputs"] if before["inputs"][name] != after["inputs"][name]}
    assert differ == {"banner.nl"}
    assert "Ja, meten mag" in after["banner"]["nl"]


# The banner does what the policy version in force declares.
POLICY = ROOT / "content/policies/privacy-policy"
WAITING = "the settings go beyond the policy in force"


def consent_cookie_words(page: Path) -> str:
    """The consent cookie's purpose in the Cookie settings' table of a built page."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return soup.select('tr[data-cookie="cloud7_consent"] td')[2].get_text()


@pytest.mark.parametrize("day", [PINNED_DAY, receipts_day()], ids=["before", "from"])
def test_the_published_site_switches_to_consent_records_on_their_versions_day(tmp_path, day):
    """Built for publishing before the day of the version that declares consent records,
    the site sends no receipt and describes the consent cookie as the version in force
    does; from that day it sends receipts, in the settings' new words, by itself."""
    said = build_output(tmp_path / "out", day=day, settings_file="publishconf.py", flags=("-v",))
    site = tmp_path / "out"
    records = day >= receipts_day()
    home = (site / "index.html").read_text()
    assert ('data-receipts="https://www.cloud7.example/api/consent"' in home) == records
    in_force = max(p for p in POLICY.glob("*.toml") if p.stem <= str(day))
    declared = read_declaration(in_force, in_force.name).cookies[0]
    assert consent_cookie_words(site / "index.html") == declared["purpose"]
    configured = runpy.run_path(str(ROOT / "pelicanconf.py"))["CONSENT"]["texts"]
    dutch = configured["nl"] if records else LANGUAGES["nl"]
    assert consent_cookie_words(site / "nl/index.html") == dutch["consent_cookie_purpose"]
    # Before the day the log says once, as information, what waits for the version.
    assert said.count(WAITING) == (0 if records else 1)
    assert re.search(rf"INFO +policy_versions: {WAITING}", said) or records
