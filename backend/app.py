"""The ASGI application: the site's requests under `/api/`.

Starlette under uvicorn: a small, well-kept toolkit whose app is plain ASGI, so the same
object runs under `python -m backend serve`, in tests over real HTTP, and behind any
ASGI server. Database work runs in Starlette's thread pool; the mail worker is one
task of the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from backend import contact, guard, outbox, pages
from backend.settings import Settings
from backend.storage import Database, DatabaseUnavailable
from backend.words import PHONE, language, say, site_path

log = logging.getLogger("backend.app")
API_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}


class TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes before reading them all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


def form_fields(body: bytes) -> dict[str, str]:
    """The first value of each urlencoded field; undecodable bytes make it empty."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=32):
        fields.setdefault(name, value)
    return fields


def same_origin(request: Request, settings: Settings) -> bool:
    """A post from our own pages: its Origin is the site's (absent from older clients)."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    expected = settings.site_origin or f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin == expected


class Backend:
    """The application's state: settings, the database, the mail worker's wake-up call."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.wake_mail = asyncio.Event()

    def send_mail(self) -> outbox.SendResult:
        transport = outbox.transport_for(
            self.settings.smtp_url, self.settings.mail_dir, self.settings.mail_from
        )
        return outbox.send_due(
            self.db,
            transport,
            first_retry=self.settings.mail_retry_seconds,
            lease_seconds=self.settings.mail_lease_seconds,
        )

    async def mail_worker(self) -> None:
        """Send due mail whenever a request is stored, and every few seconds for retries."""
        while True:
            self.wake_mail.clear()
            try:
                result = await run_in_threadpool(self.send_mail)
                more = result.sent >= 100
            except DatabaseUnavailable:
                log.warning("mail worker: the database is unavailable; retrying")
                more = False
            except Exception:
                log.exception("mail worker: unexpected error; retrying")
                more = False
            if more:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake_mail.wait(), self.settings.mail_poll_seconds)

    # Handlers

    async def health(self, request: Request) -> Response:
        try:
            version = await run_in_threadpool(self.db.schema_version)
        except DatabaseUnavailable:
            return JSONResponse({"ok": False}, status_code=503, headers=API_HEADERS)
        return JSONResponse({"ok": True, "schema": version}, headers=API_HEADERS)

    async def form_token(self, request: Request) -> Response:
        form = request.query_params.get("form", "contact")
        token = guard.issue_token(self.settings.secret, form)
        return JSONResponse({"token": token}, headers=API_HEADERS)

    def record(self, client: str, refusal: str, parsed: contact.ContactRequest | None) -> str:
        """One transaction per post: count it for its client, then store it or its refusal.

        The refusal that stands: "rate_limit" when the client is over its limit, else the
        given one; "" when the request was stored.
        """
        settings = self.settings
        with self.db.transaction() as tx:
            if guard.over_limit(tx, client, settings.rate_limit, settings.rate_window_seconds):
                refusal = "rate_limit"
            if refusal:
                guard.count_refusal(tx, "contact", refusal)
                return refusal
            contact.store(tx, settings, parsed)
            return ""

    async def contact(self, request: Request) -> Response:
        settings = self.settings
        wants_json = request.headers.get("accept", "").startswith("application/json")
        lang = language(request.query_params.get("lang", ""))
        page_path = ""
        again: dict[str, str] | None = None

        def answer(status: int, message: str, field: str = "") -> Response:
            if wants_json:
                data = {"ok": status < 400, "message": message, "field": field}
                if again is not None:
                    data["token"] = guard.issue_token(settings.secret, "contact")
                return JSONResponse(data, status_code=status, headers=API_HEADERS)
            if status == 503:
                return HTMLResponse(pages.unavailable(lang), status, headers=API_HEADERS)
            if again is not None:
                fields = {**again, "token": guard.issue_token(settings.secret, "contact")}
                html = pages.send_again(lang, message, request.url.path, fields)
                return HTMLResponse(html, status, headers=API_HEADERS)
            back = page_path or site_path(lang, "contact/")
            return HTMLResponse(pages.refused(lang, message, back), status, headers=API_HEADERS)

        # Every check that needs no database first; then one transaction decides.
        refusal, message, field, parsed = "", "", "", None
        try:
            fields = form_fields(await read_body(request, settings.max_body_bytes))
        except TooLarge:
            fields = {}
            refusal, status, message = "too_big", 413, say(lang, "too_big")
        lang = language(fields.get("lang", lang))
        if contact.PAGE.match(fields.get("page", "")):
            page_path = fields["page"]
        if refusal:
            pass
        elif not same_origin(request, settings):
            refusal, status, message = "origin", 403, say(lang, "origin")
        elif fields.get(guard.HONEYPOT):
            refusal, status, message = "honeypot", 400, say(lang, "honeypot")
        else:
            parsed = contact.parse(fields)
            if isinstance(parsed, contact.Problem):
                refusal, status, message, field = "invalid", 400, parsed.message, parsed.field
            else:
                problem = guard.check_token(
                    settings.secret,
                    "contact",
                    fields.get("token", ""),
                    settings.form_min_seconds,
                    settings.form_max_seconds,
                )
                if problem:
                    refusal, status, message = problem, 400, say(lang, problem)
                    again = {name: fields.get(name, "") for name in ("request", "lang", "page")}
                    again |= {name: getattr(parsed, name) for name in contact.FIELDS}
        client = guard.client_key(settings.secret, request.client.host if request.client else "")
        try:
            outcome = await run_in_threadpool(self.record, client, refusal, parsed)
        except DatabaseUnavailable:
            log.warning("contact: the database is unavailable; answered 503")
            again = None
            return answer(503, say(lang, "unavailable", phone=PHONE))
        if outcome == "rate_limit":
            again = None
            return answer(429, say(lang, "too_many"))
        if outcome:
            return answer(status, message, field)
        self.wake_mail.set()
        if wants_json:
            return answer(200, say(lang, "received_title"))
        return RedirectResponse(site_path(lang, "contact-received/"), 303, headers=API_HEADERS)


def create_app(settings: Settings, db: Database | None = None) -> Starlette:
    """The backend's ASGI app; migrates the database and runs the mail worker while up."""
    db = db or Database(settings.database_url)
    backend = Backend(settings, db)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(db.migrate)
        worker = asyncio.create_task(backend.mail_worker())
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    routes = [
        Route("/api/health", backend.health),
        Route("/api/form-token", backend.form_token),
        Route("/api/contact", backend.contact, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.backend = backend
    return app
