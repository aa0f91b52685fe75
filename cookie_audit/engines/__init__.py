"""The visitor journeys' view of a browser engine, and the engines besides Chromium.

Chromium is driven by Playwright (see `cookie_audit.sandbox`). Firefox and WebKit are
the operating system's own builds, which Playwright cannot drive: Firefox over WebDriver
BiDi (`firefox`), WebKitGTK over W3C WebDriver (`webkit`). Both send every request
through an `ObservingProxy` of the visitor's own, so nothing reaches a real host and
every other host's request is seen. An `Engine` is one visitor in one of them: a fresh
cookie jar, a tab and a proxy.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from cookie_audit.crawl import FRAMES_AND_A_TASK
from cookie_audit.sandbox import SeenRequest, SiteServer

ENGINES = ("firefox", "webkit")
# Every wait is on an event; none may take longer than this.
WAIT_SECONDS = 30
# The cookie names the page can read; null where it cannot read them (about:blank).
READABLE_COOKIES = """(() => {
  try { return document.cookie ? document.cookie.split("; ").map((c) => c.split("=")[0]) : []; }
  catch (e) { return null; }
})()"""


class EngineMissing(Exception):
    """The engine is not installed here; the message says what to install."""


@dataclass(frozen=True)
class JarCookie:
    """A cookie in the browser's jar, as every engine reports it."""

    name: str
    domain: str  # ".example.test" for the parent domain, "www.example.test" for the host
    path: str
    expires: float | None  # Unix time; None for a session cookie
    secure: bool
    same_site: str


class Engine(Protocol):
    """One visitor in one engine: what the journeys do and read, whatever the engine."""

    name: str  # the engine and its version, as every failure names it
    server: SiteServer
    sends_gpc: bool  # whether this visitor's browser sends Global Privacy Control

    def goto(self, path: str) -> None:
        """Open a page of the site and wait for its load event."""

    def click(self, selector: str) -> None:
        """Click the first visible element the CSS selector finds, as a pointer would."""

    def press(self, key: str) -> None:
        """Press one key on the focused element: "Tab", "Enter", "Escape" or "Space"."""

    def evaluate(self, expression: str) -> Any:
        """A JavaScript expression's value in the page (a promise is awaited)."""

    def jar(self) -> list[JarCookie]:
        """Every cookie the browser holds for this visitor, as it stands."""

    def requests(self) -> list[SeenRequest]:
        """Every request to another host since this visitor began, in order."""


class EngineBrowser(Protocol):
    """An engine, started once, that opens a fresh visitor per journey."""

    name: str

    def visitor(self, gpc: bool = False) -> AbstractContextManager[Engine]:
        """A visitor of its own; `gpc`: one whose browser sends Global Privacy Control."""

    def close(self) -> None: ...


def settled_cookies(engine: Engine) -> list[JarCookie]:
    """The jar once it agrees with what the page's scripts last wrote.

    A script's cookie write reaches the jar asynchronously in every engine: read until
    the jar's cookies for this page are the ones the page itself can read.
    """
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        readable = engine.evaluate(READABLE_COOKIES)
        jar = engine.jar()
        if readable is None:
            return jar
        host = engine.evaluate("location.hostname")
        here = sorted(c.name for c in jar if _applies(c, host))
        if here == sorted(readable) or time.monotonic() > deadline:
            return jar
        engine.evaluate(FRAMES_AND_A_TASK)


def _applies(cookie: JarCookie, host: str) -> bool:
    domain = cookie.domain.lstrip(".")
    return host == domain or host.endswith("." + domain)


def wait_for(engine: Engine, expression: str, what: str) -> None:
    """Until the expression is true in the page."""
    wait_until(engine, lambda: engine.evaluate(expression), f"{what} ({expression})")


def wait_until(engine: Engine, condition: Callable[[], Any], what: str) -> None:
    """Until `condition()` holds; between looks the page paints two frames and runs a task."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{engine.name}: {what} never happened")
        engine.evaluate(FRAMES_AND_A_TASK)


def missing(engine: str) -> str | None:
    """Why the engine cannot run here, or None when it can."""
    try:
        _module(engine).find_programs()
    except EngineMissing as error:
        return str(error)
    return None


@contextmanager
def launched(engine: str, server: SiteServer) -> Iterator[EngineBrowser]:
    """The engine, started for the site on `server`; stopped, every process of it, after."""
    browser = _module(engine).launch(server)
    try:
        yield browser
    finally:
        browser.close()


def _module(engine: str):
    if engine == "firefox":
        from cookie_audit.engines import firefox

        return firefox
    if engine == "webkit":
        from cookie_audit.engines import webkit

        return webkit
    raise ValueError(f"no engine {engine!r}: choose one of {', '.join(ENGINES)}")
