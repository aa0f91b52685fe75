"""A local server and a Chromium that cannot reach any real host, with Google stubbed."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Route, async_playwright

from cookie_audit.chromium import CHROMIUM_ARGS, chromium_executable

logger = logging.getLogger(__name__)

SITE_HOST = "www.cloud7.test"
# *.cloud7.test resolves to this machine, so parent-domain cookies are real; every
# other name fails to resolve, so nothing can reach the outside world.
HOST_RULES = "MAP *.cloud7.test 127.0.0.1, MAP * ~NOTFOUND"
GOOGLE = re.compile(
    r"^https?://([a-z0-9-]+\.)*(google(-analytics|tagmanager|apis|adservices|syndication)?"
    r"|gstatic|doubleclick)\.[a-z]+(\.[a-z]+)?(:\d+)?/"
)
# A GA4 stand-in for the audit and the browser tests: honours consent mode, sets _ga
# and _ga_<ID>, sends a collect request.
GTAG_STUB = Path(__file__).resolve().parent / "google_stub.js"
# What an embed provider's player is, here: a page of its own that loads nothing, unless
# its address ends in "#set-cookie=NAME&fetch=URL" (how the tests plant a leaky player).
EMBED_STUB = """<!DOCTYPE html><title>Embedded player</title><p>A stand-in for the player.</p>
<script>
const plant = new URLSearchParams(location.hash.slice(1));
for (const name of plant.getAll("set-cookie")) {
  document.cookie = `${name}=1; Max-Age=3600; Path=/; SameSite=None; Secure`;
}
for (const url of plant.getAll("fetch")) fetch(url, {mode: "no-cors"}).catch(() => {});
</script>"""


@asynccontextmanager
async def sandboxed_chromium() -> AsyncIterator[Browser]:
    """One headless Chromium whose only reachable host is this machine."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_executable(playwright),
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules={HOST_RULES}"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def stub_google(context: BrowserContext) -> None:
    """Answer every Google host from here: gtag.js is the stand-in, the rest is empty."""
    stub = GTAG_STUB.read_text(encoding="utf-8")

    async def fake_google(route: Route) -> None:
        if "/gtag/js" in route.request.url:
            await route.fulfill(status=200, content_type="text/javascript", body=stub)
        else:
            await route.fulfill(status=204, body="")

    await context.route(GOOGLE, fake_google)


async def stub_other_hosts(context: BrowserContext, site_host: str) -> None:
    """Answer every host but the site and Google's: a player page for frames, else nothing."""

    async def fake_provider(route: Route) -> None:
        if route.request.resource_type == "document":
            await route.fulfill(status=200, content_type="text/html", body=EMBED_STUB)
        else:
            await route.fulfill(status=204, body="")

    def elsewhere(url: str) -> bool:
        return "://" in url and url.split("/")[2] != site_host and not GOOGLE.match(url)

    await context.route(elsewhere, fake_provider)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple) -> None:
        # A browser that navigates on drops connections mid-response; that is no error.
        logger.debug("connection from %s dropped", client_address, exc_info=True)


class SiteServer:
    """Serves a folder on a free loopback port, reached as http://www.cloud7.test:<port>."""

    def __init__(self, folder: Path) -> None:
        handler = partial(_QuietHandler, directory=str(folder))
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.host = f"{SITE_HOST}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
