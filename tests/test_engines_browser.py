"""The visitor journeys in Firefox and WebKit, the operating system's own engines, and
in Chromium.

Chromium's suite (test_consent_browser.py and the rest) is the deep one; here the
journeys of `journeys.py` run in every engine against the same built site, with
every other host unreachable and each request to one seen. An engine that is not
installed is skipped with one line saying what to install (`make engines` installs them).
"""

import json
import os
import shutil

import pytest

from cookie_audit.__main__ import main as audit_main
from cookie_audit.engines import ENGINES, launched, missing
from cookie_audit.engines.playwright import for_browser, own_build
from tests import journeys
from tests.conftest import Server

PLANTED_REQUEST = "/planted/request/"
PLANTED_COOKIE = "/planted/cookie/"
PLANTS = {
    PLANTED_REQUEST: '<img src="https://tracker.example/pixel.gif" alt="">',
    PLANTED_COOKIE: "<script>document.cookie = '_ga=GA1.1.planted; path=/; domain=.example.test';"
    "</script>",
}


@pytest.fixture(scope="module")
def planted_server(site, tmp_path_factory):
    """The built site, and beside it two copies of its home page that break the rule:
    one asks another host for a pixel, one sets an analytics cookie whatever was chosen."""
    folder = tmp_path_factory.mktemp("engines") / "site"
    shutil.copytree(site, folder)
    home = (site / "index.html").read_text(encoding="utf-8")
    for path, plant in PLANTS.items():
        page = folder / path.strip("/") / "index.html"
        page.parent.mkdir(parents=True)
        page.write_text(home.replace("</body>", f"{plant}\n</body>"), encoding="utf-8")
    served = Server(folder)
    served.folder = folder
    yield served
    served.close()


# Chromium too, through the same proxy: the journeys hold in every engine or are wrong.
# PLAYWRIGHT_ENGINES=firefox,webkit adds Playwright's own builds where a CI can download
# them (docs/engines.md).
OWN_BUILDS = [f"playwright-{name}" for name in os.environ.get("PLAYWRIGHT_ENGINES", "").split(",")]
JOURNEY_ENGINES = ["chromium", *ENGINES, *(name for name in OWN_BUILDS if name != "playwright-")]


@pytest.fixture(scope="module", params=JOURNEY_ENGINES)
def engine(request, planted_server):
    name = request.param
    if name == "chromium":
        engine = for_browser(planted_server, request.getfixturevalue("browser"))
        yield engine
        engine.close()
    elif name.startswith("playwright-"):
        playwright = request.getfixturevalue("playwright")
        with own_build(planted_server, playwright, name.removeprefix("playwright-")) as engine:
            yield engine
    else:
        if reason := missing(name):
            pytest.skip(reason)
        with launched(name, planted_server) as engine:
            yield engine


@pytest.fixture
def visitor(engine):
    with engine.visitor() as fresh:
        yield fresh


@pytest.mark.parametrize("path", ["/", "/news/", "/privacy-policy/"])
def test_a_first_visit_asks_and_sets_nothing(visitor, path):
    journeys.first_visit(visitor, path)


def test_reject_keeps_only_the_consent_cookie(visitor):
    journeys.reject(visitor)


def test_accept_loads_analytics_and_its_cookies(visitor):
    journeys.accept(visitor)


def test_withdrawal_deletes_every_analytics_cookie(visitor):
    journeys.withdrawal(visitor)


# Of these engines only Firefox sends GPC (a preference of its own); Safari has no such
# setting. Chromium's suite sends it by script.
@pytest.mark.parametrize("engine", ["firefox"], indirect=True)
def test_global_privacy_control_as_the_browser_sends_it_counts_as_reject(engine):
    with engine.visitor(gpc=True) as visitor:
        journeys.global_privacy_control(visitor)


def test_an_embed_loads_nothing_before_its_click(visitor):
    journeys.embed(visitor)


def test_the_banner_and_the_dialog_work_by_keyboard(visitor):
    journeys.keyboard(visitor)


def test_the_dutch_edition_asks_in_dutch(visitor):
    journeys.dutch(visitor)


def test_a_request_before_consent_fails_naming_the_engine_and_the_page(visitor):
    with pytest.raises(AssertionError) as failure:
        journeys.first_visit(visitor, PLANTED_REQUEST)
    message = str(failure.value)
    assert message.startswith(f"{visitor.name} on {PLANTED_REQUEST}: requests to other hosts")
    assert "https://tracker.example/pixel.gif" in message


def test_an_analytics_cookie_after_withdrawal_fails_naming_the_engine_and_the_page(visitor):
    with pytest.raises(AssertionError) as failure:
        journeys.withdrawal(visitor, next_page=PLANTED_COOKIE)
    message = str(failure.value)
    assert message.startswith(f"{visitor.name} on {PLANTED_COOKIE}: cookies after withdrawal")
    assert "_ga" in message


@pytest.mark.parametrize("name", ENGINES)
def test_the_audit_walks_the_first_visit_in_each_engine_and_names_what_it_finds(
    name, planted_server, tmp_path, capsys
):
    if reason := missing(name):
        pytest.skip(reason)
    report = tmp_path / "report"
    code = audit_main([str(planted_server.folder), "--engine", name, "--report", str(report)])
    data = json.loads((report / "report.json").read_text())
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.startswith(f"cookie audit: FAIL in {data['engine']} — ")
    assert f"Cookie audit of {planted_server.folder} in {data['engine']}" in (
        (report / "index.html").read_text()
    )
    found = {(v["rule"], v["page"], v["subject"]) for v in data["violations"]}
    assert code == 1 and data["states"] == ["no-choice"]
    assert data["engine"].startswith({"firefox": "Firefox 1", "webkit": "WebKitGTK 2"}[name])
    assert found == {
        ("third-party-request", PLANTED_REQUEST, "https://tracker.example/pixel.gif"),
        ("cookie-without-consent", PLANTED_COOKIE, "_ga"),
    }
    visited = {result["page"] for result in data["results"]}
    assert len(visited) == data["pages"] and "/news/" in visited


def test_the_audit_in_a_missing_engine_says_what_to_install(site, monkeypatch, capsys):
    monkeypatch.setenv("FIREFOX_PATH", "/nowhere/firefox")
    assert audit_main([str(site), "--engine", "firefox", "--json-only"]) == 2
    said = capsys.readouterr().err
    assert said == "cookie audit: cannot run: FIREFOX_PATH=/nowhere/firefox does not exist\n"
