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
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from backend import contact, guard, newsletter, outbox, pages
from backend.consent import receipts
from backend.consent.writer import ReceiptWriter
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
        self.receipts = ReceiptWriter(db, settings)

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

    def record(
        self, client: str, form: str, refusal: str, prepare: Callable, token: str = ""
    ) -> str:
        """Count a post for its client, then store it or its refusal in one transaction.

        `prepare()` does the work that needs no database and returns the function that
        stores the post in the transaction. The refusal that stands: "rate_limit" when
        the client is over its limit, "token_used" when its (checked) token admitted a
        post before, else the given one; "" when the post was stored.
        """
        settings = self.settings
        # The count comes first, in its own short transaction that does not wait for the
        # disk: one client's posts share its row, and holding that row's lock through a
        # durable commit would make them queue (losing a count in a power cut is harmless).
        with self.db.transaction(durable=False) as tx:
            if guard.over_limit(tx, client, settings.rate_limit, settings.rate_window_seconds):
                refusal = "rate_limit"
        store = None if refusal else prepare()
        with self.db.transaction() as tx:
            if store is not None and not guard.spend_token(tx, token, settings.form_max_seconds):
                refusal, store = "token_used", None
            if store is None:
                guard.count_refusal(tx, form, refusal)
                return refusal
            store(tx)
            return ""

    async def form_post(
        self, request: Request, form: str, parse: Callable, prepare: Callable, done: Callable
    ) -> Response:
        """A form's post through every misuse check; `done(lang)` is where a stored one goes.

        `prepare(settings, parsed)` returns the function that stores the post in a
        transaction (see `record`).
        """
        settings = self.settings
        wants_json = request.headers.get("accept", "").startswith("application/json")
        lang = language(request.query_params.get("lang", ""))
        page_path = ""
        again: dict[str, str] | None = None

        def answer(status: int, message: str, field: str = "") -> Response:
            if wants_json:
                data = {"ok": status < 400, "message": message, "field": field}
                if again is not None:
                    data["token"] = guard.issue_token(settings.secret, form)
                return JSONResponse(data, status_code=status, headers=API_HEADERS)
            if status == 503:
                return HTMLResponse(pages.unavailable(lang), status, headers=API_HEADERS)
            if again is not None:
                fields = {**again, "token": guard.issue_token(settings.secret, form)}
                back = page_path or site_path(lang, f"{form}/")
                html = pages.send_again(lang, message, request.url.path, fields, form, back)
                return HTMLResponse(html, status, headers=API_HEADERS)
            back = page_path or site_path(lang, f"{form}/")
            return HTMLResponse(pages.refused(lang, message, back), status, headers=API_HEADERS)

        # Every check that needs no database first; then one transaction decides.
        refusal, status, message, field, parsed = "", 200, "", "", None
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
            parsed = parse(fields)
            if isinstance(parsed, contact.Problem):
                refusal, status, message, field = "invalid", 400, parsed.message, parsed.field
            else:
                problem = guard.check_token(
                    settings.secret,
                    form,
                    fields.get("token", ""),
                    settings.form_min_seconds,
                    settings.form_max_seconds,
                )
                if problem:
                    button = say(lang, f"send_{form}")
                    refusal, status, message = problem, 400, say(lang, problem, button=button)
                    again = {n: v for n, v in fields.items() if n not in ("token", guard.HONEYPOT)}
        client = guard.client_key(settings.secret, request.client.host if request.client else "")

        def prepare_parsed() -> Callable:
            return prepare(settings, parsed)

        try:
            outcome = await run_in_threadpool(
                self.record, client, form, refusal, prepare_parsed, fields.get("token", "")
            )
        except DatabaseUnavailable:
            log.warning("%s: the database is unavailable; answered 503", form)
            again = None
            return answer(503, say(lang, "unavailable", phone=PHONE))
        if outcome == "rate_limit":
            again = None
            return answer(429, say(lang, "too_many"))
        if outcome == "token_used":  # a replay: refused like any other bad token
            again = {n: v for n, v in fields.items() if n not in ("token", guard.HONEYPOT)}
            return answer(400, say(lang, "token_bad"))
        if outcome:
            return answer(status, message, field)
        self.wake_mail.set()
        success, location = done(lang)
        if wants_json:
            return answer(200, success)
        return RedirectResponse(location, 303, headers=API_HEADERS)

    async def consent_receipt(self, request: Request) -> Response:
        """A consent receipt from consent.js; a stored one sets the consent cookie."""

        def refuse(status: int, reason: str) -> Response:
            data = {"ok": False, "recorded": True} if reason == "recorded" else {"ok": False}
            if reason != "recorded":
                data["reason"] = reason
            return JSONResponse(data, status_code=status, headers=API_HEADERS)

        try:
            body = await read_body(request, receipts.MAX_BODY)
        except TooLarge:
            return refuse(413, "too_big")
        if not same_origin(request, self.settings):
            return refuse(403, "origin")
        address = request.client.host if request.client else ""
        try:
            parsed = await self.receipts.record(
                guard.client_key(self.settings.secret, address), body
            )
        except DatabaseUnavailable:
            return refuse(503, "unavailable")
        if isinstance(parsed, receipts.Refused):
            return refuse(parsed.status, parsed.reason)
        secure = self.settings.site_origin.startswith("https:") or request.url.scheme == "https"
        cookie = (
            f"{parsed.manifest.cookie_name}={parsed.cookie}; Max-Age={parsed.max_age(time.time())}"
            f"; Path=/; SameSite=Lax{'; Secure' if secure else ''}"
        )
        return JSONResponse({"ok": True}, headers={**API_HEADERS, "Set-Cookie": cookie})

    async def contact(self, request: Request) -> Response:
        return await self.form_post(
            request,
            "contact",
            contact.parse,
            contact.prepare,
            lambda lang: (say(lang, "received_title"), site_path(lang, "contact-received/")),
        )

    async def newsletter(self, request: Request) -> Response:
        return await self.form_post(
            request,
            "newsletter",
            newsletter.parse,
            # it reads the subscriber first, so all its work is in the transaction
            lambda settings, parsed: lambda tx: newsletter.subscribe(tx, settings, parsed),
            lambda lang: (say(lang, "newsletter_sent"), f"/api/newsletter/sent?lang={lang}"),
        )

    async def newsletter_sent(self, request: Request) -> Response:
        lang = language(request.query_params.get("lang", ""))
        html = pages.notice(lang, "newsletter_sent_title", "newsletter_sent")
        return HTMLResponse(html, headers=API_HEADERS)

    async def newsletter_link(self, request: Request) -> Response:
        """A link from a mail: GET shows one button, POST does it (RFC 8058 one-click too)."""
        purpose = "confirm" if request.url.path.endswith("/confirm") else "unsubscribe"
        token = request.query_params.get("t", "")
        subscriber_id = newsletter.read_link_token(self.settings.secret, purpose, token)
        lang = language(request.query_params.get("lang", ""))
        if subscriber_id is None:
            html = pages.notice(lang, "refused_title", "link_bad")
            return HTMLResponse(html, 400, headers=API_HEADERS)
        keys = {
            "confirm": ("newsletter_confirm", "newsletter_confirmed"),
            "unsubscribe": ("newsletter_leave", "newsletter_left"),
        }[purpose]
        act = newsletter.confirm if purpose == "confirm" else newsletter.unsubscribe

        def look() -> str | None:
            with self.db.transaction() as tx:
                found = tx.query(
                    "SELECT lang FROM newsletter_subscribers WHERE id = ?", (subscriber_id,)
                )
            return found[0]["lang"] if found else None

        def do():
            with self.db.transaction() as tx:
                return act(tx, subscriber_id)

        try:
            if request.method == "GET":
                found = await run_in_threadpool(look)
                if found is None:
                    lang_done = lang
                    if purpose == "unsubscribe":  # gone already: say so, change nothing
                        html = pages.notice(lang_done, "newsletter_left_title", "newsletter_left")
                        return HTMLResponse(html, headers=API_HEADERS)
                    html = pages.notice(lang, "refused_title", "link_bad")
                    return HTMLResponse(html, 400, headers=API_HEADERS)
                html = pages.button(
                    found,
                    f"{keys[0]}_title",
                    keys[0],
                    f"{keys[0]}_button",
                    f"{request.url.path}?t={token}&lang={found}",
                )
                return HTMLResponse(html, headers=API_HEADERS)
            if purpose == "confirm" and not same_origin(request, self.settings):
                return HTMLResponse(
                    pages.refused(lang, say(lang, "origin"), site_path(lang, "newsletter/")),
                    403,
                    headers=API_HEADERS,
                )
            done_lang = await run_in_threadpool(do)
        except DatabaseUnavailable:
            return HTMLResponse(pages.unavailable(lang), 503, headers=API_HEADERS)
        if done_lang is None and purpose == "confirm":
            html = pages.notice(lang, "refused_title", "link_bad")
            return HTMLResponse(html, 400, headers=API_HEADERS)
        done_lang = done_lang or lang
        html = pages.notice(done_lang, f"{keys[1]}_title", keys[1])
        return HTMLResponse(html, headers=API_HEADERS)


def create_app(settings: Settings, db: Database | None = None) -> Starlette:
    """The backend's ASGI app; migrates the database and runs the mail worker while up."""
    db = db or Database(settings.database_url, settings.database_timeout_seconds)
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
        Route("/api/newsletter", backend.newsletter, methods=["POST"]),
        Route("/api/consent", backend.consent_receipt, methods=["POST"]),
        Route("/api/newsletter/sent", backend.newsletter_sent),
        Route("/api/newsletter/confirm", backend.newsletter_link, methods=["GET", "POST"]),
        Route("/api/newsletter/unsubscribe", backend.newsletter_link, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.backend = backend
    return app
