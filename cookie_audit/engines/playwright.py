"""Any Playwright browser as an engine of the journeys, every request through the proxy.

The tests run the journeys in Chromium through it (the deep Chromium suite is separate),
which holds the journeys to being engine-neutral. Where a CI can download Playwright's
own Firefox and WebKit builds (`playwright install firefox webkit`), the engines
"playwright-firefox" and "playwright-webkit" run the same journeys in them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cookie_audit.engines import WAIT_SECONDS, EngineMissing, JarCookie
from cookie_audit.sandbox import ObservingProxy, SeenRequest, SiteServer

KEYS = {"Space": " "}


class PlaywrightVisitor:
    """A visitor in a browser context of its own."""

    sends_gpc = False

    def __init__(self, context: Any, name: str, proxy: ObservingProxy) -> None:
        self.context = context
        self.page = context.new_page()
        self.name = name
        self.server = proxy.site
        self.proxy = proxy

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url(path), wait_until="load")

    def click(self, selector: str) -> None:
        self.page.locator(selector).filter(visible=True).first.click()

    def press(self, key: str) -> None:
        self.page.keyboard.press(KEYS.get(key, key))

    def evaluate(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def jar(self) -> list[JarCookie]:
        return [
            JarCookie(
                name=c["name"],
                domain=c["domain"],
                path=c["path"],
                expires=c["expires"] if c["expires"] > 0 else None,
                secure=c["secure"],
                same_site=c["sameSite"],
            )
            for c in self.context.cookies()
        ]

    def requests(self) -> list[SeenRequest]:
        return self.proxy.requests()


class PlaywrightEngine:
    """A Playwright browser (launched here, or one the caller already has) for one site."""

    def __init__(self, server: SiteServer, browser: Any, name: str) -> None:
        self.server = server
        self.browser = browser
        self.name = f"{name} {browser.version}"
        self.chromium = browser.browser_type.name == "chromium"

    @contextmanager
    def visitor(self, gpc: bool = False) -> Iterator[PlaywrightVisitor]:
        if gpc:
            raise ValueError(f"{self.name} sends no Global Privacy Control of its own")
        with ObservingProxy(self.server) as proxy:
            address = proxy.named_url if self.chromium else proxy.url
            context = self.browser.new_context(proxy={"server": address}, ignore_https_errors=True)
            context.set_default_timeout(WAIT_SECONDS * 1000)
            try:
                yield PlaywrightVisitor(context, self.name, proxy)
            finally:
                context.close()

    def close(self) -> None:
        """Nothing of its own to stop: each visitor's proxy stops with the visitor."""


def for_browser(server: SiteServer, browser: Any) -> PlaywrightEngine:
    """The journeys' engine for a Playwright browser someone else launched and closes."""
    return PlaywrightEngine(server, browser, browser.browser_type.name.capitalize())


@contextmanager
def own_build(server: SiteServer, playwright: Any, browser_type: str) -> Iterator[PlaywrightEngine]:
    """Playwright's own build of "firefox" or "webkit", launched and closed here."""
    kind = getattr(playwright, browser_type)
    if not Path(kind.executable_path).exists():
        raise EngineMissing(
            f"Playwright's own {browser_type} is not downloaded: run "
            f"'.venv/bin/python -m playwright install {browser_type}'"
        )
    browser = kind.launch()
    engine = PlaywrightEngine(server, browser, f"Playwright {browser_type}")
    try:
        yield engine
    finally:
        engine.close()
        browser.close()
