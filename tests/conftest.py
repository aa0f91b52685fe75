"""Shared fixtures: build the site with the real Pelican CLI, serve it, drive Chromium."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pelican.plugins.consent_banner.languages import BUILT_IN as LANGUAGES
from pelican.plugins.policy_versions.declaration import read_declaration
from pelican.settings import read_settings

from cookie_audit.crawl import FRAMES_AND_A_TASK
from cookie_audit.sandbox import (
    EMBED_STUB,
    GOOGLE,
    SITE_HOST,
    SiteServer,
    google_answer,
    launch_options,
)

ROOT = Path(__file__).resolve().parent.parent

# The backend's fixtures (postgres, smtp, database_url, served), for every test module.
pytest_plugins = ["tests.backend_parts"]

# One page of each type the site has.
PAGE_TYPES = [
    "/",
    "/services/",
    "/contact/",
    "/newsletter/",
    "/news/",
    "/news/managed-kubernetes-is-now-generally-available/",
    "/news/category/company/",
    "/news/tag/kubernetes/",
    "/news/archives/",
    "/404.html",
    "/privacy-policy/",
    "/privacy-policy/2022-12-08/",
    "/privacy-policy/history/",
    "/privacy-policy/2026-12-01/changes/",
]

# The Dutch edition: every page it translates.
DUTCH_PAGES = [
    "/nl/",
    "/nl/services/",
    "/nl/about/",
    "/nl/contact/",
    "/nl/newsletter/",
    "/nl/404.html",
]

# Builds are pinned to a day on which the 2026-12-01 policy is in force.
PINNED_DAY = dt.date(2026, 12, 15)


def epoch(day: dt.date | dt.datetime) -> str:
    """SOURCE_DATE_EPOCH for a moment, or for noon UTC on a day."""
    if not isinstance(day, dt.datetime):
        day = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
    return str(int(day.timestamp()))


def build_site(
    output: Path,
    content: Path = ROOT / "content",
    day: dt.date | dt.datetime = PINNED_DAY,
    settings_file: str = "pelicanconf.py",
    flags: tuple[str, ...] = (),
    **overrides,
) -> subprocess.CompletedProcess:
    """Run Pelican as `make build` does, with more of its flags; overrides become
    -e SETTING=JSON pairs."""
    overrides.setdefault("CACHE_PATH", str(output.parent / f"{output.name}-cache"))
    extra = [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
    command = [
        sys.executable,
        "-m",
        "pelican",
        str(content),
        "-s",
        str(ROOT / settings_file),
        "-o",
        str(output),
        "--fatal",
        "errors",
        *flags,
        "-e",
        *extra,
    ]
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch(day), "COLUMNS": "1000"}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def build_or_fail(output: Path, **kwargs) -> Path:
    build_output(output, **kwargs)
    return output


def build_output(output: Path, **kwargs) -> str:
    """What a build that must succeed printed (its warnings, its notes)."""
    result = build_site(output, **kwargs)
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    return said


def build_fails(output: Path, **kwargs) -> str:
    """What a build that must be refused printed: it exits non-zero, and says why
    without a traceback (a refusal is not a bug)."""
    result = build_site(output, **kwargs)
    said = result.stdout + result.stderr
    assert result.returncode != 0, said
    assert "Traceback" not in said, said
    return said


def policy_version(
    content: Path, *args: str, day: dt.date = PINNED_DAY, **overrides
) -> subprocess.CompletedProcess:
    """Run what `make policy-version` runs (new or lock), on a copy of the content."""
    extra = [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
    command = [
        sys.executable,
        "-m",
        "pelican.plugins.policy_versions",
        *args,
        "--content",
        str(content),
    ]
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch(day)}
    command += ["-e", *extra] if extra else []
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def policy_version_or_fail(content: Path, *args: str, **kwargs) -> str:
    result = policy_version(content, *args, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def policy_version_fails(content: Path, *args: str, **kwargs) -> str:
    """What a refused `make policy-version` printed: non-zero exit, no traceback."""
    result = policy_version(content, *args, **kwargs)
    said = result.stdout + result.stderr
    assert result.returncode != 0, said
    assert "Traceback" not in said, said
    return said


@pytest.fixture(scope="session")
def pasted_output(tmp_path_factory):
    """The real site plus a page where a marketer pasted Google's snippets."""
    root = tmp_path_factory.mktemp("pasted")
    content = copy_content(root / "content")
    (content / "pages/campaign.md").write_text(
        "Title: Campaign\nOrder: 9\n\nOur campaign.\n\n"
        '<script async src="https://www.googletagmanager.com/gtag/js?id=G-PASTED123"></script>\n'
        "<script>\n  window.dataLayer = window.dataLayer || [];\n"
        "  function gtag(){dataLayer.push(arguments);}\n"
        "  gtag('js', new Date());\n  gtag('config', 'G-PASTED123');\n</script>\n\n"
        '<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-ABC"'
        ' height="0" width="0"></iframe></noscript>\n'
    )
    return build_or_fail(root / "out", content=content)


def text(name: str, lang: str = "en", **fill: str) -> str:
    """A banner text as the build renders it (pelicanconf.py overrides none of them but the
    consent cookie's purpose, which shows only from receipts_day())."""
    words = LANGUAGES[lang][name]
    for key, value in fill.items():
        words = words.replace("{" + key + "}", value)
    return words


def revision_of(site: Path) -> str:
    """The consent revision the build gave the banner."""
    page = (site / "index.html").read_text(encoding="utf-8")
    return page.split('data-revision="', 1)[1].split('"', 1)[0]


@pytest.fixture(scope="session")
def revision(site) -> str:
    return revision_of(site)


def manifest_of(site: Path) -> dict:
    """The banner manifest the build wrote (output/consent/banner.json)."""
    return json.loads((site / "consent" / "banner.json").read_text(encoding="utf-8"))


def consent_record(site: Path, value: str) -> dict[str, str | None] | None:
    """The consent cookie's fields, read with the grammar the build copied from consent.js
    into its manifest; None for a value that is no record."""
    pattern = manifest_of(site)["cookie"]["pattern"].replace("(?<", "(?P<")
    found = re.fullmatch(pattern, value)
    return found and found.groupdict()


CONSENT_ID = "0123456789abcdef0123456789abcdef"


def consent_value(
    revision: str, analytics: str, decided: float | None = None, embeds: tuple[str, ...] = ()
) -> str:
    """A choice as consent.js stores it, its receipt recorded (no p-part): consent ID
    CONSENT_ID, the first of its choices, `decided` in Unix seconds (now by default)."""
    decided = int(time.time() if decided is None else decided)
    value = f"v2.{revision}.a{analytics}.{decided}.{CONSENT_ID}.1"
    return value + (f".e{'+'.join(embeds)}" if embeds else "")


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The real content, built once per test session."""
    return build_or_fail(tmp_path_factory.mktemp("site") / "output")


def receipts_day() -> dt.date:
    """The first day a privacy-policy version that declares consent records is in force:
    from that day the banner sends receipts."""
    folder = ROOT / "content" / "policies" / "privacy-policy"
    for path in sorted(folder.glob("*.toml")):
        if read_declaration(path, path.name).consent_records:
            return dt.date.fromisoformat(path.stem)
    raise LookupError(f"no version in {folder} declares consent records")


@pytest.fixture(scope="session")
def receipts_site(tmp_path_factory) -> Path:
    """The real content built on receipts_day(): the banner sends receipts."""
    return build_or_fail(tmp_path_factory.mktemp("receipts-site") / "output", day=receipts_day())


def copy_content(target: Path) -> Path:
    """A writable copy of the real content, for tests that plant a problem in it."""
    shutil.copytree(ROOT / "content", target)
    return target


def html_pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def headers_file(folder: Path) -> dict[str, str]:
    """The headers the built `_headers` file asks a static host to send on every page."""
    headers, block = {}, None
    for line in (folder / "_headers").read_text().splitlines():
        if not line.startswith(" "):
            block = line.strip()
        elif block == "/*":
            name, value = line.strip().split(": ", 1)
            headers[name] = value
    return headers


# One server for the audit, the tests and the benchmarks.
Server = SiteServer


@pytest.fixture(scope="session")
def server(site):
    served = Server(site)
    yield served
    served.close()


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    launched = playwright.chromium.launch(**launch_options(playwright))
    yield launched
    launched.close()


def fake_provider(route) -> None:
    if route.request.resource_type == "document":
        route.fulfill(status=200, content_type="text/html", body=EMBED_STUB)
    else:
        route.fulfill(status=204, body="")


RECEIPTS_PATH = read_settings(str(ROOT / "pelicanconf.py"))["CONSENT"]["receipts_url"]


def take_receipt(route) -> None:
    """A backend that takes every receipt and leaves the cookie as it is (it sets none).
    tests/test_receipts_browser.py answers each way the real one can."""
    route.fulfill(status=200, json={"ok": True})


# null where the page cannot read its cookies (about:blank, or a test that blocks them).
DOCUMENT_COOKIE_NAMES = """(() => {
  try { return document.cookie ? document.cookie.split("; ").map(c => c.split("=")[0]) : []; }
  catch (e) { return null; }
})()"""


class Visitor:
    """One fresh browser context: what it requested, and what went wrong in it."""

    def __init__(self, context, server: Server) -> None:
        self.context = context
        self.server = server
        self.google_requests: list[str] = []
        self.foreign_requests: list[str] = []
        self.other_host_requests: list[str] = []  # every request not to the site, Google's too
        self.failed_requests: list[str] = []
        self.errors: list[str] = []
        google = GOOGLE

        def fake_google(route) -> None:
            self.google_requests.append(route.request.url)
            document = route.request.resource_type == "document"
            route.fulfill(**google_answer(route.request.url, document))

        site = f"{SITE_HOST}:{server.port}"

        def elsewhere(url: str) -> bool:
            return "://" in url and url.split("/")[2] != site

        # Embed providers (and any other host) answer from here: a stand-in player page.
        context.route(lambda url: elsewhere(url) and not google.match(url), fake_provider)
        context.route(google, fake_google)
        if isinstance(server, Server):  # a static host: a stand-in backend takes each receipt
            context.route(f"**{RECEIPTS_PATH}", take_receipt)

        def on_request(request) -> None:
            if elsewhere(request.url):
                self.other_host_requests.append(request.url)
                if not google.match(request.url):
                    self.foreign_requests.append(request.url)

        context.on("request", on_request)
        context.on("requestfailed", lambda r: self.failed_requests.append(f"{r.url} {r.failure}"))
        self.page = context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on(
            "console",
            lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None,
        )

    def open(self, path: str = "/"):
        response = self.page.goto(self.server.url(path))
        self.page.wait_for_load_state("load")
        return response

    def banner_visible(self) -> bool:
        return self.page.locator("#cb-banner").is_visible()

    def storage(self) -> list[str]:
        """Keys in localStorage and sessionStorage."""
        return self.page.evaluate("[...Object.keys(localStorage), ...Object.keys(sessionStorage)]")

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def cookies(self) -> dict[str, dict]:
        return {c["name"]: c for c in self._settled_cookies()}

    def analytics_cookies(self) -> list[dict]:
        return [c for c in self._settled_cookies() if c["name"].startswith(("_ga", "_gid", "_gat"))]

    def _settled_cookies(self, seconds: float = 5) -> list[dict]:
        """The browser's cookie jar once it agrees with what the page's script last wrote.

        A script's cookie write reaches the jar asynchronously, so read until the jar holds
        the cookies the page sees. A jar that has not settled within `seconds` fails the
        test: a half-settled jar would let a cookie check pass or fail by chance.
        """
        deadline = time.monotonic() + seconds
        while True:
            seen = self.page.evaluate(DOCUMENT_COOKIE_NAMES)
            jar = self.context.cookies()
            if seen is None or not self.page.url.startswith("http"):
                return jar
            in_jar = sorted(c["name"] for c in self.context.cookies(self.page.url))
            if sorted(seen) == in_jar:
                return jar
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the cookie jar did not settle within {seconds} s on {self.page.url}: "
                    f"the page sees {sorted(seen)}, the jar holds {in_jar}"
                )
            self.page.wait_for_timeout(50)


@pytest.fixture
def new_visitor(browser, server):
    """Make visitors with their own context options; closed after the test."""
    contexts = []

    def make(served: Server = server, **options) -> Visitor:
        context = browser.new_context(**options)
        contexts.append(context)
        return Visitor(context, served)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def visitor(new_visitor):
    return new_visitor()


AXE_SOURCE = None


def axe_violations(page, iframes: bool = True) -> list[str]:
    """Run axe-core (from the axe-playwright-python package) on the page as it is.

    iframes=False leaves out frames from other hosts, which cannot answer axe."""
    global AXE_SOURCE
    if AXE_SOURCE is None:
        import axe_playwright_python

        AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate("o => axe.run(document, o)", {"iframes": iframes})
    return [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in result["violations"]
    ]


PASTED_TAG_CONFIGURED = (
    "(window.dataLayer || []).some(c => c[0] === 'config' && c[1] === 'G-PASTED123')"
)


# Layout shifts since the page began (an init script), and their sum once two frames
# have painted: an entry not yet handed to the observer is taken from its queue.
LAYOUT_SHIFTS = """window.shift = 0;
window.shifts = new PerformanceObserver((list) => window.addShifts(list.getEntries()));
window.addShifts = (entries) => entries.forEach((e) => {
  if (!e.hadRecentInput) window.shift += e.value;
});
window.shifts.observe({type: "layout-shift", buffered: true});"""
SHIFT_AFTER_FRAMES = (
    f"{FRAMES_AND_A_TASK}.then(() => (window.addShifts(window.shifts.takeRecords()), window.shift))"
)


def layout_shift(page) -> float:
    """The page's layout shift so far, once what is on its way has been painted."""
    return page.evaluate(SHIFT_AFTER_FRAMES)


def wait_until(page, expression: str, seconds: float = 30) -> None:
    """Poll from outside the page: wait_for_function needs 'unsafe-eval' under a CSP."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {expression}")
        page.wait_for_timeout(50)


# What has keyboard focus, by the name a person would read: a control's label or its text.
FOCUSED_NAME = """(() => {
    const el = document.activeElement;
    return ((el.labels && el.labels[0]) || el).textContent.trim();
})()"""


def tab_to(page, name: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_NAME) == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


# What scrolls sideways: each table's box (its scrolling region) wider inside than
# outside, an open dialog, and the page itself; by name, so a failure says which.
OVERFLOWING = """(() => {
  const boxes = [...document.querySelectorAll('table')].map(t => t.closest('[role=region]') || t);
  const open = [...document.querySelectorAll('dialog[open]')];
  const wide = [...boxes, ...open]
    .filter(box => box.getClientRects().length && box.scrollWidth > box.clientWidth)
    .map(box => box.getAttribute('aria-label') || box.id || box.tagName);
  if (document.documentElement.scrollWidth > innerWidth) wide.push('the page');
  return wide;
})()"""

# A policy page's table of contents: each link's text and whether its #id is a heading.
CONTENTS = """[...document.querySelectorAll('nav.policy-toc a')].map(a => {
  const target = document.getElementById(a.hash.slice(1));
  return [a.textContent.trim(), !!target && /^H[2-3]$/.test(target.tagName)];
})"""


def policy_days(document: str = "privacy-policy") -> list[str]:
    """The effective days of the document's versions in content/, newest first."""
    folder = ROOT / "content" / "policies" / document
    days = [p.stem for p in folder.glob("*.md") if re.fullmatch(r"\d{4}-\d\d-\d\d", p.stem)]
    return sorted(days, reverse=True)


# Each builds as its own wheel (its pyproject.toml), which other Pelican sites install.
WHEEL_PROJECTS = [
    ROOT / "plugins/consent_banner",
    ROOT / "plugins/policy_versions",
    ROOT / "cookie_audit",
]
# What the wheels need (Pelican and the rest), which `make`'s test set-up downloads.
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory) -> Path:
    """The python of a fresh virtual environment holding Pelican (with Markdown) and the
    wheels of consent_banner, policy_versions and cookie_audit built from this checkout,
    installed from the wheelhouse alone: no index, no other host."""
    assert WHEELHOUSE.is_dir(), f"no {WHEELHOUSE}: `make test` downloads what the wheels need"
    root = tmp_path_factory.mktemp("wheels")
    pip = [sys.executable, "-m", "pip", "--quiet"]
    offline = ["--no-index", "--find-links", str(WHEELHOUSE), "--find-links", str(root / "dist")]
    built = [*pip, "wheel", "--no-build-isolation", "--no-deps", *offline, "-w", str(root / "dist")]
    subprocess.run([*built, *map(str, WHEEL_PROJECTS)], check=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    python = root / "venv/bin/python"
    wheels = sorted(str(wheel) for wheel in (root / "dist").glob("*.whl"))
    install = [*pip, "--python", str(python), "install", *offline, "pelican[markdown]", *wheels]
    subprocess.run(install, check=True)
    return python
