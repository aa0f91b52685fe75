"""Walk the site as one visitor per consent state and record what each page leaves behind.

Each state is one browser context: it makes its choice once on the choice page, then
visits every page in turn, so cookies persist as they would for a real visitor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Frame, Page, Request, Response

from cookie_audit.sandbox import SiteServer

logger = logging.getLogger(__name__)

# After a choice the audit watches the page until its own timers of up to this many
# milliseconds have run: a page-side timer, so a slow machine delays both alike.
CHOICE_WATCH_MS = 500
# Every wait below is on an event; none may take longer than this.
EVENT_TIMEOUT_MS = 30_000
# Two frames painted and a task run: scripts that run after load have had their turn.
FRAMES_AND_A_TASK = """new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(
  () => setTimeout(done, 0))))"""
SETTLE_ROUNDS = 2
PAGE_TIMER = "(ms) => new Promise((done) => setTimeout(done, ms))"
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
# Reports every cookie a script writes, with the script that wrote it (from the stack),
# and whether the write removes it (Max-Age of 0 or less, or an Expires gone by).
COOKIE_WATCH = r"""(() => {
  const report = (name, removes = false) => {
    const frames = new Error().stack.split("\n").slice(2);
    const found = frames.map((f) => /(https?:\/\/.+):\d+:\d+\)?$/.exec(f)).find(Boolean);
    window.__cookieAuditWrite(name.trim(), location.href, found ? found[1] : "", removes);
  };
  const removes = (value) => {
    const maxAge = /;\s*max-age\s*=\s*(-?\d+)/i.exec(value);
    const expires = /;\s*expires\s*=\s*([^;]+)/i.exec(value);
    if (maxAge) return Number(maxAge[1]) <= 0;
    return Boolean(expires) && Date.parse(expires[1]) <= Date.now();
  };
  const native = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    configurable: true,
    enumerable: native.enumerable,
    get() { return native.get.call(this); },
    set(value) {
      native.set.call(this, value);
      report(String(value).split(";")[0].split("=")[0], removes(String(value)));
    },
  });
  if (window.CookieStore) {
    const set = CookieStore.prototype.set;
    CookieStore.prototype.set = function (...args) {
      report(typeof args[0] === "string" ? args[0] : String(args[0]?.name));
      return set.apply(this, args);
    };
  }
})();"""
# Storage keys, and the cookie names the page itself can read (to know when the jar agrees).
PAGE_STATE = """(() => {
  let names = [];
  try { names = document.cookie ? document.cookie.split("; ").map((c) => c.split("=")[0]) : []; }
  catch (e) {}
  return [Object.keys(localStorage), Object.keys(sessionStorage), names];
})()"""
PAGE_STATE_AFTER_FRAMES = f"{FRAMES_AND_A_TASK}.then(() => {PAGE_STATE})"
MEASUREMENT_ID = "document.querySelector('script[data-cookie]')?.dataset.measurementId || ''"
OnVisit = Callable[[], None]
# Responses whose Set-Cookie headers are always read: a page, and what its scripts asked
# the site for. A cookie no one is known to have written has every response read.
ANSWERS = {"document", "fetch", "xhr"}


@dataclass(frozen=True)
class Writer:
    """Who wrote a cookie: a script, or a Set-Cookie header of a response."""

    set_by: str  # "script" (document.cookie, cookieStore) or "response" (Set-Cookie)
    source: str  # the script or response: a path on the site, else a URL


@dataclass
class Cookie:
    """A cookie in the jar after a page, who first wrote it, and everyone who did."""

    name: str
    domain: str
    path: str
    expires: float | None  # Unix time; None for a session cookie
    lifetime: float | None  # seconds left when seen; None for a session cookie
    secure: bool
    same_site: str
    set_by: str  # "script" (document.cookie, cookieStore), "response" (Set-Cookie) or "unknown"
    source: str  # the script or response that set it: a path on the site, else a URL
    set_on: str  # the page it was set on, when known
    # Every writer of it in this state's walk, the first first: a script that writes the
    # cookie and a server that then sets it again (the backend's consent receipts) both.
    writers: list[Writer] = field(default_factory=list)


@dataclass
class ForeignRequest:
    """A request to any host but the site."""

    url: str
    resource_type: str
    frame: str
    after_choice: bool  # made after the state's (last) choice

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


@dataclass
class Visit:
    """What one page left behind in one state; step "choice" is the page the choice was made on."""

    state: str
    page: str
    step: str = "visit"
    cookies: list[Cookie] = field(default_factory=list)
    local_storage: list[str] = field(default_factory=list)
    session_storage: list[str] = field(default_factory=list)
    requests: list[ForeignRequest] = field(default_factory=list)


@dataclass
class _Origin:
    set_by: str
    source: str
    page: str
    writers: list[Writer]


# Each choice calls `deciding()` just before the click that makes it: whatever the page
# requests from then on was requested after the visitor's choice.
Deciding = Callable[[], None]


async def _reject(page: Page, deciding: Deciding) -> None:
    deciding()
    await page.locator("[data-consent-choice=reject]").click()
    await page.locator("#cb-banner [data-consent-message=reject]").wait_for()


async def _accept(page: Page, deciding: Deciding) -> None:
    deciding()
    await page.locator("[data-consent-choice=accept]").click()
    await page.locator("#cb-banner [data-consent-message=accept]").wait_for()


async def _withdraw(page: Page, deciding: Deciding) -> None:
    # Withdraw only once the accepted page's page view has been answered: one still in
    # flight would otherwise count as sent after withdrawal. A site with no measurement
    # ID sends none; one with an ID that never sends it cannot be audited (an error).
    if await page.evaluate(MEASUREMENT_ID):
        async with page.expect_request_finished(_page_view):
            await _accept(page, lambda: None)
    else:
        await _accept(page, lambda: None)
    await page.locator("[data-consent-open]").filter(visible=True).first.click()
    await page.locator("#cb-analytics").set_checked(False)
    deciding()
    await page.locator("#cb-details button[value=save]").click()
    # The dialog closes asynchronously; the confirmation says the choice is stored.
    await page.locator("#cb-banner [data-consent-message=reject]").wait_for()


def _page_view(request: Request) -> bool:
    return "/collect" in request.url and "en=page_view" in request.url


# What a state allows: nothing at all; the consent cookie, and requests to other hosts
# before the choice; or what the visitor accepted (declared cookies, storage, analytics).
NOTHING, CONSENT_COOKIE, ANALYTICS = "nothing", "the consent cookie", "analytics"


@dataclass(frozen=True)
class VisitorState:
    """One kind of visitor the audit plays: the one table every part of the audit reads."""

    name: str
    visitor: str  # as in "the visitor …"
    how: str  # how the audit plays it, for the report
    choice: Callable[[Page, Deciding], Awaitable[None]] | None  # None: nothing is clicked
    allows: str  # NOTHING, CONSENT_COOKIE or ANALYTICS


# In walking order; the first is the strictest, and every page is visited in it.
# Choices click selectors, not button names: the banner's texts are translatable settings.
VISITOR_STATES = (
    VisitorState(
        "no-choice", "has not chosen yet", "A first visit: the banner is ignored.", None, NOTHING
    ),
    VisitorState(
        "rejected",
        "rejected analytics cookies",
        "“Reject analytics cookies” on the first page, then every page.",
        _reject,
        CONSENT_COOKIE,
    ),
    VisitorState(
        "accepted",
        "accepted analytics cookies",
        "“Accept analytics cookies” on the first page, then every page.",
        _accept,
        ANALYTICS,
    ),
    VisitorState(
        "withdrawn",
        "withdrew consent",
        "Accepted, then unticked in Cookie settings and saved.",
        _withdraw,
        CONSENT_COOKIE,
    ),
    VisitorState(
        "gpc",
        "sent Global Privacy Control",
        "The browser sends Global Privacy Control; nothing is clicked.",
        None,
        NOTHING,
    ),
)
STATES = tuple(state.name for state in VISITOR_STATES)
BY_NAME = {state.name: state for state in VISITOR_STATES}
CHOICES = {state.name: state.choice for state in VISITOR_STATES if state.choice}


class StateWalk:
    """One visitor in one consent state: a browser context of its own, with one tab."""

    def __init__(self, context: BrowserContext, page: Page, server: SiteServer, state: str) -> None:
        self.context = context
        self.page = page
        self.server = server
        self.state = state
        self.after_choice = False
        self.origins: dict[str, _Origin] = {}
        self.current = Visit(state, "")
        self.responses: list[Response] = []
        self.in_flight: set[Request] = set()
        self.answered = asyncio.Event()
        page.on("request", self._on_request)
        page.on("requestfinished", self._on_request_done)
        page.on("requestfailed", self._on_request_done)
        page.on("response", self._on_response)

    @classmethod
    async def start(cls, browser: Browser, server: SiteServer, state: str) -> StateWalk:
        """A fresh context, watched before its tab opens any page; Google is the stand-in
        that `sandboxed_chromium` serves, unrouted."""
        context = await browser.new_context(ignore_https_errors=True)
        context.set_default_timeout(EVENT_TIMEOUT_MS)
        walk = cls(context, await context.new_page(), server, state)
        await context.expose_binding("__cookieAuditWrite", walk._on_script_write)
        if state == "gpc":
            await context.add_init_script(GPC_ON)
        await context.add_init_script(COOKIE_WATCH)
        return walk

    async def choose(self, path: str) -> Visit:
        """Open the choice page, make this state's choice, and record what is left after it."""
        visit = await self._open(Visit(self.state, path, step="choice"))
        await CHOICES[self.state](self.page, self._deciding)
        await self.page.evaluate(PAGE_TIMER, CHOICE_WATCH_MS)
        return await self._record(visit)

    async def visit(self, path: str) -> Visit:
        return await self._record(await self._open(Visit(self.state, path)))

    async def visit_and(self, path: str, action: Callable[[Page], Awaitable[None]]) -> Visit:
        """Open a page, act on it, and record what is left once what followed has settled."""
        visit = await self._open(Visit(self.state, path))
        await action(self.page)
        return await self._record(visit)

    def _deciding(self) -> None:
        self.after_choice = True

    async def _open(self, visit: Visit) -> Visit:
        self.current = visit
        self.responses.clear()
        # The last page's requests are recorded already; one still in flight as it unloads
        # (a keepalive beacon) may never report its end to this tab, so it is not waited for.
        self.in_flight.clear()
        await self.page.goto(self.server.url(visit.page))
        return visit

    async def _settle(self) -> list:
        """The page's storage and readable cookies, once what it asked for has been answered
        and its late scripts have run.

        Requests in flight now, then (if any) those the scripts they answered started.
        Not "until the network is idle": a page that polls is never idle.
        """
        async with asyncio.timeout(EVENT_TIMEOUT_MS / 1000):
            for _ in range(SETTLE_ROUNDS):
                waiting = set(self.in_flight)
                while waiting & self.in_flight:
                    self.answered.clear()
                    await self.answered.wait()
                state = await self.page.evaluate(PAGE_STATE_AFTER_FRAMES)
                if not self.in_flight:
                    break
        return state

    async def _record(self, visit: Visit) -> Visit:
        local, session, readable = await self._settle()
        jar = await self._settled_jar(set(readable))
        await self._read_set_cookies(jar)
        visit.local_storage, visit.session_storage = local, session
        now = time.time()
        visit.cookies = [self._cookie(raw, now) for raw in jar]
        logger.debug("%s %s: %d cookies", self.state, visit.page, len(jar))
        return visit

    async def _settled_jar(self, readable: set[str]) -> list:
        """The cookie jar once it holds every cookie the page can read.

        A script's cookie write reaches the jar asynchronously: read again until it does.
        """
        async with asyncio.timeout(EVENT_TIMEOUT_MS / 1000):
            while True:
                jar = await self.context.cookies()
                if readable <= {raw["name"] for raw in jar}:
                    return jar
                await self.page.evaluate(FRAMES_AND_A_TASK)

    async def _read_set_cookies(self, jar: list) -> None:
        """Name the responses that set cookies: the site's pages and its API's answers
        (fetch, XHR), and every response when a cookie has no writer known so far."""
        everything = not all(raw["name"] in self.origins for raw in jar)
        for response in list(self.responses):
            own = urlsplit(response.url).netloc == self.server.host
            if not everything and not (own and response.request.resource_type in ANSWERS):
                continue
            for header in await response.header_values("set-cookie"):
                name = header.split(";")[0].split("=")[0].strip()
                self._remember(name, "response", response.url, self.current.page, False)

    def _cookie(self, raw: dict, now: float) -> Cookie:
        expires = raw["expires"] if raw["expires"] > 0 else None
        return Cookie(
            name=raw["name"],
            domain=raw["domain"],
            path=raw["path"],
            expires=expires,
            lifetime=None if expires is None else expires - now,
            secure=raw["secure"],
            same_site=raw["sameSite"],
            set_by="unknown",  # filled in by attribute() once every report has arrived
            source="",
            set_on="",
        )

    def attribute(self, visits: list[Visit]) -> None:
        """Name who wrote each cookie, now that the walk is over and every report is in."""
        for visit in visits:
            for cookie in visit.cookies:
                if origin := self.origins.get(cookie.name):
                    cookie.set_by, cookie.source = origin.set_by, origin.source
                    cookie.set_on = origin.page
                    cookie.writers = list(origin.writers)

    def _remember(self, name: str, set_by: str, source: str, page: str, removes: bool) -> None:
        # The first writer created the cookie; later writes (deletions too) do not change
        # that, but each other writer that sets it is named.
        writer = Writer(set_by, self._on_site(source))
        origin = self.origins.setdefault(name, _Origin(set_by, writer.source, page, []))
        if not removes and writer not in origin.writers:
            origin.writers.append(writer)

    def _on_site(self, url: str) -> str:
        """A URL on the site as its path (the port is different every run), any other whole."""
        prefix = self.server.url("")
        return url.removeprefix(prefix) if url.startswith(prefix + "/") else url

    def _on_script_write(
        self, _source: dict, name: str, href: str, script: str, removes: bool
    ) -> None:
        self._remember(name, "script", script or href, urlsplit(href).path, removes)

    def _on_request(self, request: Request) -> None:
        self.in_flight.add(request)
        scheme, host = urlsplit(request.url)[:2]
        if scheme in ("http", "https") and host != self.server.host:
            frame = self._on_site(_requester(request).url)
            self.current.requests.append(
                ForeignRequest(request.url, request.resource_type, frame, self.after_choice)
            )

    def _on_response(self, response: Response) -> None:
        self.responses.append(response)

    def _on_request_done(self, request: Request) -> None:
        self.in_flight.discard(request)
        self.answered.set()


def _requester(request: Request) -> Frame:
    """The frame that asked: an iframe's own document is asked for by the page around it."""
    frame = request.frame
    if request.is_navigation_request() and frame.parent_frame:
        return frame.parent_frame
    return frame


async def walk_state(
    browser: Browser,
    server: SiteServer,
    state: str,
    pages: list[str],
    choice_page: str | None,
    on_visit: OnVisit,
) -> list[Visit]:
    """The pages in one state, in order, after the state's choice on `choice_page` if given."""
    walk = await StateWalk.start(browser, server, state)
    try:
        visits = []
        if choice_page:
            visits.append(await walk.choose(choice_page))
            on_visit()
        for path in pages:
            visits.append(await walk.visit(path))
            on_visit()
        walk.attribute(visits)
    finally:
        await walk.context.close()
    return visits
