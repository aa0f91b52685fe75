"""consent_banner on a site that is not ours: Pelican's own `simple` theme, the plugin alone.

A small blog with a few pages, an article and Google's gtag snippet pasted into one page,
built in a fresh virtual environment that holds Pelican and this project's wheels alone
(tests/conftest.py's wheel_venv), then visited in real Chromium (Google stubbed, no
request leaves this machine) and audited with the cookie_audit wheel.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Server, epoch, text, wait_until

MEASUREMENT_ID = "G-ANYSITE42"
# Google's snippet for a GA4 property, as Google gives it.
GTAG_SNIPPET = f"""<!-- Google tag (gtag.js) -->
<script async src="https://www.googletagmanager.com/gtag/js?id={MEASUREMENT_ID}"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){{dataLayer.push(arguments);}}
  gtag('js', new Date());

  gtag('config', '{MEASUREMENT_ID}');
</script>
"""
SETTINGS = """AUTHOR = "Ann"
SITENAME = "Corner Bakery"
SITEURL = ""
THEME = "simple"
TIMEZONE = "Europe/Amsterdam"
DEFAULT_LANG = "en"
PLUGINS = ["pelican.plugins.consent_banner"]  # the plugin alone
CONSENT = {
    "revision": "2026-01-01",
    "policy_url": "pages/privacy.html",
    "cookies": [
        {"name": "_ga", "provider": "Google Analytics", "purpose": "Counts visitors.",
          "duration": "2 years", "category": "analytics"},
        {"name": "_ga_*", "provider": "Google Analytics", "purpose": "Counts visits.",
          "duration": "2 years", "category": "analytics"},
    ],
}
"""
PAGES = {
    "pages/about.md": "Title: About\n\nWe bake bread.\n",
    "pages/privacy.md": "Title: Privacy\n\nWe count visitors only if you agree.\n",
    "pages/opening-hours.md": f"Title: Opening hours\n\nDaily, 7 to 17.\n\n{GTAG_SNIPPET}",
    "first-loaf.md": "Title: Our first loaf\nDate: 2026-01-05\nCategory: News\n\nIt rose.\n",
}
DAY = dt.date(2026, 1, 15)  # the build's, pinned
TAG_PAGE = "/pages/opening-hours.html"
IMAGE_PAGE = "pages/gallery.md"
COOKIE_PAGE = "/pages/guestbook.html"
# A first-party script of the theme's kind, writing a cookie before anyone chose.
PLANTED_COOKIE = '<script>document.cookie = "visited=1; max-age=86400; path=/";</script>'


def build(
    python: Path, root: Path, extra: dict[str, str] | None = None, settings: str = SETTINGS
) -> subprocess.CompletedProcess:
    """Write the site's content and settings into `root` and run the wheels' Pelican on it."""
    root.mkdir(parents=True, exist_ok=True)
    for name, page in {**PAGES, **(extra or {})}.items():
        (root / "content" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "content" / name).write_text(page, encoding="utf-8")
    (root / "pelicanconf.py").write_text(settings, encoding="utf-8")
    command = [str(python), "-m", "pelican", "content", "-s", "pelicanconf.py"]
    command += ["-o", "output", "--fatal", "errors", "-e", f"CACHE_PATH={json.dumps('cache')}"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch(DAY), "COLUMNS": "1000"}
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)


def built(python: Path, root: Path, extra: dict[str, str] | None = None) -> Path:
    result = build(python, root, extra)
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "output"


def audit(python: Path, site: Path, report: Path) -> subprocess.CompletedProcess:
    """The audit wheel's cookie_audit, run beside the site, away from this checkout."""
    command = [str(python), "-m", "cookie_audit", str(site), "--report", str(report)]
    command += ["--json-only", "--no-cache"]
    return subprocess.run(command, cwd=site.parent, capture_output=True, text=True)


@pytest.fixture(scope="module")
def any_site(wheel_venv, tmp_path_factory) -> Path:
    return built(wheel_venv, tmp_path_factory.mktemp("any-site"))


@pytest.fixture(scope="module")
def any_server(any_site):
    served = Server(any_site)
    yield served
    served.close()


def paths(site: Path) -> list[str]:
    pages = sorted(site.rglob("*.html"))
    return ["/" + str(p.relative_to(site)).removesuffix("index.html") for p in pages]


def test_the_banner_is_on_every_page_of_the_built_site(any_site, any_server, new_visitor):
    visitor = new_visitor(any_server)
    pages = paths(any_site)
    assert {"/", TAG_PAGE, "/our-first-loaf.html", "/pages/privacy.html"} <= set(pages)
    hidden = []
    for path in pages:
        visitor.open(path)
        if not visitor.banner_visible():
            hidden.append(path)
    assert hidden == []
    assert visitor.errors == [] and visitor.foreign_requests == []


def test_the_pasted_tag_loads_only_after_accept(any_server, new_visitor):
    visitor = new_visitor(any_server)
    visitor.open(TAG_PAGE)
    assert visitor.google_requests == []
    visitor.click(text("accept"))
    wait_until(visitor.page, f"(window.dataLayer || []).some(c => c[1] === '{MEASUREMENT_ID}')")
    wait_until(visitor.page, "!!window.dataLayer.stubbed")  # the stand-in gtag.js ran
    assert any("/gtag/js?id=" + MEASUREMENT_ID in url for url in visitor.google_requests)
    assert visitor.foreign_requests == [] and visitor.errors == []


def test_the_pasted_tag_never_loads_after_reject(any_server, new_visitor):
    visitor = new_visitor(any_server)
    visitor.open(TAG_PAGE)
    visitor.click(text("reject"))
    visitor.open(TAG_PAGE)
    visitor.open("/")
    assert not visitor.banner_visible()  # the choice holds
    assert visitor.google_requests == [] and visitor.foreign_requests == []
    assert visitor.analytics_cookies() == []


def test_a_pasted_third_party_image_fails_the_build_naming_its_file(wheel_venv, tmp_path):
    gallery = "Title: Gallery\n\n![x](https://images.example.com/x.png)\n"
    result = build(wheel_venv, tmp_path, {IMAGE_PAGE: gallery})
    said = result.stdout + result.stderr
    # Pelican prints its traceback after the message: the refusals plugin, which this
    # site does not have, takes it away.
    assert result.returncode != 0, said
    assert f"content/{IMAGE_PAGE}" in said and "images.example.com" in said
    assert not (tmp_path / "output/index.html").exists()


def test_without_policy_versions_the_site_names_its_policy(wheel_venv, tmp_path):
    result = build(wheel_venv, tmp_path, settings=SETTINGS.replace('"revision": "2026-01-01",', ""))
    said = result.stdout + result.stderr
    assert result.returncode != 0, said
    assert "consent_banner: CONSENT['revision'] is not set" in said
    assert "or enable the policy_versions plugin" in said


def test_cookie_audit_passes_the_site(wheel_venv, any_site, tmp_path):
    result = audit(wheel_venv, any_site, tmp_path / "report")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cookie audit: PASS" in result.stdout
    report = json.loads((tmp_path / "report/report.json").read_text())
    observed = {c["name"]: c["states"] for c in report["cookies"]["observed"]}
    assert "accepted" in observed["_ga"]  # the pasted tag ran, and its cookies are declared


def test_cookie_audit_catches_a_planted_cookie_naming_it(wheel_venv, tmp_path):
    guestbook = f"Title: Guestbook\n\nSign here.\n\n{PLANTED_COOKIE}\n"
    site = built(wheel_venv, tmp_path / "site", {"pages/guestbook.md": guestbook})
    result = audit(wheel_venv, site, tmp_path / "report")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads((tmp_path / "report/report.json").read_text())
    found = {(v["rule"], v["page"], v["subject"]) for v in report["violations"]}
    assert ("undeclared-cookie", COOKIE_PAGE, "visited") in found, found
    assert f"{COOKIE_PAGE} undeclared-cookie visited" in result.stdout
