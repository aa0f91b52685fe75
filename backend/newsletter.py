"""The newsletter: double opt-in, proof of it, one-click unsubscribe, and the export.

Sending the newsletter is the e-mail platform's job; the backend keeps who asked and
confirmed, and hands the confirmed addresses over (`python -m backend newsletter export`)
with each one's unsubscribe link for the platform's List-Unsubscribe header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from backend import outbox
from backend.contact import EMAIL, LINE_BREAK, PAGE, Problem, email_key
from backend.settings import Settings
from backend.storage import Transaction, now
from backend.words import consent_text, language, say, site_path

CONFIRM_DAYS = 7  # a confirmation link works this long


@dataclass(frozen=True)
class Subscription:
    email: str
    name: str
    lang: str
    page: str
    asked_text: str


def parse(form: dict[str, str]) -> Subscription | Problem:
    lang = language(form.get("lang", ""))
    address = form.get("email", "").strip()
    name = form.get("name", "").strip()
    if not address:
        return Problem("email", say(lang, "missing", field=say(lang, "field_email")))
    if LINE_BREAK.search(address) or len(address) > 254 or not EMAIL.match(address):
        return Problem("email", say(lang, "invalid", field=say(lang, "field_email").capitalize()))
    if LINE_BREAK.search(name):
        return Problem("name", say(lang, "invalid", field=say(lang, "field_name").capitalize()))
    if len(name) > 100:
        return Problem(
            "name", say(lang, "too_long", field=say(lang, "field_name").capitalize(), limit=100)
        )
    page = form.get("page", "")
    return Subscription(
        email=address,
        name=name,
        lang=lang,
        page=page if PAGE.match(page) else site_path(lang, "newsletter/"),
        asked_text=consent_text(lang),  # the server's words, never a posted text
    )


def unsubscribed_hash(address: str) -> str:
    return hashlib.sha256(email_key(address).encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def link_token(secret: bytes, purpose: str, subscriber_id: str, days: float | None) -> str:
    """A signed link token: which subscriber, for what, until when (None: no end)."""
    until = "" if days is None else str(int(time.time() + days * 86400))
    payload = f"{purpose}|{subscriber_id}|{until}"
    signature = hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:16]
    return _b64(payload.encode()) + "." + _b64(signature)


def read_link_token(secret: bytes, purpose: str, token: str) -> str | None:
    """The subscriber id of a good token for `purpose`, else None (forged, expired)."""
    try:
        payload_text, signature_text = token.split(".")
        payload = base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4))
        signature = base64.urlsafe_b64decode(signature_text + "=" * (-len(signature_text) % 4))
        kind, subscriber_id, until = payload.decode().split("|")
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(signature, expected) or kind != purpose:
        return None
    if until and int(until) < time.time():
        return None
    return subscriber_id


def links(settings: Settings, subscriber_id: str, lang: str) -> dict[str, str]:
    """The confirmation and unsubscribe links; `lang` words the pages they open."""
    base = settings.site_url
    confirm = link_token(settings.secret, "confirm", subscriber_id, CONFIRM_DAYS)
    leave = link_token(settings.secret, "unsubscribe", subscriber_id, None)
    return {
        "confirm": f"{base}/api/newsletter/confirm?t={confirm}&lang={lang}",
        "unsubscribe": f"{base}/api/newsletter/unsubscribe?t={leave}&lang={lang}",
    }


def subscribe(tx: Transaction, settings: Settings, subscription: Subscription) -> None:
    """Ask for a subscription: a pending record and a confirmation mail with its link.

    A confirmed address gets no new mail, and the answer is the same either way, so the
    form tells nobody who is subscribed.
    """
    key = email_key(subscription.email)
    found = tx.query(
        "SELECT id, confirmed_at FROM newsletter_subscribers WHERE email_key = ?", (key,)
    )
    if found and found[0]["confirmed_at"]:
        return
    subscriber_id = found[0]["id"] if found else secrets.token_hex(12)
    if found:
        tx.execute(
            "UPDATE newsletter_subscribers SET email = ?, name = ?, lang = ?, page = ?,"
            " asked_at = ?, asked_text = ? WHERE id = ?",
            (
                subscription.email,
                subscription.name,
                subscription.lang,
                subscription.page,
                now(),
                subscription.asked_text,
                subscriber_id,
            ),
        )
    else:
        tx.execute(
            "INSERT INTO newsletter_subscribers (id, email, email_key, name, lang, page,"
            " asked_at, asked_text, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                subscriber_id,
                subscription.email,
                key,
                subscription.name,
                subscription.lang,
                subscription.page,
                now(),
                subscription.asked_text,
            ),
        )
    urls = links(settings, subscriber_id, subscription.lang)
    lang = subscription.lang
    mail = outbox.Mail(
        kind="newsletter-confirm",
        to=subscription.email,
        subject=say(lang, "newsletter_confirm_subject"),
        body=say(lang, "newsletter_confirm_body", link=urls["confirm"], days=CONFIRM_DAYS),
        email_key=key,
        headers=(
            ("List-Unsubscribe", f"<{urls['unsubscribe']}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    )
    outbox.enqueue(tx, mail, settings.mail_from)


def confirm(tx: Transaction, subscriber_id: str) -> str | None:
    """Confirm a pending subscription; its language, or None when there is none."""
    found = tx.query(
        "SELECT email_key, lang, confirmed_at FROM newsletter_subscribers WHERE id = ?",
        (subscriber_id,),
    )
    if not found:
        return None
    if not found[0]["confirmed_at"]:
        tx.execute(
            "UPDATE newsletter_subscribers SET confirmed_at = ? WHERE id = ?",
            (now(), subscriber_id),
        )
        tx.execute(
            "DELETE FROM newsletter_unsubscribed WHERE email_hash = ?",
            (hashlib.sha256(found[0]["email_key"].encode()).hexdigest(),),
        )
    return found[0]["lang"]


def unsubscribe(tx: Transaction, subscriber_id: str) -> str | None:
    """Remove a subscriber, keeping only a hash of the address; its language, or None."""
    found = tx.query(
        "SELECT email_key, lang FROM newsletter_subscribers WHERE id = ?", (subscriber_id,)
    )
    if not found:
        return None
    remember(tx, found[0]["email_key"])
    tx.execute("DELETE FROM newsletter_subscribers WHERE id = ?", (subscriber_id,))
    tx.execute(
        "DELETE FROM outbox WHERE email_key = ? AND kind = 'newsletter-confirm'",
        (found[0]["email_key"],),
    )
    return found[0]["lang"]


def remember(tx: Transaction, key: str) -> None:
    digest = hashlib.sha256(key.encode()).hexdigest()
    tx.execute(
        "INSERT INTO newsletter_unsubscribed (email_hash, unsubscribed_at) VALUES (?, ?)"
        " ON CONFLICT (email_hash) DO NOTHING",
        (digest, now()),
    )


def confirmed(tx: Transaction, settings: Settings) -> list[dict[str, Any]]:
    """The confirmed subscribers with their proof and unsubscribe link, for the export."""
    rows = tx.query(
        "SELECT id, email, name, lang, asked_at, asked_text, confirmed_at"
        " FROM newsletter_subscribers WHERE confirmed_at IS NOT NULL ORDER BY confirmed_at"
    )
    hashes = {r["email_hash"] for r in tx.query("SELECT email_hash FROM newsletter_unsubscribed")}
    found = []
    for row in rows:
        if unsubscribed_hash(row["email"]) in hashes:
            continue  # never hand over an address that left, whatever happened since
        row["unsubscribe_url"] = links(settings, row.pop("id"), row["lang"])["unsubscribe"]
        found.append(row)
    return found
