"""Misuse without third parties: form tokens, a honeypot, rate limits, refusal counts.

Nothing here stores or logs personal data: a client is a keyed hash of its address
that changes with `BACKEND_SECRET`, and a refusal is counted per day, form and reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time

from backend.storage import Transaction

log = logging.getLogger("backend.guard")
HONEYPOT = "website"  # a field people never see and bots fill in


def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()[:32]


def issue_token(secret: bytes, form: str, moment: float | None = None) -> str:
    """A token for one form, signed, carrying when it was issued."""
    issued = int(time.time() if moment is None else moment)
    nonce = secrets.token_hex(8)
    return f"{issued}.{nonce}.{_sign(secret, f'{form}|{issued}|{nonce}')}"


def check_token(
    secret: bytes, form: str, token: str, min_seconds: float, max_seconds: float
) -> str | None:
    """None when the token is good, else the reason: token_missing/bad/fast/old."""
    if not token:
        return "token_missing"
    try:
        issued_text, nonce, signature = token.split(".")
        issued = int(issued_text)
    except ValueError:
        return "token_bad"
    if not hmac.compare_digest(signature, _sign(secret, f"{form}|{issued}|{nonce}")):
        return "token_bad"
    age = time.time() - issued
    if age < min_seconds:
        return "token_fast"
    if age > max_seconds:
        return "token_old"
    return None


def spend_token(tx: Transaction, token: str, max_seconds: float) -> bool:
    """Record a checked token's nonce as used; False when it was used before (a replay).

    Run in the transaction that stores the post it admits, so a post and its token's use
    are written together or not at all.
    """
    issued_text, nonce, _ = token.split(".")
    changed = tx.execute(
        "INSERT INTO used_tokens (nonce, until) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING",
        (nonce, int(issued_text) + int(max_seconds) + 1),
    )
    return changed == 1


def client_key(secret: bytes, address: str) -> str:
    """A keyed hash of a client's address: stable for rate limits, never the address."""
    return _sign(secret, f"client|{address}")


def over_limit(tx: Transaction, client: str, limit: int, window_seconds: int) -> bool:
    """Count one post for a client; True when it is over its limit for this window."""
    return count_hits(tx, client, 1, window_seconds) > limit


def count_hits(tx: Transaction, client: str, hits: int, window_seconds: int) -> int:
    """Count `hits` posts for a client in this window; its count with them."""
    window = int(time.time()) // max(1, window_seconds) * window_seconds
    rows = tx.query(
        "INSERT INTO rate_limits (client, window_start, hits) VALUES (?, ?, ?)"
        " ON CONFLICT (client, window_start) DO UPDATE SET hits = rate_limits.hits + ?"
        " RETURNING hits",
        (client, window, hits, hits),
    )
    return rows[0]["hits"]


def count_refusal(tx: Transaction, form: str, reason: str, logged: bool = True) -> None:
    """Record that a post was refused, and why (no personal data).

    Consent receipts pass `logged=False`: nothing about a receipt is logged.
    """
    if logged:
        log.info("%s: refused a post (%s)", form, reason)
    day = dt.datetime.now(dt.UTC).date().isoformat()
    tx.execute(
        "INSERT INTO misuse_events (day, form, reason, count) VALUES (?, ?, ?, 1)"
        " ON CONFLICT (day, form, reason) DO UPDATE SET count = misuse_events.count + 1",
        (day, form, reason),
    )
