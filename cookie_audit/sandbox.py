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
from typing import Any

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


def launch_options(playwright: Any) -> dict[str, Any]:
    """How the audit, the tests and the benchmarks launch Chromium (sync or async API)."""
    return {
        "executable_path": chromium_executable(playwright),
        "args": [*CHROMIUM_ARGS, f"--host-resolver-rules={HOST_RULES}"],
    }


def google_answer(url: str) -> dict[str, Any]:
    """What the stand-in Google answers: gtag.js is the stub, the rest is empty."""
    if "/gtag/js" in url:
        body = GTAG_STUB.read_text(encoding="utf-8")
        return {"status": 200, "content_type": "text/javascript", "body": body}
    return {"status": 204, "body": ""}


@asynccontextmanager
async def sandboxed_chromium() -> AsyncIterator[Browser]:
    """One headless Chromium whose only reachable host is this machine."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_options(playwright))
        try:
            yield browser
        finally:
            await browser.close()


async def stub_google(context: BrowserContext) -> None:
    """Answer every Google host from here: gtag.js is the stand-in, the rest is empty."""

    async def fake_google(route: Route) -> None:
        await route.fulfill(**google_answer(route.request.url))

    await context.route(GOOGLE, fake_google)


class _QuietHandler(SimpleHTTPRequestHandler):
    # Keep-alive: a browser reuses its connections instead of one thread per request.
    protocol_version = "HTTP/1.1"
    extra_headers: dict[str, str] = {}

    def end_headers(self) -> None:
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple) -> None:
        # A browser that navigates on drops connections mid-response; that is no error.
        logger.debug("connection from %s dropped", client_address, exc_info=True)


class SiteServer:
    """Serves a folder on a free loopback port, reached as http(s)://www.cloud7.test:<port>.

    The audit, the tests and the benchmarks all serve through it; `headers` are sent
    with every response (as a static host would from `_headers`), and `tls` serves
    HTTPS with a certificate from a throwaway CA that the browser is told to accept.
    """

    def __init__(
        self, folder: Path, headers: dict[str, str] | None = None, tls: bool = False
    ) -> None:
        handler = type("Handler", (_QuietHandler,), {"extra_headers": dict(headers or {})})
        self.httpd = _QuietServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
        self.scheme = "https" if tls else "http"
        if tls:
            import ssl

            import trustme

            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            trustme.CA().issue_cert(SITE_HOST).configure_cert(context)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.host = f"{SITE_HOST}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/", host: str = SITE_HOST) -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
