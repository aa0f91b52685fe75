"""The plugins and the audit as another Pelican site gets them: each built as its own
wheel, installed with Pelican into a fresh virtual environment (wheel_venv), and used by a
small site on Pelican's own `simple` theme, away from this checkout. consent_banner alone
on such a site, in a browser and under the audit, is tests/test_any_site.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from tests.conftest import PINNED_DAY, epoch

SETTINGS = """\
SITENAME = "A small site"
PATH = "content"
THEME = "simple"
TIMEZONE = "UTC"
PLUGINS = ["pelican.plugins.consent_banner", "pelican.plugins.policy_versions"]
# The policy files are the plugin's, not articles.
ARTICLE_EXCLUDES = ["policies"]
# The simple theme has no page for a policy version: the site gives the three templates.
THEME_TEMPLATES_OVERRIDES = ["templates"]
"""
POLICY = """\
Title: Privacy policy
Effective: 2026-01-01
Summary: The first version.

We keep one cookie: your choice about cookies.
"""
DECLARATION = """\
[[cookies]]
name = "consent"
provider = "A small site"
purpose = "Remembers whether you accepted or rejected analytics cookies."
duration = "6 months"
category = "necessary"
"""
TEMPLATE = '{% extends "base.html" %}{% block content %}<h1>Privacy policy</h1>{% endblock %}'


def small_site(root: Path) -> Path:
    """A site of two posts and a locked privacy policy, as a newcomer would start one."""
    (root / "content/policies/privacy-policy").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "pelicanconf.py").write_text(SETTINGS)
    for slug in ("first", "second"):
        (root / f"content/{slug}.md").write_text(f"Title: {slug}\nDate: 2026-01-05\n\nHello.\n")
    policy = root / "content/policies/privacy-policy"
    (policy / "2026-01-01.md").write_text(POLICY)
    (policy / "2026-01-01.toml").write_text(DECLARATION)
    locked = hashlib.sha256((POLICY + DECLARATION).encode()).hexdigest()
    (policy / "versions.lock").write_text(f"2026-01-01  {locked}\n")
    for name in ("policy", "policy_history", "policy_changes"):
        (root / f"templates/{name}.html").write_text(TEMPLATE)
    return root


def run(python: Path, *args: str, cwd: Path, fails: bool = False) -> str:
    # A wide terminal: Pelican's log wraps its lines at the terminal's width.
    env = {"PATH": os.environ["PATH"], "SOURCE_DATE_EPOCH": epoch(PINNED_DAY), "COLUMNS": "1000"}
    result = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert (result.returncode != 0) == fails, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_the_wheels_build_a_site_on_pelicans_simple_theme(wheel_venv, tmp_path):
    site = small_site(tmp_path)
    run(
        wheel_venv,
        "-m",
        "pelican",
        "content",
        "-s",
        "pelicanconf.py",
        "-o",
        "output",
        "--fatal",
        "errors",
        cwd=site,
    )
    pages = sorted((site / "output").rglob("*.html"))
    assert len(pages) > 5
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert 'data-consent-choice="accept"' in html, page
        assert 'data-consent-choice="reject"' in html, page
    assets = {file.suffix for file in (site / "output/consent").iterdir()}
    assert assets == {".js", ".css", ".json"}
    script = next((site / "output/consent").glob("consent.*.js"))
    assert f'src="/consent/{script.name}"' in (site / "output/index.html").read_text()
    # A draft is refused in the plugin's own words: its commands, not this repository's.
    draft = site / "content/policies/privacy-policy/2027-01-01"
    draft.with_suffix(".md").write_text(POLICY.replace("2026-01-01", "2027-01-01"))
    draft.with_suffix(".toml").write_text(DECLARATION)
    refused = run(
        wheel_venv, "-m", "pelican", "content", "-s", "pelicanconf.py", cwd=site, fails=True
    )
    assert (
        "run `python -m pelican.plugins.policy_versions lock 2027-01-01` once approved" in refused
    )


def test_the_audit_wheel_runs_from_its_own_install(wheel_venv, tmp_path):
    said = run(wheel_venv, "-m", "cookie_audit", "--help", cwd=tmp_path)
    assert "usage:" in said
