"""Callback and quotation requests: the fields the privacy policy names, checked and stored.

A request and both of its mails (to customer service and to the visitor) are written in
one transaction, so either all three exist or none does.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from backend import outbox
from backend.settings import Settings
from backend.storage import Transaction, now
from backend.words import PHONE as PHONE_NUMBER
from backend.words import language, say, site_path

KINDS = ("callback", "quotation")
# Field, its limit, whether it is required. Only what the privacy policy names.
FIELDS = {
    "name": (100, True),
    "phone": (40, False),
    "email": (254, True),
    "country": (60, False),
    "message": (5000, False),
}
# ASCII only: a mail server without SMTPUTF8 cannot take any other address, and the
# outbox would retry it in vain.
EMAIL = re.compile(
    r"^[^@\s\x00-\x1f\x7f-\U0010ffff<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
)
PHONE = re.compile(r"^[0-9+()\-. /]{4,40}$")
# A path on this site: "//host/…" would be another site's address, so never two slashes first.
PAGE = re.compile(r"^/(?!/)[A-Za-z0-9/_\-.]{0,199}$")
LINE_BREAK = re.compile(r"[\r\n\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\x85]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class ContactRequest:
    kind: str
    lang: str
    page: str
    name: str
    phone: str
    email: str
    country: str
    message: str


@dataclass(frozen=True)
class Problem:
    """Why a post cannot be taken: the field (or "" for the whole form) and the words."""

    field: str
    message: str


def parse(form: dict[str, str]) -> ContactRequest | Problem:
    """A request from posted fields, or the first problem with them, in the page's language."""
    lang = language(form.get("lang", ""))
    values = {}
    for name, (limit, required) in FIELDS.items():
        value = form.get(name, "").strip()
        label = say(lang, f"field_{name}")
        if name == "message":
            value = CONTROL.sub("", value.replace("\r\n", "\n"))
        elif LINE_BREAK.search(value):  # a line break never reaches a mail header
            return Problem(name, say(lang, "invalid", field=label.capitalize()))
        if required and not value:
            return Problem(name, say(lang, "missing", field=label))
        if len(value) > limit:
            return Problem(name, say(lang, "too_long", field=label.capitalize(), limit=limit))
        values[name] = value
    if not EMAIL.match(values["email"]):
        return Problem("email", say(lang, "invalid", field=say(lang, "field_email").capitalize()))
    if values["phone"] and not PHONE.match(values["phone"]):
        return Problem("phone", say(lang, "invalid", field=say(lang, "field_phone").capitalize()))
    kind = form.get("request", "callback")
    if kind not in KINDS:
        return Problem("request", say(lang, "invalid", field=say(lang, "field_request")))
    page = form.get("page", "")
    if not PAGE.match(page):
        page = site_path(lang, "contact/")
    return ContactRequest(kind=kind, lang=lang, page=page, **values)


def email_key(address: str) -> str:
    return address.strip().lower()


def summary(request: ContactRequest) -> str:
    lines = [
        ("Request", request.kind),
        ("Name", request.name),
        ("Phone", request.phone or "-"),
        ("E-mail", request.email),
        ("Country", request.country or "-"),
    ]
    text = "\n".join(f"{label}: {value}" for label, value in lines)
    return text + "\n\n" + (request.message or "(no message)")


def store(tx: Transaction, settings: Settings, request: ContactRequest) -> str:
    """Store a request with its two mails in the caller's transaction; its id."""
    return prepare(settings, request)(tx)


def prepare(settings: Settings, request: ContactRequest) -> Callable[[Transaction], str]:
    """Render a request's two mails now; the function that stores it all in a transaction.

    The rendering needs no database, so it is done before the transaction takes the
    write lock.
    """
    request_id = secrets.token_hex(12)
    key = email_key(request.email)
    lang = request.lang
    kind_words = say(lang, request.kind)
    notify = outbox.Mail(
        kind="contact-notify",
        to=settings.notify_to,
        subject=say("en", "notify_subject", kind=request.kind.capitalize(), name=request.name),
        body=(
            f"A {request.kind} request from the website.\n\n"
            f"Language: {lang}\nPage: {request.page}\nRequest id: {request_id}\n\n"
            f"{summary(request)}\n"
        ),
        email_key=key,
        reply_to=request.email,
    )
    policy = (settings.site_url or "") + site_path(lang, "privacy-policy/")
    confirm = outbox.Mail(
        kind="contact-confirm",
        to=request.email,
        subject=say(lang, "confirm_subject"),
        body=say(
            lang,
            "confirm_body",
            name=request.name,
            kind=kind_words,
            summary=summary(request),
            policy=policy,
            phone=PHONE_NUMBER,
        ),
        email_key=key,
    )
    mails = [outbox.prepare(mail, settings.mail_from) for mail in (notify, confirm)]

    def write(tx: Transaction) -> str:
        tx.execute(
            "INSERT INTO contact_requests (id, received_at, kind, lang, page, name, phone,"
            " email, email_key, country, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request_id,
                now(),
                request.kind,
                lang,
                request.page,
                request.name,
                request.phone,
                request.email,
                key,
                request.country,
                request.message,
            ),
        )
        for mail in mails:
            outbox.write(tx, mail)
        return request_id

    return write
