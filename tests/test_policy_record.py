"""Policy versions as a legal record: frozen declarations, locks, feed, JSON, re-consent."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import runpy
import shutil
import subprocess
from xml.etree import ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from pelican.plugins.policy_versions.declaration import (
    additions,
    declaration_text,
    disagreements,
    held_to,
    read_declaration,
    unused,
)
from pelican.plugins.policy_versions.model import Declaration, PolicyError

import pelicanconf
from cookie_audit.inventory import read_declarations
from tests.conftest import (
    ROOT,
    Server,
    axe_violations,
    build_fails,
    build_or_fail,
    build_output,
    copy_content,
    epoch,
    policy_days,
    policy_version_fails,
    policy_version_or_fail,
    revision_of,
)

POLICIES = "policies/privacy-policy"
ATOM = "{http://www.w3.org/2005/Atom}"
NEW_COOKIE = {
    "name": "_new_cookie",
    "provider": "Google Analytics",
    "purpose": "Counts something new.",
    "duration": "1 day",
    "category": "analytics",
}
VIMEO = """
[[providers]]
name = "Vimeo"
category = "external-media"
hosts = ["player.vimeo.com"]
policy_url = "https://vimeo.com/privacy"
"""


# A day on which legal prepares a version of 2027-03-01: before it, and before the newest
# real version (2027-01-02), which describes the consent cookie as the settings will only
# from its day, so that the real site publishes on this day.
PREPARING = dt.date(2026, 12, 20)


def consent_with(*extra_cookies: dict) -> dict:
    """The site's CONSENT setting with more cookies declared."""
    settings = runpy.run_path(str(ROOT / "pelicanconf.py"))
    consent = dict(settings["CONSENT"])
    consent["cookies"] = [*consent["cookies"], *extra_cookies]
    # The Dutch edition's banner describes every cookie in Dutch too.
    dutch = consent["texts"]["nl"]
    described = {
        c["name"]: {"purpose": f"nl: {c['purpose']}", "duration": c["duration"]}
        for c in extra_cookies
    }
    consent["texts"] = {
        **consent["texts"],
        "nl": {**dutch, "cookies": {**dutch["cookies"], **described}},
    }
    return consent


def summarise(version, summary: str, *lines: str) -> None:
    """Fill in the empty Summary `make policy-version DATE=…` leaves, and more metadata."""
    text = version.read_text()
    version.write_text(text.replace("Summary: \n", "".join([f"Summary: {summary}\n", *lines]), 1))


def tables(site, day: str) -> str:
    page = (site / f"privacy-policy/{day}/index.html").read_text(encoding="utf-8")
    return "".join(
        str(t) for t in BeautifulSoup(page, "html.parser").find("main").find_all("table")
    )


def test_changing_the_inventory_leaves_every_published_table_byte_for_byte(site, tmp_path):
    content = copy_content(tmp_path / "content")
    consent = consent_with(NEW_COOKIE)
    new_day = dt.date(2027, 1, 1)
    policy_version_or_fail(content, "new", "2027-01-01", CONSENT=consent)
    summarise(content / POLICIES / "2027-01-01.md", "A new cookie.")
    policy_version_or_fail(content, "lock", "2027-01-01", CONSENT=consent)
    out = build_or_fail(tmp_path / "out", content=content, day=new_day, CONSENT=consent)
    for day in ("2022-12-08", "2026-12-01"):
        assert tables(out, day) == tables(site, day)
    assert "_new_cookie" not in tables(out, "2026-12-01")
    assert "_new_cookie" in tables(out, "2027-01-01")


PUBLISHING = {**pelicanconf.POLICY_VERSIONS, "site_check": "fail"}  # as publishconf.py has it


def test_a_cookie_the_policy_in_force_does_not_declare_fails_the_build_naming_it(tmp_path):
    output = build_fails(
        tmp_path / "out", CONSENT=consent_with(NEW_COOKIE), POLICY_VERSIONS=PUBLISHING
    )
    assert "cookie '_new_cookie' (Google Analytics, analytics) is not declared" in output
    assert f"{POLICIES}/2026-12-01.md" in output and "make policy-version" in output
    assert not (tmp_path / "out/index.html").exists()


def test_a_cookie_declared_only_by_an_upcoming_version_says_when_it_may_be_set(tmp_path):
    content = copy_content(tmp_path / "content")
    consent = consent_with(NEW_COOKIE)
    policy_version_or_fail(content, "new", "2027-01-01", CONSENT=consent)
    summarise(content / POLICIES / "2027-01-01.md", "A new cookie.", "Reconsent: no\n")
    policy_version_or_fail(content, "lock", "2027-01-01", CONSENT=consent)
    result = build_fails(
        tmp_path / "out", content=content, CONSENT=consent, POLICY_VERSIONS=PUBLISHING
    )
    assert "the upcoming version 2027-01-01 declares it" in result
    assert "rebuild on 2027-01-01" in result


def test_before_its_version_an_embed_is_previewed_with_a_warning_and_never_published(tmp_path):
    # 2026-11-25: the real site embeds YouTube and Google Maps, which 2026-12-01 declares.
    day = dt.date(2026, 11, 25)
    preview = build_output(tmp_path / "preview", day=day)
    assert "provider 'YouTube'" in preview and "rebuild on 2026-12-01" in preview
    published = build_fails(tmp_path / "published", day=day, settings_file="publishconf.py")
    assert "provider 'Google Maps' (external-media" in published
    assert not (tmp_path / "published/index.html").exists()


def test_a_changed_duration_is_a_disagreement_too(tmp_path):
    consent = {**consent_with(), "lifetime_months": 3}
    result = build_fails(tmp_path / "out", CONSENT=consent, POLICY_VERSIONS=PUBLISHING)
    assert "cookie 'cloud7_consent': the site says duration '3 months'" in result


def test_site_and_declaration_are_compared_on_every_cookie_and_provider():
    ga = {
        "name": "Google Analytics",
        "category": "analytics",
        "hosts": ["*.google-analytics.com"],
        "policy_url": "https://policies.google.com/privacy",
    }
    maps = {**ga, "name": "Google Maps", "category": "external-media", "hosts": ["maps.google.com"]}
    declared = Declaration(cookies=(), providers=(ga,))
    site = Declaration(
        cookies=(NEW_COOKIE,),
        providers=({**ga, "hosts": ["region1.google-analytics.com", "www.google.com"]}, maps),
    )
    assert disagreements(site, declared) == [
        "cookie '_new_cookie' (Google Analytics, analytics) is not declared",
        "provider 'Google Analytics': host 'www.google.com' is not declared",
        "provider 'Google Maps' (external-media, hosts maps.google.com) is not declared",
    ]
    assert disagreements(declared, declared) == []
    assert additions(declared, site, "Cloud 7") == [
        "third party 'Google Maps'",
        "purpose 'external-media'",
    ]


def test_consent_records_wait_for_a_version_that_declares_them(tmp_path):
    consent_cookie = {**NEW_COOKIE, "name": "cloud7_consent", "category": "necessary"}
    before = Declaration(cookies=(consent_cookie,))
    site = Declaration(cookies=({**consent_cookie, "purpose": "New words."},), consent_records=True)
    assert disagreements(site, before) == [
        "consent records (a receipt of each cookie choice, CONSENT['receipts_url']) are not "
        "declared",
        "cookie 'cloud7_consent': the site says purpose 'New words.', the policy declares "
        "'Counts something new.'",
    ]
    # While `before` is in force, the banner sends no receipt and keeps the declared words.
    cookie = {"name": "cloud7_consent", "purposes": ["New words.", "Counts something new."]}
    assert disagreements(held_to(site, before, cookie), before) == []
    # Words the banner does not have cannot be shown: they stay a disagreement.
    cookie = {**cookie, "purposes": ["New words."]}
    assert len(disagreements(held_to(site, before, cookie), before)) == 1
    assert unused(Declaration(cookies=site.cookies), site, False) == ["consent records"]
    # Written and read back as the declaration's first line.
    path = tmp_path / "2027-03-01.toml"
    path.write_text(declaration_text(site, "heading"), encoding="utf-8")
    assert path.read_text().splitlines()[2] == "consent_records = true"
    assert read_declaration(path, "2027-03-01.toml") == site


def test_a_declaration_says_consent_records_true_or_false(tmp_path):
    path = tmp_path / "2027-03-01.toml"
    path.write_text('consent_records = "yes"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="2027-03-01.toml: consent_records must be true or false"):
        read_declaration(path, "2027-03-01.toml")


def test_consent_records_a_draft_declares_are_not_accepted(tmp_path):
    """The settings keep consent records, which 2027-01-02 declares; while that version is
    a draft (publishing refuses it anyway), a preview warns about them and sends none."""
    content = copy_content(tmp_path / "content")
    draft = content / POLICIES / "2027-01-02.md"
    draft.write_text(draft.read_text() + "\nOne more sentence.\n", encoding="utf-8")
    result = build_output(tmp_path / "out", content=content)
    assert "WARNING  policy_versions: the site sets or contacts what" in result
    assert "consent records (a receipt of each cookie choice" in result
    assert "data-receipts" not in (tmp_path / "out/index.html").read_text()


def git(folder, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_an_edit_to_a_locked_version_fails_naming_it_and_the_lines(tmp_path):
    content = copy_content(tmp_path / "content")
    git(content, "init", "-q")
    git(content, "add", ".")
    git(content, "commit", "-q", "-m", "as published")
    old = content / POLICIES / "2022-12-08.md"
    old.write_text(old.read_text().replace("Info@Cloud", "privacy@cloud7.example", 1))
    output = build_fails(tmp_path / "out", content=content)
    assert "version 2022-12-08 is locked" in output and f"{POLICIES}/2022-12-08.md" in output
    changed = [line for line in output.splitlines() if line.strip().startswith(("-", "+"))]
    assert any(line.strip().startswith("-") and "Info@Cloud" in line for line in changed)
    assert any(
        line.strip().startswith("+") and "privacy@cloud7.example" in line for line in changed
    )
    assert not (tmp_path / "out/index.html").exists()


@pytest.mark.parametrize("history", ["none", "without the locked text"])
def test_where_git_cannot_show_the_locked_text_the_message_says_where_it_is(tmp_path, history):
    content = copy_content(tmp_path / "content")
    old = content / POLICIES / "2022-12-08.md"
    old.write_text(old.read_text().replace("Info@Cloud", "privacy@cloud7.example", 1))
    if history != "none":
        git(content, "init", "-q")
        git(content, "add", ".")
        git(content, "commit", "-q", "-m", "edited before it was ever committed")
    result = build_fails(tmp_path / "out", content=content)
    said = " ".join(result.split())
    assert "version 2022-12-08 is locked" in said
    why = (
        "this folder is not in a git repository"
        if history == "none"
        else "neither git's index nor the last 200 commits that change its files hold the text"
    )
    assert why in said
    assert "the published record /privacy-policy/2022-12-08/2022-12-08.txt is that text" in said
    assert "git log -p" not in said


def test_an_edit_to_a_locked_declaration_fails_too(tmp_path):
    content = copy_content(tmp_path / "content")
    declaration = content / POLICIES / "2026-12-01.toml"
    declaration.write_text(declaration.read_text().replace("6 months", "13 months"))
    result = build_fails(tmp_path / "out", content=content)
    assert "version 2026-12-01 is locked" in result


def test_a_version_that_took_effect_must_be_locked(tmp_path):
    content = copy_content(tmp_path / "content")
    lock = content / POLICIES / "versions.lock"
    lock.write_text("".join(line for line in lock.open() if not line.startswith("2026-12-01")))
    result = build_fails(tmp_path / "out", content=content)
    assert "version 2026-12-01 has taken effect but is not locked" in result
    assert "make policy-version LOCK=2026-12-01" in result


def test_an_upcoming_version_can_still_be_edited_and_locked_again(tmp_path):
    content = copy_content(tmp_path / "content")
    upcoming = content / POLICIES / "2026-12-01.md"
    upcoming.write_text(upcoming.read_text().replace("Nothing is set", "Nothing at all is set"))
    before = dt.date(2026, 11, 24)
    out = build_or_fail(tmp_path / "out", content=content, day=before)
    assert "Nothing at all is set" in (out / "privacy-policy/2026-12-01/index.html").read_text()
    policy_version_or_fail(content, "lock", "2026-12-01", day=before)
    build_or_fail(tmp_path / "after", content=content)
    # Once in force, the lock cannot be rewritten.
    upcoming.write_text(upcoming.read_text().replace("Nothing at all", "Nothing"))
    refused = policy_version_fails(content, "lock", "2026-12-01")
    assert "publish the change as a new version" in refused


def test_make_policy_version_produces_a_version_that_builds(site, tmp_path):
    content = copy_content(tmp_path / "content")
    start = PREPARING
    said = policy_version_or_fail(content, "new", "2027-03-01", day=start)
    assert "2027-03-01.md" in said and "LOCK=2027-03-01" in said
    new = content / POLICIES / "2027-03-01.md"
    text = new.read_text()
    assert "Effective: 2027-03-01" in text and "Reconsent" not in text
    # Today's declaration: every row of the site's cookie table.
    table = read_declarations((site / "index.html").read_text()).cookies
    assert (content / POLICIES / "2027-03-01.toml").read_text().count("[[cookies]]") == len(table)
    new.write_text(text.replace("Summary: \n", "Summary: A clearer sentence on browsing data.\n"))
    build_or_fail(tmp_path / "upcoming", content=content, day=start)
    policy_version_or_fail(content, "lock", "2027-03-01", day=start)
    out = build_or_fail(tmp_path / "out", content=content, day=dt.date(2027, 3, 1))
    versions = json.loads((out / "privacy-policy/versions.json").read_text())
    assert versions["in_force"] == "2027-03-01"
    assert versions["versions"][0]["summary"] == "A clearer sentence on browsing data."
    # No new third party or purpose, no "Reconsent:": the revision stays where it was.
    assert revision_of(out) == revision_of(site)


def test_the_make_target_starts_a_draft_publish_refuses_and_locks_it(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", "output*", "cache", ".*"))
    start = PREPARING
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch(start), "COLUMNS": "1000"}

    def run_make(*args: str) -> subprocess.CompletedProcess:
        command = ["make", "-C", str(project), *args, f"VENV={ROOT / '.venv'}"]
        return subprocess.run(command, env=env, capture_output=True, text=True)

    def make(*args: str) -> str:
        done = run_make(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    said = make("policy-version", "DATE=2027-03-01")
    assert (
        f"2027-03-01.md, a copy of {policy_days()[0]}.md" in said and "Draft, not approved" in said
    )
    # Untouched, it is a draft: published, it would announce a text nobody approved.
    refused = run_make("publish")
    said = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert f"{POLICIES}/2027-03-01.md: no Summary" in said
    assert "not locked: run `make policy-version LOCK=2027-03-01` once approved" in said
    assert not (project / "output").exists()
    summarise(project / "content" / POLICIES / "2027-03-01.md", "A clearer sentence.")
    assert "Locked 2027-03-01.md" in make("policy-version", "LOCK=2027-03-01")
    assert "2027-03-01" in (project / "content" / POLICIES / "versions.lock").read_text()
    # Locked, it is published early: the policy in force announces it.
    make("publish")
    in_force = (project / "output/privacy-policy/index.html").read_text()
    assert "A new version takes effect on 1 March 2027" in in_force
    assert "Draft" not in in_force
    build_or_fail(tmp_path / "out", content=project / "content", day=dt.date(2027, 3, 1))


def test_policy_version_refuses_a_date_in_the_past_or_a_version_in_force(tmp_path):
    content = copy_content(tmp_path / "content")
    past = policy_version_fails(content, "new", "2026-12-10")
    assert "is in the past" in past
    in_force = policy_version_fails(content, "new", "2026-12-01")
    assert "has taken effect" in in_force
    bad = policy_version_fails(content, "new", "")
    assert "DATE must be YYYY-MM-DD" in bad


def test_a_version_adding_a_provider_must_say_whether_visitors_are_asked_again(tmp_path):
    content = copy_content(tmp_path / "content")
    start = PREPARING
    policy_version_or_fail(content, "new", "2027-03-01", day=start)
    declaration = content / POLICIES / "2027-03-01.toml"
    declaration.write_text(declaration.read_text() + VIMEO)
    new = content / POLICIES / "2027-03-01.md"
    summarise(new, "Vimeo.")
    question = (
        f"{POLICIES}/2027-03-01.md: version 2027-03-01 is a draft, not approved: no Reconsent "
        "decision: it adds third party 'Vimeo'"
    )
    # Legal's open question does not stop marketing's previews: a warning.
    preview = build_output(tmp_path / "preview", content=content, day=start)
    assert question in preview and "'Reconsent: yes'" in preview
    # Publishing refuses it, and so does locking it.
    published = build_fails(tmp_path / "published", content=content, day=start, **PUBLISH)
    assert f"{POLICIES}/2027-03-01.md: no Reconsent decision" in published
    refused = policy_version_fails(content, "lock", "2027-03-01", day=start)
    assert "no Reconsent decision: it adds third party 'Vimeo'" in refused
    # A version locked with the question open (by hand) fails every build.
    lock = content / POLICIES / "versions.lock"
    digest = hashlib.sha256(new.read_bytes() + declaration.read_bytes()).hexdigest()
    lock.write_text(lock.read_text() + f"2027-03-01  {digest}  {start}\n")
    locked = build_fails(tmp_path / "locked", content=content, day=start)
    assert (
        f"{POLICIES}/2027-03-01.md: version 2027-03-01 is locked, but no Reconsent decision"
        in locked
    )
    new.write_text(new.read_text().replace("Summary: Vimeo.\n", "Summary: Vimeo.\nReconsent: no\n"))
    new.write_text(new.read_text() + "\n{provider_table}\n")
    policy_version_or_fail(content, "lock", "2027-03-01", day=start)
    out = build_or_fail(tmp_path / "decided", content=content, day=start, **PUBLISH)
    # The version lists its third parties from its own declaration.
    page = BeautifulSoup((out / "privacy-policy/2027-03-01/index.html").read_text(), "html.parser")
    rows = [[td.get_text() for td in tr("td")] for tr in page.select(".provider-table tbody tr")]
    assert ["Vimeo", "Videos and maps", "player.vimeo.com"] in [r[:3] for r in rows]


PUBLISH = {"settings_file": "publishconf.py"}  # what `make publish` builds


def draft_marks(page) -> list[str]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find("main")
    return [" ".join(m.get_text().split()) for m in soup.select(".status-draft, .notice.draft")]


def test_an_untouched_draft_is_previewed_marked_and_never_published(tmp_path):
    content = copy_content(tmp_path / "content")
    policy_version_or_fail(content, "new", "2027-03-01")
    preview = build_output(tmp_path / "preview", content=content)
    warning = (
        f"{POLICIES}/2027-03-01.md: version 2027-03-01 is a draft, not approved: no Summary: "
        "say what changed in 'Summary:'; not locked: run `make policy-version LOCK=2027-03-01` "
        "once approved"
    )
    assert warning in " ".join(preview.split())
    out = tmp_path / "preview"
    for page in ("2027-03-01/index.html", "2027-03-01/changes/index.html"):
        marks = draft_marks(out / "privacy-policy" / page)
        assert marks[0] == "Draft, not approved", page
        assert marks[1].startswith("Draft, not approved. Legal has not approved this version")
    assert draft_marks(out / "privacy-policy/index.html") == []
    assert draft_marks(out / "privacy-policy/2026-12-01/index.html") == []
    assert draft_marks(out / "privacy-policy/history/index.html") == ["Draft, not approved"]
    versions = json.loads((out / "privacy-policy/versions.json").read_text())
    assert [(v["effective"], v["draft"]) for v in versions["versions"]] == [
        ("2027-03-01", True),
        *((day, False) for day in policy_days()),
    ]
    feed = ET.parse(out / "privacy-policy/feed.atom").getroot()
    draft = feed.find(f"{ATOM}entry")
    assert "(upcoming, draft, not approved)" in draft.find(f"{ATOM}title").text
    assert draft.find(f"{ATOM}updated").text.startswith("2026-12-15")  # the day of the build

    published = build_fails(tmp_path / "published", content=content, **PUBLISH)
    said = " ".join(published.split())
    assert f"{POLICIES}/2027-03-01.md: no Summary" in said
    assert "not locked: run `make policy-version LOCK=2027-03-01` once approved" in said
    assert not (tmp_path / "published/index.html").exists()


def test_staff_previewing_a_draft_see_its_marking_in_the_browser(tmp_path, new_visitor):
    content = copy_content(tmp_path / "content")
    policy_version_or_fail(content, "new", "2027-03-01")
    served = Server(build_or_fail(tmp_path / "preview", content=content))
    try:
        visitor = new_visitor(served)
        for path in ("/privacy-policy/2027-03-01/", "/privacy-policy/2027-03-01/changes/"):
            visitor.open(path)
            page = visitor.page
            assert page.locator("main .status-draft").inner_text() == "Draft, not approved"
            assert page.get_by_role("note").filter(has_text="Legal has not approved").is_visible()
            assert axe_violations(page) == [], path
        visitor.open("/privacy-policy/")
        assert visitor.page.get_by_text("Draft, not approved").count() == 0
        assert visitor.errors == []
    finally:
        served.close()


def test_a_locked_version_is_published_early_and_dated_by_its_lock(tmp_path):
    content = copy_content(tmp_path / "content")
    lock = content / POLICIES / "versions.lock"
    before = lock.read_text()
    policy_version_or_fail(content, "new", "2027-03-01")
    summarise(content / POLICIES / "2027-03-01.md", "A clearer sentence.")
    said = policy_version_or_fail(content, "lock", "2027-03-01", day=PREPARING)
    assert "`make publish` now announces it until 2027-03-01" in said
    # Locking adds its line, with the day, and leaves every other byte as it was.
    added = lock.read_text().removeprefix(before)
    digest = hashlib.sha256(
        (content / POLICIES / "2027-03-01.md").read_bytes()
        + (content / POLICIES / "2027-03-01.toml").read_bytes()
    ).hexdigest()
    assert added == f"2027-03-01  {digest}  {PREPARING}\n"
    later = PREPARING + dt.timedelta(days=9)
    out = build_or_fail(tmp_path / "out", content=content, day=later, **PUBLISH)
    in_force = (out / "privacy-policy/index.html").read_text()
    assert "A new version takes effect on 1 March 2027" in in_force
    assert all(not draft_marks(page) for page in (out / "privacy-policy").rglob("*.html"))
    feed = ET.parse(out / "privacy-policy/feed.atom").getroot()
    upcoming = feed.find(f"{ATOM}entry")
    assert "version of 1 March 2027 (upcoming)" in upcoming.find(f"{ATOM}title").text
    # Dated by the day it was published (locked), not by its future effective day.
    assert upcoming.find(f"{ATOM}updated").text.startswith(str(PREPARING))
    assert feed.find(f"{ATOM}updated").text.startswith(str(PREPARING))
    versions = json.loads((out / "privacy-policy/versions.json").read_text())
    assert not any(v["draft"] for v in versions["versions"])


def test_a_locked_version_changed_before_its_day_is_a_draft_again(tmp_path):
    content = copy_content(tmp_path / "content")
    policy_version_or_fail(content, "new", "2027-03-01")
    new = content / POLICIES / "2027-03-01.md"
    summarise(new, "A clearer sentence.")
    policy_version_or_fail(content, "lock", "2027-03-01")
    new.write_text(new.read_text().replace("A clearer sentence.", "Clearer sentences."))
    preview = build_output(tmp_path / "preview", content=content)
    assert "changed since it was locked: run `make policy-version LOCK=2027-03-01`" in " ".join(
        preview.split()
    )
    published = build_fails(tmp_path / "published", content=content, **PUBLISH)
    assert f"{POLICIES}/2027-03-01.md: changed since it was locked" in published


def test_the_2026_version_still_asks_again(site):
    versions = json.loads((site / "privacy-policy/versions.json").read_text())
    newest = next(v for v in versions["versions"] if v["effective"] == "2026-12-01")
    assert newest["reconsent"] is True
    assert revision_of(site) == "2026-12-01"


SHAPE = {
    "schema": int,
    "document": str,
    "title": str,
    "url": str,
    "history_url": str,
    "feed_url": str,
    "in_force": str,
    "versions": list,
}
VERSION_SHAPE = {
    "effective": str,
    "until": (str, type(None)),
    "period": str,
    "status": str,
    "draft": bool,
    "url": str,
    "changes_url": (str, type(None)),
    "record_url": str,
    "summary": str,
    "reconsent": bool,
    "sha256": str,
    "translations": list,
}


def history_items(site) -> list[dict]:
    page = BeautifulSoup((site / "privacy-policy/history/index.html").read_text(), "html.parser")
    items = []
    for li in page.select("ol.versions > li"):
        changes = li.find("a", href=lambda h: h and h.endswith("/changes/"))
        items.append(
            {
                "url": li.h2.a["href"],
                "status": li.select_one(".status").get_text().lower(),
                "summary": " ".join(li.select_one(".summary").get_text().split()),
                "changes_url": changes["href"] if changes else None,
            }
        )
    return items


def test_versions_json_has_its_documented_shape_and_agrees_with_the_history(site):
    data = json.loads((site / "privacy-policy/versions.json").read_text())
    assert {key: type(value) for key, value in data.items()} == SHAPE
    for version in data["versions"]:
        assert set(version) == set(VERSION_SHAPE)
        assert all(isinstance(version[k], kind) for k, kind in VERSION_SHAPE.items()), version
        assert version["status"] in {"in force", "superseded", "upcoming"}
        dt.date.fromisoformat(version["effective"])
        record = (site / version["record_url"].lstrip("/")).read_bytes()
        assert hashlib.sha256(record).hexdigest() == version["sha256"]
        page = (site / version["url"].lstrip("/") / "index.html").read_text()
        assert version["sha256"] in page
    keys = ("url", "status", "summary", "changes_url")
    assert [{k: v[k] for k in keys} for v in data["versions"]] == [
        {k: item[k] for k in keys} for item in history_items(site)
    ]


def test_the_feed_parses_as_atom_and_lists_the_history(site):
    feed = ET.parse(site / "privacy-policy/feed.atom").getroot()
    assert feed.tag == f"{ATOM}feed"
    for element in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{element}").text
    dt.datetime.fromisoformat(feed.find(f"{ATOM}updated").text)
    # The versions' entries, in English; each translation has an entry of its own too.
    entries = [
        e
        for e in feed.findall(f"{ATOM}entry")
        if e.find(f"{ATOM}link[@rel='alternate']").get("hreflang") == "en"
    ]
    history = history_items(site)
    assert [e.find(f"{ATOM}link[@rel='alternate']").get("href") for e in entries] == [
        h["url"] for h in history
    ]
    for entry, item in zip(entries, history, strict=True):
        assert entry.find(f"{ATOM}id").text and entry.find(f"{ATOM}title").text
        dt.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
        assert item["summary"] in entry.find(f"{ATOM}summary").text
    for page in ("privacy-policy/index.html", "privacy-policy/history/index.html"):
        head = BeautifulSoup((site / page).read_text(), "html.parser").head
        link = head.find("link", rel="alternate", type="application/atom+xml")
        assert link["href"] == "/privacy-policy/feed.atom"


def test_an_upcoming_version_is_in_the_feed_with_its_date_and_summary(tmp_path):
    # Its lock line was written before the lock recorded a day: dated by its effective day.
    out = build_or_fail(tmp_path / "out", day=dt.date(2026, 11, 24))
    feed = ET.parse(out / "privacy-policy/feed.atom").getroot()
    entries = {e.find(f"{ATOM}title").text: e for e in feed.findall(f"{ATOM}entry")}
    upcoming = entries["Privacy Policy: version of 1 December 2026 (upcoming)"]
    assert upcoming.find(f"{ATOM}updated").text.startswith("2026-12-01")
    assert "Nothing else has changed" in upcoming.find(f"{ATOM}summary").text


TERMS = "Title: Terms of Use\nEffective: {day}\nSummary: {summary}\n{extra}\n{body}\n"


@pytest.fixture()
def two_documents(tmp_path):
    """The real content plus terms of use with two versions, the second upcoming on 2027-01-01."""
    content = copy_content(tmp_path / "content")
    terms = content / "policies/terms-of-use"
    terms.mkdir()
    (terms / "2025-01-01.md").write_text(
        TERMS.format(day="2025-01-01", summary="First terms.", extra="", body="Be kind.")
    )
    policy_version_or_fail(content, "lock", "2025-01-01", "--document", "terms-of-use")
    said = policy_version_or_fail(content, "new", "2027-01-01", "--document", "terms-of-use")
    assert "declaration" not in said  # only the consent document declares cookies
    new = terms / "2027-01-01.md"
    new.write_text(
        new.read_text().replace("Summary: \n", "Summary: Kinder.\n").replace("kind", "very kind")
    )
    return content


def test_a_second_document_has_its_own_pages_history_redline_feed_and_json(
    site, two_documents, tmp_path
):
    out = build_or_fail(tmp_path / "out", content=two_documents)
    in_force = (out / "terms-of-use/index.html").read_text()
    assert "Be kind." in in_force and "A new version takes effect on 1 January 2027" in in_force
    assert "Terms of use history" in (out / "terms-of-use/history/index.html").read_text()
    changes = BeautifulSoup(
        (out / "terms-of-use/2027-01-01/changes/index.html").read_text(), "html.parser"
    )
    assert "very" in " ".join(i.get_text() for i in changes.select(".redline ins"))
    data = json.loads((out / "terms-of-use/versions.json").read_text())
    assert [v["status"] for v in data["versions"]] == ["upcoming", "in force"]
    feed = ET.parse(out / "terms-of-use/feed.atom").getroot()
    assert len(feed.findall(f"{ATOM}entry")) == 2
    assert "/terms-of-use/2025-01-01/" in (out / "sitemap.xml").read_text()
    # The privacy policy still drives the banner.
    assert revision_of(out) == revision_of(site)


def test_a_second_document_is_locked_like_the_first(two_documents, tmp_path):
    old = two_documents / "policies/terms-of-use/2025-01-01.md"
    old.write_text(old.read_text().replace("Be kind.", "Be nice."))
    result = build_fails(tmp_path / "out", content=two_documents)
    assert "policies/terms-of-use/2025-01-01.md: version 2025-01-01 is locked" in result


def test_the_document_that_drives_consent_is_a_setting(two_documents, tmp_path):
    terms = two_documents / "policies/terms-of-use"
    declaration = (two_documents / POLICIES / "2026-12-01.toml").read_text()
    (terms / "2025-01-01.toml").write_text(declaration)
    first = terms / "2025-01-01.md"
    first.write_text(first.read_text().replace("Summary:", "Reconsent: yes\nSummary:"))
    (terms / "versions.lock").unlink()  # set up as if it had been locked like this
    policy_version_or_fail(two_documents, "lock", "2025-01-01", "--document", "terms-of-use")
    (terms / "2027-01-01.toml").write_text(declaration)
    settings = {"consent_document": "terms-of-use", "site_check": "warn"}  # 2027-01-01: a draft
    out = build_or_fail(tmp_path / "out", content=two_documents, POLICY_VERSIONS=settings)
    assert revision_of(out) == "2025-01-01"
    unknown = build_fails(
        tmp_path / "x", content=two_documents, POLICY_VERSIONS={"consent_document": "nope"}
    )
    assert "consent_document 'nope' is not a folder" in unknown


BAD_RECORD = {
    "declaration with an unknown key": (
        "2026-12-01.toml",
        'cookie = "x"\n',
        "2026-12-01.toml: unknown key 'cookie'",
    ),
    "declaration missing a field": (
        "2026-12-01.toml",
        '[[cookies]]\nname = "x"\n',
        "cookies[0] needs exactly the keys name, provider, purpose, duration, category",
    ),
    "declaration that is not TOML": ("2026-12-01.toml", "[[cookies\n", "2026-12-01.toml: cannot"),
    "malformed lock": (
        "versions.lock",
        "2026-12-01 abc\n",
        "line 1 is not 'YYYY-MM-DD  <sha-256>  YYYY-MM-DD'",
    ),
}


@pytest.mark.parametrize("case", BAD_RECORD)
def test_a_bad_declaration_or_lock_fails_naming_the_file(tmp_path, case):
    name, text, message = BAD_RECORD[case]
    content = copy_content(tmp_path / "content")
    (content / POLICIES / name).write_text(text)
    result = build_fails(tmp_path / "out", content=content, day=dt.date(2026, 11, 24))
    assert name in result and message in result, result
    assert not (tmp_path / "out/index.html").exists()


def test_a_deleted_locked_version_fails_the_build(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / POLICIES / "2022-12-08.md").unlink()
    (content / POLICIES / "2022-12-08.toml").unlink()
    result = build_fails(tmp_path / "out", content=content)
    assert "locked version 2022-12-08 is missing" in result
