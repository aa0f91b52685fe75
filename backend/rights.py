"""Data subjects' rights and retention: export (Art. 15, 20), erase (Art. 17), prune."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from backend.contact import email_key
from backend.newsletter import remember, unsubscribed_hash
from backend.settings import Retention
from backend.storage import Database, at


def export(db: Database, address: str) -> dict[str, Any]:
    """Every record held about an address, as JSON-ready data."""
    key = email_key(address)
    with db.transaction() as tx:
        requests = tx.query(
            "SELECT id, received_at, kind, lang, page, name, phone, email, country, message"
            " FROM contact_requests WHERE email_key = ? ORDER BY received_at",
            (key,),
        )
        mails = tx.query(
            "SELECT id, created_at, kind, recipient, sent_at, message FROM outbox"
            " WHERE email_key = ? ORDER BY created_at",
            (key,),
        )
        subscription = tx.query(
            "SELECT email, name, lang, page, asked_at, asked_text, confirmed_at"
            " FROM newsletter_subscribers WHERE email_key = ?",
            (key,),
        )
        left = tx.query(
            "SELECT unsubscribed_at FROM newsletter_unsubscribed WHERE email_hash = ?",
            (unsubscribed_hash(key),),
        )
    return {
        "email": address,
        "exported_at": at(dt.datetime.now(dt.UTC)),
        "contact_requests": requests,
        "newsletter": subscription[0] if subscription else None,
        "newsletter_unsubscribed_at": left[0]["unsubscribed_at"] if left else None,
        "mails": mails,
    }


@dataclass(frozen=True)
class Erased:
    requests: int
    mails: int
    unsent: int
    subscriptions: int


def erase(db: Database, address: str) -> Erased:
    """Remove every record about an address, in one transaction."""
    key = email_key(address)
    with db.transaction() as tx:
        unsent = tx.query(
            "SELECT COUNT(*) AS n FROM outbox WHERE email_key = ? AND sent_at IS NULL", (key,)
        )[0]["n"]
        mails = tx.execute("DELETE FROM outbox WHERE email_key = ?", (key,))
        requests = tx.execute("DELETE FROM contact_requests WHERE email_key = ?", (key,))
        subscriptions = tx.execute("DELETE FROM newsletter_subscribers WHERE email_key = ?", (key,))
        if subscriptions:
            remember(tx, key)  # erased, and never added to the newsletter again by mistake
    return Erased(requests=requests, mails=mails, unsent=unsent, subscriptions=subscriptions)


UNREFERENCED_BANNERS = (
    "SELECT banner_version FROM consent_banners b WHERE learnt_at < ? AND NOT EXISTS"
    " (SELECT 1 FROM consent_receipts r WHERE r.banner = b.banner_version)"
)


def prune(db: Database, retention: Retention) -> dict[str, int]:
    """Delete what has outlived its retention period; the count per kind of record."""
    today = dt.datetime.now(dt.UTC)

    def before(days: int) -> str:
        return at(today - dt.timedelta(days=days))

    with db.transaction() as tx:
        return {
            "contact requests": tx.execute(
                "DELETE FROM contact_requests WHERE received_at < ?",
                (before(retention.requests_days),),
            ),
            "sent mails": tx.execute(
                "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
                (before(retention.sent_mail_days),),
            ),
            # An unsent mail about a request that is gone goes with it.
            "unsent mails": tx.execute(
                "DELETE FROM outbox WHERE sent_at IS NULL AND created_at < ?",
                (before(retention.requests_days),),
            ),
            "unconfirmed newsletter sign-ups": tx.execute(
                "DELETE FROM newsletter_subscribers WHERE confirmed_at IS NULL AND asked_at < ?",
                (before(retention.pending_newsletter_days),),
            ),
            "misuse counts": tx.execute(
                "DELETE FROM misuse_events WHERE day < ?",
                (before(retention.misuse_days)[:10],),
            ),
            "rate-limit windows": tx.execute(
                "DELETE FROM rate_limits WHERE window_start < ?",
                (int(today.timestamp()) - 86400,),
            ),
            "consent receipts": tx.execute(
                "DELETE FROM consent_receipts WHERE received_at < ?",
                (before(retention.consent_days),),
            ),
            # A banner version's evidence goes once no receipt refers to it; one learnt
            # recently stays for the receipts to come.
            "consent screenshots": tx.execute(
                f"DELETE FROM consent_screenshots WHERE banner_version IN ({UNREFERENCED_BANNERS})",
                (before(retention.consent_days),),
            ),
            "banner manifests": tx.execute(
                f"DELETE FROM consent_banners WHERE banner_version IN ({UNREFERENCED_BANNERS})",
                (before(retention.consent_days),),
            ),
            # A token refused as old needs no record of its use.
            "used form tokens": tx.execute(
                "DELETE FROM used_tokens WHERE until < ?", (int(today.timestamp()),)
            ),
        }
