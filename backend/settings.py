"""Every setting of the backend, read from the environment in one place.

docs/backend.md lists them with their defaults; this module is their source of truth.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(Exception):
    """A setting that cannot be used; the message names it and says what to do."""


@dataclass(frozen=True)
class Retention:
    """How many days each kind of record is kept before `python -m backend prune`."""

    requests_days: int = 365  # answer the request and any follow-up within a year
    sent_mail_days: int = 30  # the copy of a sent mail, for delivery questions
    misuse_days: int = 30  # counts of refused posts (no personal data)
    pending_newsletter_days: int = 30  # a sign-up never confirmed
    # A consent lasts at most 6 months and the analytics data it allowed are kept at most
    # 14 months; a year more answers a complaint or an authority's question about them.
    consent_days: int = 1095


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/backend.sqlite3"
    database_timeout_seconds: float = 5.0
    smtp_url: str = ""  # empty: mails become .eml files in mail_dir
    mail_dir: Path = Path("var/mail")
    mail_from: str = "Cloud 7 <no-reply@cloud7.example>"
    notify_to: str = "customer-service@cloud7.example"
    secret: bytes = b""
    site_origin: str = ""  # empty: a post's Origin must match its own Host
    site_url: str = ""  # where links in mails point; empty: site_origin
    form_min_seconds: float = 3.0
    form_max_seconds: float = 2 * 3600.0
    rate_limit: int = 10  # posts per client per rate_window_seconds
    rate_window_seconds: int = 600
    consent_rate_limit: int = 60  # consent receipts per client per rate_window_seconds
    max_body_bytes: int = 16 * 1024
    mail_poll_seconds: float = 5.0
    mail_retry_seconds: float = 30.0  # the first retry; each next one waits twice as long
    mail_lease_seconds: float = 300.0  # a mail taken by a worker that died is retried after
    retention: Retention = field(default_factory=Retention)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


def _number(env: dict[str, str], name: str, default: float, kind: type = float) -> float:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number; set it to e.g. {default}") from None
    if value < 0:
        raise SettingsError(f"{name}={raw!r} is negative; set it to e.g. {default}")
    return value


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in schemes:
        shown = url.split("@")[-1] if "@" in url else url  # never print a password
        raise SettingsError(
            f"{name}={shown!r}: the scheme must be one of {', '.join(s + '://' for s in schemes)}"
        )
    return url


def load(env: dict[str, str] | None = None, dev: bool = False) -> Settings:
    """Settings from the environment; `dev` allows a throwaway secret (make serve)."""
    env = dict(os.environ if env is None else env)
    secret = env.get("BACKEND_SECRET", "")
    if not secret:
        if not dev:
            raise SettingsError(
                "BACKEND_SECRET is not set: set it to a long random string, e.g. the output "
                "of `python -c 'import secrets; print(secrets.token_hex(32))'`, the same on "
                "every instance"
            )
        secret = secrets.token_hex(32)  # forms opened before a restart ask to be sent again
    elif len(secret) < 32:
        raise SettingsError("BACKEND_SECRET is shorter than 32 characters; use a longer one")
    database_url = env.get("BACKEND_DATABASE_URL") or Settings.database_url
    _check_url("BACKEND_DATABASE_URL", database_url, ("sqlite", "postgresql", "postgres"))
    smtp_url = env.get("BACKEND_SMTP_URL", "")
    if smtp_url:
        _check_url("BACKEND_SMTP_URL", smtp_url, ("smtp", "smtp+starttls", "smtps"))
    origin = env.get("BACKEND_SITE_ORIGIN", "").rstrip("/")
    if origin and not urlsplit(origin).netloc:
        raise SettingsError(
            f"BACKEND_SITE_ORIGIN={origin!r} is not an origin; write it as https://www.example.com"
        )
    defaults = Retention()
    retention = Retention(
        requests_days=int(
            _number(env, "BACKEND_RETAIN_REQUESTS_DAYS", defaults.requests_days, int)
        ),
        sent_mail_days=int(
            _number(env, "BACKEND_RETAIN_SENT_MAIL_DAYS", defaults.sent_mail_days, int)
        ),
        misuse_days=int(_number(env, "BACKEND_RETAIN_MISUSE_DAYS", defaults.misuse_days, int)),
        pending_newsletter_days=int(
            _number(
                env, "BACKEND_RETAIN_PENDING_NEWSLETTER_DAYS", defaults.pending_newsletter_days, int
            )
        ),
        consent_days=int(_number(env, "BACKEND_RETAIN_CONSENT_DAYS", defaults.consent_days, int)),
    )
    return Settings(
        database_url=database_url,
        database_timeout_seconds=_number(
            env, "BACKEND_DATABASE_TIMEOUT_SECONDS", Settings.database_timeout_seconds
        ),
        smtp_url=smtp_url,
        mail_dir=Path(env.get("BACKEND_MAIL_DIR") or Settings.mail_dir),
        mail_from=env.get("BACKEND_MAIL_FROM") or Settings.mail_from,
        notify_to=env.get("BACKEND_NOTIFY_TO") or Settings.notify_to,
        secret=secret.encode(),
        site_origin=origin,
        site_url=(env.get("BACKEND_SITE_URL") or origin).rstrip("/"),
        form_min_seconds=_number(env, "BACKEND_FORM_MIN_SECONDS", Settings.form_min_seconds),
        form_max_seconds=_number(env, "BACKEND_FORM_MAX_SECONDS", Settings.form_max_seconds),
        rate_limit=int(_number(env, "BACKEND_RATE_LIMIT", Settings.rate_limit, int)),
        rate_window_seconds=int(
            _number(env, "BACKEND_RATE_WINDOW_SECONDS", Settings.rate_window_seconds, int)
        ),
        consent_rate_limit=int(
            _number(env, "BACKEND_CONSENT_RATE_LIMIT", Settings.consent_rate_limit, int)
        ),
        max_body_bytes=int(_number(env, "BACKEND_MAX_BODY_BYTES", Settings.max_body_bytes, int)),
        mail_poll_seconds=_number(env, "BACKEND_MAIL_POLL_SECONDS", Settings.mail_poll_seconds),
        mail_retry_seconds=_number(env, "BACKEND_MAIL_RETRY_SECONDS", Settings.mail_retry_seconds),
        mail_lease_seconds=_number(env, "BACKEND_MAIL_LEASE_SECONDS", Settings.mail_lease_seconds),
        retention=retention,
    )
