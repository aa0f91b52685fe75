"""The cookie audit passes the real site and names every problem planted in a copy of it."""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from pelican.plugins.policy_versions.declaration import not_declared_remedy

from backend.audit import backend_for
from cookie_audit import audit as audit_module
from cookie_audit import cache as audit_cache
from cookie_audit.__main__ import main, policy_config
from cookie_audit.audit import run_audit
from cookie_audit.crawl import STATES
from cookie_audit.durations import parse_duration
from cookie_audit.inventory import DeclaredCookie, find_declared, read_declarations
from cookie_audit.kinds import SiteFiles
from cookie_audit.report import write_reports
from cookie_audit.sandbox import SiteServer
from tests.conftest import DUTCH_PAGES, ROOT, build_or_fail, copy_content
from tests.test_privacy_check import EMBED_CODE

DAY = 86400
REPORT_KEYS = {
    "schema",
    "site",
    "verdict",
    "pages",
    "engine",
    "states",
    "elapsed",
    "violations",
    "warnings",
    "cookies",
    "results",
    "embeds",
    "coverage",
    "evidence",
}
FINDING_KEYS = {"rule", "state", "page", "subject", "detail"}
RESULT_KEYS = {"state", "page", "step", "cookies", "local_storage", "session_storage", "requests"}
COOKIE_KEYS = {
    "name",
    "domain",
    "path",
    "expires",
    "lifetime",
    "secure",
    "same_site",
    "set_by",
    "source",
    "set_on",
    "writers",
}
REQUEST_KEYS = {"url", "resource_type", "frame", "after_choice"}
SUMMARY = re.compile(
    r"^cookie audit: PASS — (\d+) pages × 5 states \((\d+) visits, 0 from the cache\), "
    r"0 violations, 0 warnings, [\d.]+ s \([\d.]+ visits/s, [\d.]+ pages covered/s\)$",
    re.MULTILINE,
)

# Each problem goes into its own page of a copy of the built site.
SETS_A_COOKIE = 'document.cookie = "planted_tracker=1; max-age=86400; path=/";\n'
# A tag that listens for consent but never hears it withdrawn.
LEAKS_AFTER_WITHDRAWAL = """addEventListener("consent-banner:choice", (event) => {
  if (event.detail.analytics) {
    setInterval(() => navigator.sendBeacon(
      "https://region1.google-analytics.com/g/collect?v=2&en=leak"), 100);
  }
});
"""
UNGATED_TAG = '<script async src="https://www.googletagmanager.com/gtag/js?id=G-LEAK1"></script>'
PIXEL = '<img src="https://cdn.example.net/pixel.png" alt="">'
UNGATED_EMBED = '<iframe src="https://www.youtube-nocookie.com/embed/planted" title="x"></iframe>'
WEBINAR = "news/watch-the-recording-of-our-managed-kubernetes-webinar/index.html"
# The stand-in player behaves like a leaky one when its address says so (cookie_audit.sandbox).
LEAKY_PLAYER = "#fetch=https://tracker.example.org/beacon&set-cookie=leaky_player"
EMBED = '<iframe src="https://maps.example.net/embed" title="Map"></iframe>'
# One script on every page that misbehaves on one page only: its kind does not change,
# so only the visit in the first state, which every page gets, can catch it.
ON_ONE_PAGE = (
    'if (location.pathname === "/privacy-policy/history/") '
    'document.cookie = "page_tracker=1; max-age=86400; path=/";\n'
)


def audit_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cookie_audit", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def plant(page, before: str, snippet: str) -> None:
    html = page.read_text()
    assert before in html
    page.write_text(html.replace(before, snippet + before, 1))


@pytest.fixture(scope="module")
def clean(site, tmp_path_factory):
    """The real site audited once from the command line, with the HTML report."""
    folder = tmp_path_factory.mktemp("clean-report")
    result = audit_cli(
        str(site), "--report", str(folder), "--no-cache", "--junit", str(folder / "junit.xml")
    )
    return result, json.loads((folder / "report.json").read_text()), folder


@pytest.fixture(scope="module")
def planted(site, tmp_path_factory):
    """A copy of the built site with one problem on each of six pages, audited once."""
    output = tmp_path_factory.mktemp("planted") / "output"
    shutil.copytree(site, output)
    (output / "planted").mkdir()
    (output / "planted/set-cookie.js").write_text(SETS_A_COOKIE)
    (output / "planted/leak.js").write_text(LEAKS_AFTER_WITHDRAWAL)
    plant(output / "about/index.html", "</body>", '<script src="/planted/set-cookie.js"></script>')
    plant(output / "news/index.html", "</body>", PIXEL)
    plant(output / "newsletter/index.html", "</body>", EMBED)
    plant(output / "services/index.html", "</head>", UNGATED_TAG)
    plant(output / "index.html", "</body>", '<script src="/planted/leak.js"></script>')
    plant(output / "news/archives/index.html", "</main>", UNGATED_EMBED)
    webinar = output / WEBINAR
    webinar.write_text(
        re.sub(r'(data-src="[^"]+)"', rf'\1{LEAKY_PLAYER}"', webinar.read_text(), count=1)
    )
    # Not the first page of its kind: planting makes it a kind of its own.
    (output / "planted/archive.js").write_text(SETS_A_COOKIE.replace("planted", "archive"))
    archives = output / "news/archives/index.html"
    plant(archives, "</body>", '<script src="/planted/archive.js"></script>')
    (output / "planted/on-one-page.js").write_text(ON_ONE_PAGE)
    for page in output.rglob("*.html"):
        plant(page, "</body>", '<script src="/planted/on-one-page.js"></script>')
    contact = output / "contact/index.html"
    contact.write_text(
        re.sub(r'data-max-age="\d+"', 'data-max-age="99999999"', contact.read_text())
    )
    report = output.parent / "report"
    junit = ["--junit", str(report / "junit.xml")]
    code = main([str(output), "--report", str(report), "--json-only", "--no-cache", *junit])
    return code, json.loads((report / "report.json").read_text())


def violations(report: dict, rule: str, subject: str) -> dict[str | None, str]:
    """The pages a rule was broken on for a subject, by state."""
    return {
        v["state"]: v["page"]
        for v in report["violations"]
        if v["rule"] == rule and subject in v["subject"]
    }


def test_the_real_site_passes(clean):
    result, report, folder = clean
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["verdict"] == "pass"
    assert report["violations"] == [] and report["warnings"] == []
    match = SUMMARY.search(result.stdout)
    assert match and int(match[1]) == report["pages"] >= 29
    assert f"{match[2]}/{match[2]} visits" in result.stderr


def test_the_audit_covers_both_editions(clean):
    _, report, _ = clean
    first_state = {r["page"] for r in report["results"] if r["state"] == STATES[0]}
    assert set(DUTCH_PAGES) <= first_state
    assert set(DUTCH_PAGES) <= {page for kind in report["coverage"]["kinds"] for page in kind}


def test_the_json_report_has_the_documented_keys(clean, site):
    _, report, _ = clean
    assert set(report) == REPORT_KEYS
    assert report["schema"] == 1 and report["states"] == list(STATES)
    kinds = report["coverage"]["kinds"]
    assert sum(map(len, kinds)) == report["pages"]
    # Every page in the first state, one of each kind in the four others, three choices.
    assert len(report["results"]) == report["pages"] + len(kinds) * 4 + 3
    for result in report["results"]:
        assert set(result) == RESULT_KEYS
        assert all(set(cookie) == COOKIE_KEYS for cookie in result["cookies"])
        assert all(set(request) == REQUEST_KEYS for request in result["requests"])
    declared = {cookie["name"] for cookie in report["cookies"]["declared"]}
    observed = {cookie["name"]: cookie for cookie in report["cookies"]["observed"]}
    table = read_declarations((site / "index.html").read_text()).cookies
    assert declared == {row.name for row in table} >= {"cloud7_consent", "_ga", "_ga_*", "NID"}
    assert observed["_ga_C7SITE2026"]["declared_as"] == "_ga_*"
    assert observed["_ga"]["set_by"] == "script"
    assert observed["cloud7_consent"]["states"] == ["rejected", "accepted", "withdrawn"]


def test_the_html_report_shows_the_verdict_and_the_banner(clean):
    _, report, folder = clean
    doc = BeautifulSoup((folder / "index.html").read_text(), "html.parser")
    assert doc.h1.get_text() == "PASS"
    # The banner's evidence (tests/test_evidence.py), or why there is none.
    section = next(h for h in doc.find_all("h2") if h.get_text() == "The banner").parent
    shots = report["evidence"]["shots"] if report["evidence"] else []
    assert len(section.select("figure img")) == len(shots)
    assert shots or "No banner manifest" in section.get_text()


def section_rows(report, heading: str) -> list:
    """The table rows of the HTML report's section under a heading."""
    doc = BeautifulSoup(report.read_text(), "html.parser")
    found = next(h for h in doc.find_all("h2") if h.get_text() == heading)
    return found.find_parent("section").select("tbody tr")


def test_the_html_report_shows_the_embed_pass(clean):
    _, report, folder = clean
    rows = section_rows(folder / "index.html", "Embeds clicked")
    shown = [(row.td.code.get_text(), row("td")[1].get_text()) for row in rows]
    assert shown == [(click["page"], click["provider"]) for click in report["embeds"]]
    assert {"google-maps", "youtube"} <= {provider for _, provider in shown}
    assert all(row.select_one(".ok").get_text() == "clean" for row in rows)


def test_the_html_report_colours_agree_with_the_verdict(clean):
    _, report, folder = clean
    assert report["warnings"] == [] and report["violations"] == []
    doc = BeautifulSoup((folder / "index.html").read_text(), "html.parser")
    assert doc.select("body .warn") == [] and doc.select("body .bad") == []
    rows = section_rows(folder / "index.html", "Cookies: declared and observed")
    statuses = {row.code.get_text(): row("td")[-1] for row in rows}
    # YouTube's cookie comes from its player, which the audit stands in for: no warning.
    assert "stand-in" in statuses["YSC"].get_text() and "empty" in statuses["YSC"]["class"]
    assert statuses["_ga"]["class"] == ["rule", "ok"]


def test_a_planted_problem_fails_the_audit(planted):
    code, report = planted
    assert code == 1
    assert report["verdict"] == "fail"
    assert all(set(v) == FINDING_KEYS for v in report["violations"])


def test_a_script_setting_an_undeclared_cookie_is_named_in_every_state(planted):
    _, report = planted
    found = violations(report, "undeclared-cookie", "planted_tracker")
    assert found == dict.fromkeys(STATES, "/about/")
    detail = next(v["detail"] for v in report["violations"] if v["subject"] == "planted_tracker")
    assert "/planted/set-cookie.js" in detail


def test_an_image_from_another_host_is_named(planted):
    _, report = planted
    found = violations(report, "third-party-request", "https://cdn.example.net/pixel.png")
    assert found == dict.fromkeys(STATES, "/news/")


def test_an_iframe_from_another_host_names_the_page_that_requested_it(planted):
    _, report = planted
    found = violations(report, "third-party-request", "https://maps.example.net/embed")
    assert found == dict.fromkeys(STATES, "/newsletter/")
    details = {v["detail"] for v in report["violations"] if "maps.example" in v["subject"]}
    assert details and all(d.startswith("document requested by /newsletter/;") for d in details)


def test_an_ungated_google_tag_is_named_unless_the_visitor_accepted(planted):
    _, report = planted
    found = violations(report, "third-party-request", "gtag/js?id=G-LEAK1")
    assert found == dict.fromkeys(["no-choice", "rejected", "withdrawn", "gpc"], "/services/")


def test_a_consent_cookie_kept_longer_than_declared_is_named(planted):
    _, report = planted
    assert violations(report, "cookie-lifetime", "cloud7_consent") == {None: "/contact/"}


def test_analytics_sending_after_withdrawal_is_named(planted):
    _, report = planted
    assert violations(report, "third-party-request", "en=leak") == {"withdrawn": "/"}


def test_each_placeholder_is_clicked_and_brings_only_its_provider(clean):
    _, report, _ = clean
    clicked = {(e["page"], e["provider"]): e for e in report["embeds"]}
    assert set(clicked) == {
        ("/contact/", "google-maps"),
        ("/nl/contact/", "google-maps"),
        ("/news/watch-the-recording-of-our-managed-kubernetes-webinar/", "youtube"),
    }
    assert clicked[("/contact/", "google-maps")]["hosts"] == ["www.google.com"]


def test_an_embed_that_loads_without_a_click_is_named_in_every_state(planted):
    _, report = planted
    found = violations(report, "third-party-request", "youtube-nocookie.com/embed/planted")
    assert found == dict.fromkeys(STATES, "/news/archives/")


def test_a_player_that_contacts_an_undeclared_host_is_named(planted):
    _, report = planted
    page = "/" + WEBINAR.removesuffix("index.html")
    assert violations(report, "embed-undeclared-host", "tracker.example.org") == {"embed": page}
    found = violations(report, "embed-undeclared-cookie", "leaky_player")
    assert found in ({"embed": page}, {})  # where the browser keeps third-party cookies


def test_a_problem_on_a_page_that_is_not_first_of_its_kind_is_named_in_every_state(planted):
    _, report = planted
    found = violations(report, "undeclared-cookie", "archive_tracker")
    assert found == dict.fromkeys(STATES, "/news/archives/")


def test_a_shared_script_misbehaving_on_one_page_is_named_by_the_first_state(planted):
    _, report = planted
    found = violations(report, "undeclared-cookie", "page_tracker")
    assert found["no-choice"] == "/privacy-policy/history/"


def test_the_junit_file_has_a_case_per_page_and_state_and_a_failure_per_violation(clean, planted):
    _, report, folder = clean
    suite = ElementTree.parse(folder / "junit.xml").getroot()
    cases = report["pages"] * 6 + len(report["embeds"])  # and a case per placeholder clicked
    assert int(suite.get("tests")) == len(suite.findall("testcase")) == cases
    assert suite.get("failures") == "0" and not suite.findall(".//failure")
    _, bad = planted
    suite = ElementTree.parse(report_folder(bad)).getroot()
    failures = suite.findall(".//failure")
    assert int(suite.get("failures")) == len(failures) == len(bad["violations"])
    case = suite.find("testcase[@name='/about/ [no-choice]']")
    assert case is not None and case.find("failure").get("type") == "undeclared-cookie"


def report_folder(report: dict):
    """Where the planted fixture wrote its report."""
    from pathlib import Path

    return Path(report["site"]).parent / "report" / "junit.xml"


def diff_cli(base, head) -> subprocess.CompletedProcess:
    return audit_cli("diff", str(base), str(head))


def test_the_diff_of_a_report_with_itself_shows_nothing_new(clean):
    _, _, folder = clean
    result = diff_cli(folder, folder / "report.json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Nothing.") == 2
    assert "- Added: none" in result.stdout and "- Removed: none" in result.stdout


def test_the_diff_names_a_planted_undeclared_cookie_with_its_pages_and_states(clean, planted):
    _, _, folder = clean
    _, bad = planted
    result = diff_cli(folder, report_folder(bad).parent)
    assert result.returncode == 1
    appeared = result.stdout.split("### Appeared")[1].split("### Disappeared")[0]
    row = next(line for line in appeared.splitlines() if "`planted_tracker`" in line)
    assert row.startswith("| cookie | `planted_tracker` (undeclared) | " + ", ".join(STATES))
    assert "/about/" in row
    assert "| host | `cdn.example.net` |" in appeared
    assert "| undeclared-cookie | no-choice | /about/ | `planted_tracker` |" in result.stdout


def test_the_diff_names_a_removed_page(clean, tmp_path):
    _, report, folder = clean
    head = {**report, "results": [r for r in report["results"] if r["page"] != "/services/"]}
    (tmp_path / "report.json").write_text(json.dumps(head))
    result = diff_cli(folder, tmp_path)
    assert result.returncode == 0
    assert "- Removed: /services/" in result.stdout


def test_the_diff_cannot_run_on_what_is_not_a_report(clean, tmp_path):
    _, _, folder = clean
    (tmp_path / "report.json").write_text('{"schema": 2}')
    assert diff_cli(folder, tmp_path).returncode == 2
    missing = diff_cli(folder, tmp_path / "nowhere")
    assert missing.returncode == 2 and "cannot read" in missing.stderr


@pytest.fixture
def small_site(site, tmp_path):
    """A copy of the built site with five pages, for audits run over and over."""
    output = tmp_path / "output"
    shutil.copytree(site, output)
    keep = {"index.html", "about/index.html", "news/index.html", "privacy-policy/index.html"}
    article = "news/managed-kubernetes-is-now-generally-available/index.html"
    for page in output.rglob("*.html"):
        if page.relative_to(output).as_posix() not in keep | {article}:
            page.unlink()
    return output


def audit_twice(site, cache, change=None):
    """Audit, make a change, audit again: the second audit's fresh and reused visits."""
    first = run_audit(site, screenshots=False, cache=cache)
    assert first.passed and first.coverage.reused == 0
    if change:
        change()
    second = run_audit(site, screenshots=False, cache=cache)
    return first, second


def test_the_cache_is_reused_when_nothing_changed(small_site, tmp_path):
    first, second = audit_twice(small_site, tmp_path / "cache")
    assert second.coverage.fresh_visits == 0
    assert second.coverage.reused == len(first.visits) == len(second.visits)
    assert second.passed


def test_a_changed_page_is_visited_again(small_site, tmp_path):
    page = small_site / "about/index.html"
    _, second = audit_twice(
        small_site, tmp_path / "cache", lambda: page.write_text(page.read_text() + "<!-- -->")
    )
    # The same kind, so only its visit in the first state is redone.
    assert second.coverage.visited["no-choice"] == ["/about/"]
    assert second.coverage.fresh_visits == 1


def test_embed_clicks_are_reused_until_their_page_changes(small_site, site, tmp_path):
    shutil.copy(site / "contact/index.html", small_site / "contact/index.html")
    first, second = audit_twice(small_site, tmp_path / "cache")
    assert first.clicks and first.coverage.clicks_reused == 0
    assert second.clicks == first.clicks and second.coverage.clicks_reused == len(first.clicks)
    page = small_site / "contact/index.html"
    page.write_text(page.read_text() + "<!-- -->")
    third = run_audit(small_site, screenshots=False, cache=tmp_path / "cache")
    assert third.clicks == first.clicks and third.coverage.clicks_reused == 0


def test_a_changed_script_invalidates_every_page_that_runs_it(small_site, tmp_path):
    script = next((small_site / "consent").glob("consent.*.js"))
    _, second = audit_twice(
        small_site, tmp_path / "cache", lambda: script.write_text(script.read_text() + "\n")
    )
    assert second.coverage.reused == 0
    assert len(second.coverage.visited["no-choice"]) == len(second.pages) == 5


def test_changed_rules_invalidate_the_cache(small_site, tmp_path, monkeypatch):
    code = tmp_path / "audit-code"
    shutil.copytree(audit_cache.AUDIT_CODE, code, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(audit_cache, "AUDIT_CODE", code)
    rules = code / "rules.py"
    _, second = audit_twice(
        small_site, tmp_path / "cache", lambda: rules.write_text(rules.read_text() + "#\n")
    )
    assert second.coverage.reused == 0


def test_a_changed_inventory_invalidates_the_cache(small_site, tmp_path):
    # Only the page the choice is made on: no other page's bytes change.
    home = small_site / "index.html"
    _, second = audit_twice(
        small_site,
        tmp_path / "cache",
        lambda: home.write_text(home.read_text().replace("2 years", "25 months", 1)),
    )
    assert second.coverage.reused == 0


def test_exhaustive_visits_every_page_in_every_state(small_site):
    audit = run_audit(small_site, screenshots=False, exhaustive=True)
    assert audit.passed
    assert len(audit.visits) == 5 * len(STATES) + 3
    assert "Exhaustive" in audit.coverage.statement()


def test_the_cookie_table_names_a_script_and_a_set_cookie_response_that_both_set_a_cookie(
    small_site, tmp_path, monkeypatch
):
    # A server answering every request with Set-Cookie (as the backend answers a consent
    # receipt), and a script writing the same cookie; a write that removes one is no writer.
    (small_site / "planted").mkdir()
    (small_site / "planted/both.js").write_text(
        'document.cookie = "both_ways=1; max-age=60; path=/";\n'
    )
    (small_site / "planted/removes.js").write_text(
        'document.cookie = "both_ways=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";\n'
    )
    scripts = '<script src="/planted/removes.js"></script><script src="/planted/both.js"></script>'
    plant(small_site / "about/index.html", "</body>", scripts)
    server = audit_module.SiteServer
    monkeypatch.setattr(
        audit_module,
        "SiteServer",
        lambda folder, **options: server(
            folder, headers={"Set-Cookie": "both_ways=2; Max-Age=60; Path=/"}, **options
        ),
    )
    report = tmp_path / "report"
    write_reports(run_audit(small_site, screenshots=False), report)
    data = json.loads((report / "report.json").read_text())
    observed = next(c for c in data["cookies"]["observed"] if c["name"] == "both_ways")
    assert {"set_by": "response", "source": "/"} in observed["writers"]
    assert {"set_by": "script", "source": "/planted/both.js"} in observed["writers"]
    assert "/planted/removes.js" not in {w["source"] for w in observed["writers"]}
    row = next(
        row
        for row in section_rows(report / "index.html", "Cookies: declared and observed")
        if row.code.get_text() == "both_ways"
    )
    named = [span.get_text(" ", strip=True) for span in row("td")[1].select("span")]
    assert "Set-Cookie from /" in named and "script /planted/both.js" in named


class EchoBackend(BaseHTTPRequestHandler):
    """Keeps what it was sent; answers 418 with two cookies and the body back."""

    protocol_version = "HTTP/1.1"
    heard: list = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.heard.append((self.command, self.path, dict(self.headers), body))
        self.send_response(418)
        self.send_header("Set-Cookie", "one=1; Path=/")
        self.send_header("Set-Cookie", "two=2; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args) -> None:
        pass


def test_api_requests_go_to_the_backend_as_they_are_and_its_answer_comes_back(site):
    EchoBackend.heard.clear()
    backend = ThreadingHTTPServer(("127.0.0.1", 0), EchoBackend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{backend.server_address[1]}/prefix"
    try:
        with SiteServer(site, api=api) as server:
            client = HTTPConnection("127.0.0.1", server.port, timeout=10)
            sent = {
                "Host": server.host,
                "Cookie": "cloud7_consent=v2",
                "Origin": server.url(""),
                "Content-Type": "application/json",
            }
            client.request("POST", "/api/consent?x=1", b'{"a": 1}', sent)
            answer = client.getresponse()
            assert (answer.status, answer.read()) == (418, b'{"a": 1}')
            assert answer.headers.get_all("Set-Cookie") == ["one=1; Path=/", "two=2; Path=/"]
            client.request("GET", "/about/")  # the rest is still the built site
            assert client.getresponse().read() == (site / "about/index.html").read_bytes()
            client.close()
    finally:
        backend.shutdown()
        backend.server_close()
    [(method, path, headers, body)] = EchoBackend.heard
    assert (method, path, body) == ("POST", "/prefix/api/consent?x=1", b'{"a": 1}')
    assert {name: headers[name] for name in sent} == sent


@pytest.fixture(scope="module")
def receipts_pages(receipts_site, tmp_path_factory):
    """Five pages of receipts_site (the banner sends receipts), as small_site trims it."""
    output = tmp_path_factory.mktemp("receipts") / "output"
    shutil.copytree(receipts_site, output)
    keep = {"index.html", "about/index.html", "news/index.html", "privacy-policy/index.html"}
    for page in output.rglob("*.html"):
        if page.relative_to(output).as_posix() not in keep:
            page.unlink()
    return output


def test_with_the_backend_behind_api_the_consent_cookie_is_set_by_its_receipt_answer(
    receipts_pages, tmp_path
):
    with backend_for(receipts_pages) as api:
        audit = run_audit(receipts_pages, screenshots=False, api=api)
    assert audit.passed, audit.violations
    report = tmp_path / "report"
    write_reports(audit, report)
    data = json.loads((report / "report.json").read_text())
    consent = next(c for c in data["cookies"]["observed"] if c["name"] == "cloud7_consent")
    assert {"set_by": "response", "source": "/api/consent"} in consent["writers"]
    assert any(w["set_by"] == "script" for w in consent["writers"])
    row = next(
        row
        for row in section_rows(report / "index.html", "Cookies: declared and observed")
        if row.code.get_text() == "cloud7_consent"
    )
    named = [span.get_text(" ", strip=True) for span in row("td")[1].select("span")]
    assert "Set-Cookie from /api/consent" in named


def test_without_a_backend_a_receipt_is_refused_as_by_a_static_host(receipts_pages):
    audit = run_audit(receipts_pages, screenshots=False)
    writers = {
        (w.set_by, w.source)
        for v in audit.visits
        for c in v.cookies
        if c.name == "cloud7_consent"
        for w in c.writers
    }
    assert writers and {set_by for set_by, _ in writers} == {"script"}


def test_an_api_that_is_not_a_url_is_refused_by_name(tmp_path):
    result = audit_cli(str(tmp_path), "--api", "localhost:8000")
    assert result.returncode == 2
    assert "--api" in result.stderr and "is not a backend URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_cannot_run_without_a_site_or_a_browser(tmp_path):
    missing = audit_cli(str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"cookie audit: cannot run: no such folder: {tmp_path}/nowhere"
    assert audit_cli(str(tmp_path)).stderr.strip().endswith(f"no HTML pages in {tmp_path}")
    (tmp_path / "index.html").write_text('<script data-cookie="c" data-max-age="1"></script>')
    no_browser = audit_cli(str(tmp_path), CHROMIUM_PATH=str(tmp_path / "no-chromium"))
    assert no_browser.returncode == 2
    assert "no-chromium does not exist" in no_browser.stderr


@pytest.mark.parametrize(
    ("text", "days"),
    [("2 years", 730), ("6 months", 182.625), ("1 year 1 month", 395.4375), ("24 hours", 1)],
)
def test_durations_in_the_cookie_table_are_read(text, days):
    assert parse_duration(text) == pytest.approx(days * DAY)


@pytest.mark.parametrize("page", ["index.html", "nl/index.html"])
def test_the_consent_cookie_lives_exactly_as_long_as_its_row_reads(site, page):
    declared = read_declarations((site / page).read_text())
    row = find_declared(declared.cookies, declared.consent_cookie)
    assert row.max_age == declared.consent_max_age  # one length of a month, not two


def test_session_and_unreadable_durations():
    assert parse_duration("Session") == 0
    assert parse_duration("until you log out") is None


def test_wildcard_names_match_like_the_cookie_table_means():
    declared = DeclaredCookie("_ga_*", "Google Analytics", "", "2 years")
    assert declared.matches("_ga_C7SITE2026")
    assert not declared.matches("_ga") and not declared.matches("x_ga_1")


def test_a_script_behind_a_quote_in_an_attribute_name_makes_a_kind_of_its_own(tmp_path):
    # A quote opens a value only after "=": the browser runs this script, so it counts.
    hidden = '<p title=x b"c> <script src="/js/extra.js"></script> "d>x</p>'
    files = SiteFiles(tmp_path)
    clean = files.make_up(tmp_path / "a.html", "<p>x</p>")
    scripted = files.make_up(tmp_path / "b.html", hidden)
    assert clean.kind != scripted.kind
    assert any(item.startswith("script ") for item in scripted.items)


@pytest.fixture(scope="module")
def vimeo_site(tmp_path_factory):
    """The real site with Vimeo's embed code pasted into a page (make build previews it)."""
    root = tmp_path_factory.mktemp("vimeo")
    content = copy_content(root / "content")
    (content / "pages/demo.md").write_text(
        f"Title: Demo\nStatus: hidden\n\nOur demo.\n\n{EMBED_CODE['vimeo']}\n"
    )
    return build_or_fail(root / "out", content=content)


@pytest.mark.parametrize(
    ("settings", "code", "kind", "colour"),
    [("pelicanconf.py", 0, "warnings", "warn"), ("publishconf.py", 1, "violations", "bad")],
)
def test_a_provider_the_policy_in_force_does_not_declare_is_reported_by_name(
    vimeo_site, tmp_path, settings, code, kind, colour
):
    report = tmp_path / "report"
    args = [str(vimeo_site), "--report", str(report), "--no-cache"]
    assert main([*args, "--settings", str(ROOT / settings)]) == code
    found = json.loads((report / "report.json").read_text())[kind]
    beyond = [f for f in found if f["rule"] == "not-in-policy"]
    vimeo = next(f for f in beyond if f["subject"] == "provider 'Vimeo'")
    assert vimeo["page"] == "/demo/"
    # The build's words, with the site's own commands: one source for them.
    assert vimeo["detail"] == (
        "a third party the policy in force (/privacy-policy/2026-12-01/) does not declare; "
        + not_declared_remedy(policy_config(ROOT / settings)["commands"])
    )
    assert "`make publish` refuses it" in vimeo["detail"]
    cookies = {f["subject"]: f["detail"] for f in beyond if f is not vimeo}
    assert cookies.keys() == {"vuid", "__cf_bm"}
    assert cookies["vuid"].startswith("a cookie of Vimeo the policy in force")
    # The HTML report colours the rows as the verdict counts them.
    rows = section_rows(report / "index.html", "Cookies: declared and observed")
    row = next(row for row in rows if row.code.get_text() == "vuid")
    assert row("td")[-1]["class"] == ["rule", colour]
    assert row("td")[-1].get_text() == "not-in-policy"


def test_the_browser_check_prints_the_path_alone_for_scripts():
    said = subprocess.run(
        [sys.executable, "-m", "cookie_audit.chromium", "--path"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert said.returncode == 0, said.stderr
    path = said.stdout.strip()
    assert said.stdout == path + "\n" and os.access(path, os.X_OK)
    missing = subprocess.run(
        [sys.executable, "-m", "cookie_audit.chromium", "--path"],
        cwd=ROOT,
        env={**os.environ, "CHROMIUM_PATH": "/no/such/chromium"},
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and missing.stdout == ""
    assert "CHROMIUM_PATH=/no/such/chromium does not exist" in missing.stderr
