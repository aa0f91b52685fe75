"""A local server, and browsers that cannot reach any real host, with Google stubbed:
Chromium by its host rules and routes; Firefox, WebKit (and Chromium in the engine
journeys) through an ObservingProxy that answers and records every other host."""

from __future__ import annotations

import logging
import re
import ssl
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache, partial
from http import HTTPStatus
from http.client import HTTPConnection, HTTPSConnection
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from playwright.async_api import Browser, BrowserContext, Route, async_playwright

from cookie_audit.chromium import CHROMIUM_ARGS, chromium_executable

logger = logging.getLogger(__name__)

SITE_HOST = "www.example.test"
# *.example.test resolves to this machine, so parent-domain cookies are real; every
# other name fails to resolve, so nothing can reach the outside world.
HOST_RULES = "MAP *.example.test 127.0.0.1, MAP * ~NOTFOUND"
# Google's names, whatever the subdomain and country: every match of its hosts is built from it.
GOOGLE_NAMES = (
    "google",
    "google-analytics",
    "googletagmanager",
    "googleapis",
    "googleadservices",
    "googlesyndication",
    "gstatic",
    "doubleclick",
)
GOOGLE = re.compile(
    r"^https?://([a-z0-9-]+\.)*"
    rf"({'|'.join(map(re.escape, GOOGLE_NAMES))})\.[a-z]+(\.[a-z]+)?(:\d+)?/"
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


def launch_options(playwright: Any, google_port: int | None = None) -> dict[str, Any]:
    """How the audit, the tests and the benchmarks launch Chromium (sync or async API).

    With `google_port`, Google's hosts resolve to the stand-in a GoogleServer serves there,
    so that no request needs routing (see GoogleServer).
    """
    rules = HOST_RULES
    if google_port is not None:
        to_stub = [
            f"MAP {sub}{name}.* 127.0.0.1:{google_port}"
            for name in GOOGLE_NAMES
            for sub in ("", "*.")
        ]
        rules = ", ".join([*to_stub, HOST_RULES])
    return {
        "executable_path": chromium_executable(playwright),
        "args": [*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"],
    }


def google_answer(url: str, document: bool = False) -> dict[str, Any]:
    """What the stand-in Google answers: gtag.js is the stub, a document (a Maps frame)
    the stand-in player, the rest is empty."""
    if "/gtag/js" in url:
        body = GTAG_STUB.read_text(encoding="utf-8")
        return {"status": 200, "content_type": "text/javascript", "body": body}
    if document:
        return {"status": 200, "content_type": "text/html", "body": EMBED_STUB}
    return {"status": 204, "body": ""}


@asynccontextmanager
async def sandboxed_chromium() -> AsyncIterator[Browser]:
    """One headless Chromium whose only reachable host is this machine, with Google's
    hosts answered by the stand-in (contexts need `ignore_https_errors`, see GoogleServer)."""
    with GoogleServer() as google:
        async with async_playwright() as playwright:
            options = launch_options(playwright, google_port=google.port)
            browser = await playwright.chromium.launch(**options)
            try:
                yield browser
            finally:
                await browser.close()


async def stub_google(context: BrowserContext) -> None:
    """Answer every Google host from here, as `google_answer` says."""

    async def fake_google(route: Route) -> None:
        await route.fulfill(**google_answer(route.request.url, _is_document(route)))

    await context.route(GOOGLE, fake_google)


def _is_document(route: Route) -> bool:
    return route.request.resource_type == "document"


async def stub_other_hosts(context: BrowserContext, site_host: str) -> None:
    """Answer every host but the site and Google's: a player page for frames, else nothing."""

    async def fake_provider(route: Route) -> None:
        if _is_document(route):
            await route.fulfill(status=200, content_type="text/html", body=EMBED_STUB)
        else:
            await route.fulfill(status=204, body="")

    def elsewhere(url: str) -> bool:
        return "://" in url and url.split("/")[2] != site_host and not GOOGLE.match(url)

    await context.route(elsewhere, fake_provider)


class _GoogleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        document = self.headers.get("Sec-Fetch-Dest") in ("document", "iframe", "frame")
        answer = google_answer(self.path, document)
        body = answer["body"].encode()
        self.send_response(answer["status"])
        if "content_type" in answer:
            self.send_header("Content-Type", answer["content_type"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("google stand-in: " + format, *args)


class GoogleServer:
    """Google's hosts served from this machine over HTTPS, as `stub_google` answers them.

    Routing a context through Playwright pauses every request, the site's own too, and
    turns the browser's cache off: about a third of the browser's work per page visit.
    Its certificate is for no real name, so contexts opened for it ignore HTTPS errors.
    """

    def __init__(self) -> None:
        import ssl

        import trustme

        self.httpd = _QuietServer(("127.0.0.1", 0), _GoogleHandler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        trustme.CA().issue_cert(*(f"*.{name}.com" for name in GOOGLE_NAMES)).configure_cert(context)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.httpd.serve_in_background()

    def __enter__(self) -> GoogleServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def api_url(text: str) -> SplitResult:
    """The backend `--api` names: an http(s) URL whose path, if any, prefixes every /api/ path."""
    url = urlsplit(text)
    if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
        raise ValueError(f"{text!r} is not a backend URL; write it as http://127.0.0.1:8000")
    return url


# Said per connection or per hop; a relay makes its own.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}


def _relay(handler: BaseHTTPRequestHandler, upstream: HTTPConnection, path: str) -> None:
    """Send the handler's request to `upstream` as it is (method, headers, body), and the
    answer (status, headers with every Set-Cookie, body) back."""
    body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
    try:
        upstream.request(handler.command, path, body or None, headers)
        response = upstream.getresponse()
        payload = response.read()
    finally:
        upstream.close()
    handler.send_response(response.status, response.reason)
    for name, value in response.getheaders():
        if name.lower() not in _HOP_BY_HOP | {"content-length"}:
            handler.send_header(name, value)
    length = response.getheader("Content-Length") if handler.command == "HEAD" else None
    handler.send_header("Content-Length", length or str(len(payload)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(payload)


class _QuietHandler(SimpleHTTPRequestHandler):
    # Keep-alive: a browser reuses its connections instead of one thread per request.
    protocol_version = "HTTP/1.1"
    extra_headers: dict[str, str] = {}
    precompressed = False
    api: SplitResult | None = None

    def _sent_to_api(self) -> bool:
        """Whether the request was for the backend, and went there: /api/ with `api` set."""
        if self.api is None or not self.path.startswith("/api/"):
            return False
        connect = HTTPSConnection if self.api.scheme == "https" else HTTPConnection
        _relay(self, connect(self.api.netloc, timeout=30), self.api.path.rstrip("/") + self.path)
        return True

    def do_GET(self) -> None:
        if not self._sent_to_api():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._sent_to_api():
            super().do_HEAD()

    def _api_only(self) -> None:
        if not self._sent_to_api():
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _api_only

    def end_headers(self) -> None:
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def send_head(self):
        """A file's .br or .gz copy to a browser that accepts it, as nginx's brotli_static
        and gzip_static serve what `make publish` writes."""
        path = Path(self.translate_path(self.path))
        if self.precompressed and path.is_dir() and self.path.endswith("/"):
            path = path / "index.html"
        accepted = self.headers.get("Accept-Encoding", "")
        for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
            packed = path.with_name(path.name + suffix)
            if self.precompressed and encoding in accepted and packed.is_file():
                self.send_response(200)
                self.send_header("Content-Type", self.guess_type(str(path)))
                self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(packed.stat().st_size))
                self.send_header("Vary", "Accept-Encoding")
                self.end_headers()
                return packed.open("rb")
        return super().send_head()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # How often serving looks for shutdown(): the default, half a second, was a
    # quarter of a small site's audit spent stopping its two servers.
    POLL_SECONDS = 0.02

    def serve_in_background(self) -> None:
        threading.Thread(target=self.serve_forever, args=(self.POLL_SECONDS,), daemon=True).start()

    def handle_error(self, request: object, client_address: tuple) -> None:
        # A browser that navigates on drops connections mid-response; that is no error.
        logger.debug("connection from %s dropped", client_address, exc_info=True)


class SiteServer:
    """Serves a folder on a free loopback port, reached as http(s)://www.example.test:<port>.

    The audit, the tests and the benchmarks all serve through it; `headers` are sent
    with every response (as a static host would from `_headers`), `tls` serves HTTPS
    with a certificate from a throwaway CA that the browser is told to accept, and
    `precompressed` serves the `.br`/`.gz` copies `make publish` writes, and `api` (a
    backend's URL) answers every request under /api/ from that backend, as the site's own
    web server forwards them, so the browser sees one origin.
    """

    def __init__(
        self,
        folder: Path,
        headers: dict[str, str] | None = None,
        tls: bool = False,
        precompressed: bool = False,
        api: str | None = None,
    ) -> None:
        handler = type(
            "Handler",
            (_QuietHandler,),
            {
                "extra_headers": dict(headers or {}),
                "precompressed": precompressed,
                "api": api_url(api) if api else None,
            },
        )
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
        self.httpd.serve_in_background()

    def url(self, path: str = "/", host: str = SITE_HOST) -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True)
class SeenRequest:
    """A request a browser sent through the ObservingProxy to a host other than the site."""

    url: str
    method: str
    referer: str  # the page (or frame) that asked, as the browser names it; "" if it did not
    document: bool  # a page or a frame, not a script, image or beacon


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: ObservingProxy
    tunnel = ""  # "https://host" once a CONNECT has turned this connection into TLS

    def do_CONNECT(self) -> None:
        # Every HTTPS host is answered here, under a certificate for no real name: the
        # browser is told to accept it, so each request in the tunnel can be read.
        host = self.path.removesuffix(":443")
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.connection = self.proxy.tls.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb")
        self.tunnel = f"https://{host}"

    def _answer(self) -> None:
        url = self.path if "://" in self.path else self.tunnel + self.path
        if urlsplit(url).netloc == self.proxy.site.host and not self.tunnel:
            # The site's own requests go to its SiteServer, as they are.
            site = urlsplit(url)
            path = site.path + (f"?{site.query}" if site.query else "")
            _relay(self, HTTPConnection("127.0.0.1", self.proxy.site.port, timeout=30), path)
            return
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        destination = self.headers.get("Sec-Fetch-Dest")
        accept = self.headers.get("Accept", "")
        document = destination in ("document", "iframe", "frame") or (
            destination is None and accept.startswith("text/html")
        )
        self.proxy.record(SeenRequest(url, self.command, self.headers.get("Referer", ""), document))
        if GOOGLE.match(url):
            answer = google_answer(url, document)
        elif document:
            answer = {"status": 200, "content_type": "text/html", "body": EMBED_STUB}
        else:
            answer = {"status": 204, "body": ""}
        payload = answer["body"].encode()
        self.send_response(answer["status"])
        if "content_type" in answer:
            self.send_header("Content-Type", answer["content_type"])
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _answer

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("proxy: " + format, *args)


@cache
def _proxy_tls() -> ssl.SSLContext:
    """One throwaway certificate for every proxy in this process: making one takes time."""
    import trustme

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("proxy.example.test").configure_cert(context)
    return context


class ObservingProxy:
    """The way out for a browser that takes a proxy setting (Firefox, WebKit): every
    request it sends goes through here, and none leaves this machine.

    The site's host is forwarded to its SiteServer; every other host is recorded in
    `seen` and answered as the Chromium tests answer it: Google's hosts by
    `google_answer`, a page or frame elsewhere by the stand-in player, the rest by
    nothing. HTTPS is read in the clear under a throwaway certificate. One proxy per
    visitor: a request still on its way from the last visitor is never counted as the next.
    """

    def __init__(self, site: SiteServer) -> None:
        self.site = site
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self.tls = _proxy_tls()
        handler = type("Handler", (_ProxyHandler,), {"proxy": self})
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # For Chromium, whose host rules leave no address but *.example.test reachable.
        self.named_url = f"http://proxy.example.test:{self.port}"
        self.httpd.serve_in_background()

    def record(self, request: SeenRequest) -> None:
        with self._lock:
            self.seen.append(request)

    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self.seen)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ObservingProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
