"""Mail over real SMTP with TLS: STARTTLS and implicit TLS (smtps), with credentials."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ssl

import pytest
import trustme

from backend import outbox
from backend.storage import Database
from tests.backend_parts import free_port

USER, PASSWORD = "cloud7", "p@ss word"  # a space and an @: percent-encoded in the URL


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    good = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=good)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    authority = trustme.CA()
    server_cert = authority.issue_cert("127.0.0.1")
    folder = tmp_path_factory.mktemp("ca")
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    return context, folder / "ca.pem"


@pytest.fixture(params=["smtp+starttls", "smtps"])
def tls_server(request, certificate, monkeypatch):
    from aiosmtpd.controller import Controller

    context, ca = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the client trusts the test authority
    inbox = Inbox()
    port = free_port()
    options = {"authenticator": authenticator, "auth_required": True}
    if request.param == "smtps":
        # The whole connection is TLS, which aiosmtpd's own STARTTLS check cannot see.
        controller = Controller(
            inbox,
            hostname="127.0.0.1",
            port=port,
            ssl_context=context,
            auth_require_tls=False,
            **options,
        )
    else:
        controller = Controller(
            inbox,
            hostname="127.0.0.1",
            port=port,
            tls_context=context,
            require_starttls=True,
            **options,
        )
    controller.start()
    yield request.param, port, inbox
    controller.stop()


def queue_one(tmp_path) -> Database:
    db = Database(f"sqlite:///{tmp_path}/mail.sqlite3")
    db.migrate()
    mail = outbox.Mail(
        kind="test", to="visitor@example.org", subject="Hello", body="Hi", email_key="v"
    )
    with db.transaction() as tx:
        outbox.enqueue(tx, mail, "Cloud 7 <no-reply@cloud7.example>")
    return db


def test_mail_goes_over_tls_with_credentials(tls_server, tmp_path):
    scheme, port, inbox = tls_server
    db = queue_one(tmp_path)
    url = f"{scheme}://cloud7:p%40ss%20word@127.0.0.1:{port}"
    result = outbox.send_due(db, outbox.SmtpServer(url, "no-reply@cloud7.example"))
    assert (result.sent, result.failed) == (1, 0)
    assert [m["Subject"] for m in inbox.messages] == ["Hello"]


def test_a_wrong_password_keeps_the_mail_for_a_retry(tls_server, tmp_path):
    scheme, port, inbox = tls_server
    db = queue_one(tmp_path)
    url = f"{scheme}://cloud7:wrong@127.0.0.1:{port}?timeout=1"
    result = outbox.send_due(db, outbox.SmtpServer(url, "no-reply@cloud7.example"))
    assert (result.sent, result.failed) == (0, 1)
    with db.transaction() as tx:
        row = tx.query("SELECT sent_at, attempts, last_error FROM outbox")[0]
    assert (row["sent_at"], row["attempts"]) == (None, 1)
    # The server refuses the login, or hangs up on a client that tries again.
    assert row["last_error"] in ("SMTPAuthenticationError", "SMTPServerDisconnected")
    assert inbox.messages == []


class RefusesOne(Inbox):
    """A server that answers 550 for one recipient while `refusing` is set."""

    refused = "gone@example.org"

    def __init__(self) -> None:
        super().__init__()
        self.refusing = True

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if self.refusing and address == self.refused:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_recipient_leaves_the_rest_of_the_round_to_go(tmp_path):
    from aiosmtpd.controller import Controller

    server = RefusesOne()
    controller = Controller(server, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        db = Database(f"sqlite:///{tmp_path}/mail.sqlite3")
        db.migrate()
        for to in ("first@example.org", server.refused, "third@example.org"):
            mail = outbox.Mail(kind="test", to=to, subject=to, body="Hi", email_key=to)
            with db.transaction() as tx:  # one by one: the round goes in this order
                outbox.enqueue(tx, mail, "Cloud 7 <no-reply@cloud7.example>")
        smtp = f"smtp://127.0.0.1:{controller.port}"

        def send() -> outbox.SendResult:
            return outbox.send_due(db, outbox.SmtpServer(smtp, "no-reply@cloud7.example"))

        before = outbox.now()
        assert (send().sent, len(server.messages)) == (2, 2)
        assert [m["To"] for m in server.messages] == ["first@example.org", "third@example.org"]
        with db.transaction() as tx:
            row = tx.query("SELECT * FROM outbox WHERE sent_at IS NULL")[0]
        assert (row["recipient"], row["attempts"]) == (server.refused, 1)
        assert row["last_error"] == "SMTPRecipientsRefused"
        waited = dt.datetime.fromisoformat(row["next_attempt_at"]) - dt.datetime.fromisoformat(
            before
        )
        assert waited >= dt.timedelta(seconds=29)  # backed off (30 s), not due at once
        assert send().sent == 0  # not due yet
        # Once due (and the server takes it), it goes and its error is cleared.
        server.refusing = False
        with db.transaction() as tx:
            tx.execute("UPDATE outbox SET next_attempt_at = ? WHERE sent_at IS NULL", (before,))
        assert send().sent == 1
        with db.transaction() as tx:
            row = tx.query("SELECT * FROM outbox WHERE recipient = ?", (server.refused,))[0]
        assert (row["attempts"], row["last_error"]) == (2, None) and row["sent_at"]
        db.close()
    finally:
        controller.stop()


def test_a_mail_arrives_as_written_and_a_second_attempt_has_the_same_message_id(tmp_path):
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        db = Database(f"sqlite:///{tmp_path}/mail.sqlite3")
        db.migrate()
        body = "Beste Jöhn,\n\nDank u wel voor één verzoek.\n" + "lang " * 60 + "\n.\nTot ziens\n"
        unsubscribe = "<https://www.cloud7.example/api/newsletter/unsubscribe?t=abc&lang=nl>"
        mail = outbox.Mail(
            kind="test",
            to="jan@example.org",
            subject="Website: terugbelverzoek van Jöhn Dœ",
            body=body,
            email_key="jan@example.org",
            reply_to="jan@example.org",
            headers=(("List-Unsubscribe", unsubscribe),),
        )
        with db.transaction() as tx:
            outbox_id = outbox.enqueue(tx, mail, "Clöud 7 <no-reply@cloud7.example>")
        with db.transaction() as tx:
            written = tx.query("SELECT message FROM outbox")[0]["message"]
        assert written.isascii()  # quoted-printable and RFC 2047: any SMTP server takes it
        smtp = outbox.SmtpServer(f"smtp://127.0.0.1:{controller.port}", "no-reply@cloud7.example")
        assert outbox.send_due(db, smtp).sent == 1
        # A worker that died after the server's acceptance, before its note: sent again.
        with db.transaction() as tx:
            tx.execute("UPDATE outbox SET sent_at = NULL, next_attempt_at = ?", (outbox.now(),))
        assert outbox.send_due(db, smtp).sent == 1
        first, again = inbox.messages
        assert first["Message-ID"] == again["Message-ID"] == f"<{outbox_id}@cloud7.example>"
        assert first.as_bytes() == again.as_bytes()
        assert (
            first["Subject"] == mail.subject
            and first["From"] == "Clöud 7 <no-reply@cloud7.example>"
        )
        assert (first["To"], first["Reply-To"]) == ("jan@example.org", "jan@example.org")
        assert first["List-Unsubscribe"] == unsubscribe
        assert first.get_content().replace("\r\n", "\n") == body
        db.close()
    finally:
        controller.stop()


@pytest.mark.parametrize("field", ["to", "subject", "reply_to"])
def test_a_line_break_never_reaches_a_mail_header(field):
    values = {"to": "v@example.org", "subject": "Hello", "reply_to": ""}
    values[field] = "v@example.org\r\nBcc: victim@example.org"
    mail = outbox.Mail(kind="test", body="Hi", email_key="v", **values)
    with pytest.raises(ValueError, match="line break"):
        outbox.prepare(mail, "Cloud 7 <no-reply@cloud7.example>")
