"""Versioned privacy policy: URLs, statuses, redline, fidelity and bad input."""

import datetime as dt
import json
import re
import shutil
import tomllib

import pytest
from bs4 import BeautifulSoup
from pelican.plugins.policy_versions.model import PolicyVersion, consent_revision, long_date
from pelican.plugins.policy_versions.reading import assign_periods
from pelican.plugins.policy_versions.redline import redline

import pelicanconf
from backend.settings import Retention
from tests.conftest import (
    ROOT,
    build_fails,
    build_or_fail,
    copy_content,
    policy_days,
    policy_version_or_fail,
)

# The policy exactly as Cloud 7 published it on 8 December 2022, kept as the record.
SEED = ROOT / "tests/data/privacy-policy-2022-12-08-as-published.txt"
POLICIES = "policies/privacy-policy"
BEFORE_NEW_VERSION = dt.date(2026, 11, 24)  # 2022-12-08 in force, 2026-12-01 upcoming
AFTER_NEW_VERSION = dt.date(2026, 12, 15)


def main_of(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").find("main")


def text_of(path) -> str:
    return " ".join(main_of(path).get_text().split())


@pytest.fixture(scope="module")
def before(tmp_path_factory):
    return build_or_fail(tmp_path_factory.mktemp("before") / "out", day=BEFORE_NEW_VERSION)


def test_the_version_in_force_is_served_at_the_policy_url(site):
    current = main_of(site / "privacy-policy/index.html")
    permanent = main_of(site / "privacy-policy/2026-12-01/index.html")
    assert current == permanent
    page = (site / "privacy-policy/index.html").read_text()
    assert '<link rel="canonical" href="/privacy-policy/2026-12-01/">' in page


def test_each_version_shows_its_period_and_status(site):
    old = text_of(site / "privacy-policy/2022-12-08/index.html")
    new = text_of(site / "privacy-policy/2026-12-01/index.html")
    assert "Superseded In force from 8 December 2022 to 30 November 2026" in old
    assert "In force In force from 1 December 2026" in new


def test_a_superseded_version_links_to_the_one_in_force(site):
    notice = main_of(site / "privacy-policy/2022-12-08/index.html").find(role="note")
    assert "no longer in force" in notice.get_text()
    assert notice.find("a")["href"] == "/privacy-policy/"


def test_before_the_new_version_the_old_one_is_in_force_and_announces_it(before):
    current = text_of(before / "privacy-policy/index.html")
    assert "In force In force from 8 December 2022 to 30 November 2026" in current
    assert "A new version takes effect on 1 December 2026. See what changes." in current
    link = main_of(before / "privacy-policy/index.html").find("a", string="See what changes")
    assert link["href"] == "/privacy-policy/2026-12-01/changes/"
    upcoming = text_of(before / "privacy-policy/2026-12-01/index.html")
    assert upcoming.startswith("Privacy Policy Upcoming In force from 1 December 2026")
    assert "not in force yet" in upcoming


def test_a_new_version_starts_at_midnight_where_the_site_is(tmp_path):
    # 23:30 UTC on 30 November is already 1 December in Amsterdam (TIMEZONE in pelicanconf).
    evening = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
    out = build_or_fail(tmp_path / "out", day=evening)
    assert 'data-revision="2026-12-01"' in (out / "index.html").read_text()


def test_once_the_newest_version_is_in_force_nothing_is_announced(tmp_path):
    newest = dt.date.fromisoformat(policy_days()[0])
    out = build_or_fail(tmp_path / "out", day=newest)
    assert "takes effect on" not in text_of(out / "privacy-policy/index.html")


def test_before_the_first_version_the_build_fails(tmp_path):
    said = build_fails(tmp_path / "out", day=dt.date(2022, 12, 7))
    assert "no policy version is in force on 2022-12-07" in said
    assert not (tmp_path / "out/index.html").exists()


def test_history_lists_versions_newest_first_with_links_to_changes(site):
    history = main_of(site / "privacy-policy/history/index.html")
    items = history.select("ol.versions > li")
    hrefs = [li.h2.a["href"] for li in items]
    assert hrefs == [f"/privacy-policy/{day}/" for day in policy_days()]
    in_force = items[hrefs.index("/privacy-policy/2026-12-01/")]
    assert "In force In force from 1 December 2026" in " ".join(in_force.get_text().split())
    assert "Nothing else has changed" in in_force.get_text()
    assert in_force.find("a", href="/privacy-policy/2026-12-01/changes/")
    first = items[-1]
    assert "Superseded" in first.get_text() and "First published" in first.get_text()
    assert not first.find("a", href=re.compile("changes"))


def test_redline_marks_exactly_the_new_sections_tables_link_and_address(site):
    redline = main_of(site / "privacy-policy/2026-12-01/changes/index.html").find(class_="redline")
    deleted = [" ".join(d.get_text().split()) for d in redline.find_all("del")]
    inserted = redline.find_all("ins")
    assert deleted == ["Info@Cloud", "Info@Cloud"]
    links = [a["href"] for ins in inserted for a in ins.find_all("a")]
    assert links[0] == "https://tools.google.com/dlpage/gaoptout"
    assert links.count("mailto:privacy@cloud7.example") == 3
    assert set(links[1:]) - {"mailto:privacy@cloud7.example"} == {
        "https://policies.google.com/privacy"  # the third parties' table
    }
    blocks = [ins for ins in inserted if "block" in ins.get("class", [])]
    assert blocks[0].get_text() == "How can you change your cookie settings?"
    tables = [b for b in blocks if b.table]
    assert "cloud7_consent" in tables[0].get_text() and "YouTube" in tables[-1].get_text()
    assert "Videos and maps from other websites" in " ".join(b.get_text() for b in blocks)
    # Every other insertion lies between the first heading and the last table: new sections.
    assert all(b.find_previous_sibling() in blocks[:i] or i == 0 for i, b in enumerate(blocks))
    # Unchanged text is folded, yet all of it is there.
    assert redline.find("details", class_="unchanged").summary
    assert "Information about your rights" in redline.get_text()


def rows_of(table) -> list[tuple[str, str]]:
    """Each body row: how it is marked ("ins", "del", "" or "both"), and its first cell."""

    def marked(row) -> str:
        kinds = {mark.name for mark in row.find_all(["ins", "del"])}
        return "both" if len(kinds) > 1 else "".join(kinds)

    return [(marked(row), words(row.td)) for row in table.tbody.find_all("tr")]


def words(element) -> str:
    return " ".join(element.get_text().split())


def test_a_table_that_gained_two_rows_is_redlined_row_by_row(tmp_path):
    content = copy_content(tmp_path / "content")
    added = [
        {"name": name, "provider": "Cloud 7", "purpose": "Remembers a choice.", "duration": "1 day"}
        for name in ("cloud7_theme", "cloud7_lang")
    ]
    # The site as the newest version declares it (its consent cookie too), and two cookies more.
    declared = tomllib.loads((ROOT / "content" / POLICIES / f"{policy_days()[0]}.toml").read_text())
    [consent_cookie] = [c for c in declared["cookies"] if c["provider"] == "Cloud 7"]
    texts = pelicanconf.CONSENT["texts"]
    consent = {
        **pelicanconf.CONSENT,
        "cookies": [
            *pelicanconf.CONSENT["cookies"],
            *[{**c, "category": "necessary"} for c in added],
        ],
    }
    dutch = texts["nl"]
    described = {c["name"]: {"purpose": "Onthoudt een keuze.", "duration": "1 dag"} for c in added}
    consent["texts"] = {
        **texts,
        "en": {**texts.get("en", {}), "consent_cookie_purpose": consent_cookie["purpose"]},
        "nl": {**dutch, "cookies": {**dutch["cookies"], **described}},
    }
    policy_version_or_fail(content, "new", "2027-03-01", CONSENT=consent)
    out = build_or_fail(tmp_path / "out", content=content, CONSENT=consent)
    redlined = main_of(out / "privacy-policy/2027-03-01/changes/index.html").find(class_="redline")
    table = redlined.find("table", class_="cookie-table")
    assert not table.find_parent(["ins", "del"])  # not struck out and inserted whole
    rows = rows_of(table)
    assert sorted(name for mark, name in rows if mark == "") == sorted(
        c["name"] for c in declared["cookies"]
    )
    assert [row for row in rows if row[0]] == [("ins", "cloud7_theme"), ("ins", "cloud7_lang")]
    # Every cell of an added row is inserted; the head is unchanged.
    added_rows = [row for row in table.tbody.find_all("tr") if row.ins]
    assert all(cell.ins for row in added_rows for cell in row.find_all("td"))
    assert not table.thead.find(["ins", "del"])


def test_a_removed_row_is_struck_out_and_a_changed_cell_compared_word_by_word():
    def table(*rows: tuple[str, str]) -> str:
        body = "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows)
        head = "<thead><tr><th>Cookie</th><th>Kept for</th></tr></thead>"
        return f'<div class="table-scroll"><table>{head}<tbody>{body}</tbody></table></div>'

    old = table(("_ga", "2 years"), ("_gid", "1 day"), ("cloud7_consent", "6 months"))
    new = table(("_ga", "13 months"), ("cloud7_consent", "6 months"))
    page = BeautifulSoup(redline(old, new), "html.parser")
    assert rows_of(page.table) == [("both", "_ga"), ("del", "_gid"), ("", "cloud7_consent")]
    ga = page.table.tbody.tr
    assert " ".join(words(d) for d in ga.find_all("del")) == "2 years"
    assert " ".join(words(i) for i in ga.find_all("ins")) == "13 months"
    assert ga.td.get_text() == "_ga"


def test_the_old_version_is_the_seed_word_for_word(site):
    page = text_of(site / "privacy-policy/2022-12-08/index.html")
    lines = [" ".join(line.replace("•", "").split()) for line in SEED.read_text().splitlines()]
    missing = [line for line in lines if line and line not in page]
    assert missing == []


def test_the_new_version_takes_the_address_from_settings_and_the_table_from_its_declaration(
    tmp_path,
):
    out = build_or_fail(tmp_path / "out", CONTACT_EMAIL="dpo@cloud7.example")
    page = main_of(out / "privacy-policy/2026-12-01/index.html")
    assert page.find("a", href="mailto:dpo@cloud7.example")
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in page.table.tbody.find_all("tr")]
    declared = tomllib.loads((ROOT / "content" / POLICIES / "2026-12-01.toml").read_text())
    assert rows == [
        [c["name"], c["provider"], c["purpose"], c["duration"]] for c in declared["cookies"]
    ]
    assert "{" not in page.get_text()


def test_the_consent_revision_is_the_newest_started_version_asking_for_it():
    def version(day: str, reconsent: bool) -> PolicyVersion:
        return PolicyVersion(
            source_path=f"{day}.md",
            title="P",
            effective=dt.date.fromisoformat(day),
            summary="",
            reconsent=reconsent,
            content="",
            url="",
        )

    versions = [version("2022-12-08", False), version("2024-01-01", False)]
    assign_periods(versions, dt.date(2025, 1, 1))
    assert consent_revision(versions) == "2022-12-08"
    versions += [version("2026-12-01", True), version("2027-06-01", True)]
    assign_periods(versions, dt.date(2026, 12, 15))
    assert consent_revision(versions) == "2026-12-01"
    assert [v.status for v in versions] == ["superseded", "superseded", "in force", "upcoming"]


def test_revision_reaches_the_banner(site, before):
    assert 'data-revision="2026-12-01"' in (site / "index.html").read_text()
    assert 'data-revision="2022-12-08"' in (before / "index.html").read_text()


BAD_INPUT = {
    "missing effective date": (
        "2025-01-01.md",
        "Title: Privacy Policy\n\nText.\n",
        "missing 'Effective: YYYY-MM-DD'",
    ),
    "malformed effective date": (
        "2025-01-01.md",
        "Title: Privacy Policy\nEffective: 1 Jan 2025\n\nText.\n",
        "'Effective' must be a YYYY-MM-DD date",
    ),
    "impossible effective date": (
        "2025-02-30.md",
        "Title: Privacy Policy\nEffective: 2025-02-30\n\nText.\n",
        "'2025-02-30' is not a valid date",
    ),
    "name disagrees with metadata": (
        "2025-01-01.md",
        "Title: Privacy Policy\nEffective: 2025-01-02\n\nText.\n",
        "the file name says 2025-01-01 but 'Effective' says 2025-01-02",
    ),
    "file not named by date": (
        "latest.md",
        "Title: Privacy Policy\nEffective: 2025-01-01\n\nText.\n",
        "name the file by its effective date",
    ),
    "unknown reconsent": (
        "2025-01-01.md",
        "Title: Privacy Policy\nEffective: 2025-01-01\nReconsent: maybe\n\nText.\n",
        "'Reconsent' must be yes or no, not 'maybe'",
    ),
    "unknown placeholder": (
        "2025-01-01.md",
        "Title: Privacy Policy\nEffective: 2025-01-01\n\nMail {contact}.\n",
        "unknown placeholder {contact}",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_policy_input_fails_naming_the_file(tmp_path, case):
    name, text, message = BAD_INPUT[case]
    content = copy_content(tmp_path / "content")
    (content / POLICIES / name).write_text(text)
    output = build_fails(tmp_path / "out", content=content)
    assert f"{POLICIES}/{name}" in output and message in output, output
    assert not (tmp_path / "out/index.html").exists()


def test_two_versions_with_the_same_date_fail_naming_both(tmp_path):
    content = copy_content(tmp_path / "content")
    shutil.copy(content / POLICIES / "2022-12-08.md", content / POLICIES / "2022-12-08.markdown")
    output = build_fails(tmp_path / "out", content=content)
    assert "two versions take effect on 2022-12-08" in output
    assert "2022-12-08.md" in output and "2022-12-08.markdown" in output


def stated(days: int) -> str:
    """How the policy words a retention period of `days`."""
    return "one year" if days == 365 else f"{days:,} days"


def test_the_upcoming_versions_state_the_backends_retention_periods_and_are_announced(site):
    data = json.loads((site / "privacy-policy/versions.json").read_text())
    upcoming = [v for v in data["versions"] if v["status"] == "upcoming"]
    assert upcoming, "expected an upcoming version of the privacy policy"
    in_force = main_of(site / "privacy-policy/index.html")
    announced = {a["href"] for a in in_force.find_all("a", string="See what changes")}
    # Each kind of record the backend prunes, by the words the policy uses for it.
    retention = Retention()
    periods = {
        "callback and quotation requests": retention.requests_days,
        "copies of the e-mails we send you": retention.sent_mail_days,
        "newsletter sign-ups that you did not confirm": retention.pending_newsletter_days,
        "records of misuse of the forms": retention.misuse_days,
    }
    for version in upcoming:
        day = dt.date.fromisoformat(version["effective"])
        page = main_of(site / f"privacy-policy/{day}/index.html")
        heading = page.find(id="for-how-long-may-we-keep-your-personal-data")
        items = [" ".join(li.get_text().split()) for li in heading.find_next("ul").find_all("li")]
        for kind, days in periods.items():
            [item] = [item for item in items if item.startswith(kind)]
            assert f"for {stated(days)}" in item, (day, kind, item)
        assert f"A new version takes effect on {long_date(day)}. See what changes." in " ".join(
            in_force.get_text().split()
        )
        assert f"/privacy-policy/{day}/changes/" in announced


def test_a_site_without_its_own_commands_is_told_the_plugins_own(tmp_path):
    content = copy_content(tmp_path / "content")
    policy = content / POLICIES
    draft = (policy / "2026-12-01.md").read_text().replace("2026-12-01", "2027-06-01")
    (policy / "2027-06-01.md").write_text(draft)
    shutil.copy(policy / "2026-12-01.toml", policy / "2027-06-01.toml")
    said = build_fails(tmp_path / "out", content=content, POLICY_VERSIONS={})
    assert "not locked: run `python -m pelican.plugins.policy_versions lock 2027-06-01`" in said
    assert "make " not in said, said


def test_a_command_with_a_placeholder_other_than_day_fails_naming_the_setting(tmp_path):
    commands = {"lock": "make lock DAY={date}"}
    said = build_fails(tmp_path / "out", POLICY_VERSIONS={"commands": commands})
    assert "POLICY_VERSIONS['commands']['lock'] must be a string with no braces but {day}" in said
