"""Mail through a transactional outbox: written with the record it belongs to, sent later.

`enqueue` runs inside the caller's transaction, so a request the visitor was told is
received always has its mails, and a request that was rolled back has none. `send_due`
leases due mails (so several workers or instances never send the same one at once),
hands each to the transport and marks it sent; a failure is retried with exponential
backoff. Each mail is marked sent as soon as the server has accepted it, so a worker
killed in that gap sends one mail again after its lease, with the Message-ID it was
written with (made from its row's id), by which a receiving system can drop the copy.
SMTP cannot do better: the server's acceptance and our note of it are two systems'
writes, and no protocol step makes them one (docs/backend.md, "Mail").
"""

from __future__ import annotations

import binascii
import contextlib
import datetime as dt
import logging
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from backend.storage import Database, Transaction, at, now

log = logging.getLogger("backend.outbox")
LEASE_SECONDS = 300  # a mail taken by a worker that died is retried after this
MAX_BACKOFF_SECONDS = 3600
MAX_ATTEMPTS = 50  # about two days of hourly retries; then it waits for staff


@dataclass(frozen=True)
class Mail:
    """One mail to write to the outbox."""

    kind: str
    to: str
    subject: str
    body: str
    email_key: str  # whose personal data it holds
    reply_to: str = ""
    headers: tuple[tuple[str, str], ...] = ()


ADDRESS_HEADERS = {"From", "To", "Reply-To"}


def header(name: str, value: str) -> str:
    """One header line; a value outside ASCII is encoded (RFC 2047), a line break refused."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"outbox: a line break in the {name} header")
    if not value.isascii():
        if name in ADDRESS_HEADERS:
            value = formataddr(parseaddr(value))  # only the display name is encoded
        else:
            value = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {value}"


def render(mail: Mail, sender: str, message_id: str, date: str) -> str:
    """The RFC 5322 message: plain UTF-8 text, quoted-printable, so every byte is ASCII.

    Written out here rather than with `email.message.EmailMessage`, whose header objects
    cost more CPU than the rest of a post together, for the same few fixed headers.
    """
    headers = [("From", sender), ("To", mail.to), ("Subject", mail.subject)]
    headers += [("Date", date), ("Message-ID", message_id)]
    if mail.reply_to:
        headers.append(("Reply-To", mail.reply_to))
    headers += [*mail.headers, ("MIME-Version", "1.0")]
    headers += [("Content-Type", 'text/plain; charset="utf-8"')]
    headers += [("Content-Transfer-Encoding", "quoted-printable")]
    text = mail.body.replace("\r\n", "\n").replace("\r", "\n")
    body = binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii")
    lines = [header(name, value) for name, value in headers]
    return "\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")


def message_id(outbox_id: str, sender: str) -> str:
    """A mail's Message-ID, made from its outbox row's id: the same on every attempt."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{outbox_id}@{domain}>"


@dataclass(frozen=True)
class Rendered:
    """A mail rendered for the outbox, before the transaction that writes it."""

    outbox_id: str
    mail: Mail
    message: str


def prepare(mail: Mail, sender: str) -> Rendered:
    """Render a mail outside any transaction, with the id its outbox row will have."""
    outbox_id = secrets.token_hex(12)
    date = formatdate(usegmt=True)
    return Rendered(outbox_id, mail, render(mail, sender, message_id(outbox_id, sender), date))


def write(tx: Transaction, rendered: Rendered) -> str:
    """Write a rendered mail to the outbox in the caller's transaction; its id."""
    created = now()
    mail = rendered.mail
    tx.execute(
        "INSERT INTO outbox (id, created_at, kind, email_key, recipient, message, attempts,"
        " next_attempt_at, sent_at, last_error) VALUES (?, ?, ?, ?, ?, ?, 0, ?, NULL, NULL)",
        (
            rendered.outbox_id,
            created,
            mail.kind,
            mail.email_key,
            mail.to,
            rendered.message,
            created,
        ),
    )
    return rendered.outbox_id


def enqueue(tx: Transaction, mail: Mail, sender: str) -> str:
    """Write a mail to the outbox in the caller's transaction; its id."""
    return write(tx, prepare(mail, sender))


class Transport(Protocol):
    def send(self, recipient: str, message: str, outbox_id: str) -> None: ...

    def close(self) -> None: ...


class MailDirectory:
    """Development: every mail becomes an .eml file in a folder (make serve: var/mail/)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, recipient: str, message: str, outbox_id: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        target = self.folder / f"{stamp}-{outbox_id}.eml"
        partial = target.with_suffix(".part")
        partial.write_text(message, encoding="utf-8")
        os.replace(partial, target)  # a reader never sees half a mail

    def close(self) -> None:
        pass


class SmtpServer:
    """SMTP from a URL: smtp:// (plain), smtp+starttls:// (STARTTLS required) or smtps://.

    `user:password@` logs in; `?timeout=SECONDS` bounds each exchange (default 10).
    One connection is kept for a batch of mails.
    """

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.timeout = float(parse_qs(parts.query).get("timeout", ["10"])[0])
        self.envelope_from = sender.rsplit("<", 1)[-1].rstrip(">").strip()
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        # A TLS context reads the system's certificates: only made when one is needed.
        if self.scheme == "smtps":
            context = ssl.create_default_context()
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
        if self.user:
            client.login(self.user, self.password)
        return client

    def send(self, recipient: str, message: str, outbox_id: str) -> None:
        if self._client is None:
            self._client = self._connect()
        try:
            self._client.sendmail(self.envelope_from, [recipient], message.encode("utf-8"))
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._client.quit()
            self._client = None


def transport_for(smtp_url: str, mail_dir: Path, sender: str) -> Transport:
    return SmtpServer(smtp_url, sender) if smtp_url else MailDirectory(mail_dir)


def backoff(attempts: int, first: float = 30) -> float:
    """Seconds before the next try: 30 s, 1 min, 2 min, … at most an hour."""
    return min(MAX_BACKOFF_SECONDS, first * 2 ** max(0, attempts - 1))


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0


def send_due(
    db: Database,
    transport: Transport,
    limit: int = 100,
    first_retry: float = 30,
    lease_seconds: float = LEASE_SECONDS,
) -> SendResult:
    """Send the mails that are due, at most `limit`; how many went and how many failed."""
    result = SendResult()
    moment = dt.datetime.now(dt.UTC)
    lease = at(moment + dt.timedelta(seconds=lease_seconds))
    taken = []
    with db.transaction(durable=False) as tx:
        due = tx.query(
            "SELECT id, recipient, message, attempts, next_attempt_at FROM outbox"
            " WHERE sent_at IS NULL AND next_attempt_at <= ? AND attempts < ?"
            " ORDER BY next_attempt_at LIMIT ?",
            (at(moment), MAX_ATTEMPTS, limit),
        )
        for row in due:
            if tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?"
                " WHERE id = ? AND sent_at IS NULL AND next_attempt_at = ?",
                (lease, row["id"], row["next_attempt_at"]),
            ):
                taken.append(row)  # else another worker has it
    try:
        for row in taken:
            try:
                transport.send(row["recipient"], row["message"], row["id"])
            except (smtplib.SMTPException, OSError) as error:
                result.failed += 1
                wait = backoff(row["attempts"] + 1, first_retry)
                retry = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
                with db.transaction(durable=False) as tx:
                    tx.execute(
                        "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?",
                        (at(retry), type(error).__name__, row["id"]),
                    )
                log.warning("mail %s not sent (%s); retrying", row["id"], type(error).__name__)
                # smtplib's errors are OSErrors too: only a lost connection means the
                # server is away; a refused mail leaves the rest of the round to go.
                away = not isinstance(error, smtplib.SMTPException)
                if away or isinstance(error, smtplib.SMTPServerDisconnected):
                    break  # the server is away: the rest wait for the next round
                continue
            with db.transaction(durable=False) as tx:
                tx.execute(
                    "UPDATE outbox SET sent_at = ?, last_error = NULL WHERE id = ?",
                    (now(), row["id"]),
                )
            result.sent += 1
    finally:
        transport.close()
    return result


def retry_now(db: Database) -> int:
    """Make every unsent mail due at once (after the mail server is back); how many."""
    with db.transaction() as tx:
        return tx.execute(
            "UPDATE outbox SET next_attempt_at = ?, attempts = 0 WHERE sent_at IS NULL", (now(),)
        )
