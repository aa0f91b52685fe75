"""The backend over real HTTP, on SQLite and on a real PostgreSQL server, with real SMTP."""

from __future__ import annotations

import email
import email.policy
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from backend import guard, rights
from backend.settings import load as load_settings
from backend.storage import Database
from backend.words import consent_text, say
from tests.backend_parts import (
    SECRET,
    Backend,
    Postgres,
    SmtpSink,
    backend_cli,
    backend_env,
    killed_under_load,
    rows,
    wait_for,
)

CUSTOMER_SERVICE = "customer-service@cloud7.example"


@pytest.fixture
def backend(database_url, smtp):
    smtp.clear()
    served = Backend(backend_env(database_url, smtp.url))
    yield served
    served.close()


def post(
    backend: Backend,
    fields: dict,
    json_answer: bool = False,
    origin: str | None = "",
    body: bytes | None = None,
    extra: dict[str, str] | None = None,
    path: str = "/api/contact",
) -> tuple[int, dict[str, str], str]:
    """POST a form (the contact form unless `path` says); status, headers, body, no redirects."""
    data = body if body is not None else urllib.parse.urlencode(fields).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin is not None:
        headers["Origin"] = origin or backend.origin
    if json_answer:
        headers["Accept"] = "application/json"
    headers.update(extra or {})
    request = urllib.request.Request(backend.url(path), data=data, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def token() -> str:
    return guard.issue_token(SECRET.encode(), "contact")


def good(**changes) -> dict[str, str]:
    fields = {
        "request": "callback",
        "name": "Ada Lovelace",
        "phone": "+31 20 555 0100",
        "email": "ada@example.org",
        "country": "Netherlands",
        "message": "Please call me about managed Kubernetes.\nMornings are best.",
        "lang": "en",
        "page": "/contact/",
        "website": "",
        "token": token(),
    }
    fields.update(changes)
    return fields


def test_a_callback_request_is_stored_and_mailed_to_customer_service_and_the_visitor(
    backend, database_url, smtp
):
    status, headers, _ = post(backend, good())
    assert status == 303
    assert headers["location"] == "/contact-received/"
    assert "set-cookie" not in {name.lower() for name in headers}
    stored = rows(database_url, "SELECT * FROM contact_requests")
    assert [(r["kind"], r["name"], r["email"], r["lang"]) for r in stored] == [
        ("callback", "Ada Lovelace", "ada@example.org", "en")
    ]
    notify = wait_for(lambda: smtp.to(CUSTOMER_SERVICE), what="the mail to customer service")
    assert notify[0]["Reply-To"] == "ada@example.org"
    body = notify[0].get_content()
    assert "Language: en" in body and "Page: /contact/" in body and "callback" in body
    confirm = wait_for(lambda: smtp.to("ada@example.org"), what="the visitor's confirmation")
    assert confirm[0]["Subject"] == "We have received your request"


def test_a_dutch_quotation_request_is_confirmed_in_dutch(backend, database_url, smtp):
    fields = good(request="quotation", lang="nl", page="/nl/contact/", email="jan@example.nl")
    status, headers, _ = post(backend, fields)
    assert (status, headers["location"]) == (303, "/nl/contact-received/")
    confirm = wait_for(lambda: smtp.to("jan@example.nl"), what="the Dutch confirmation")
    assert confirm[0]["Subject"] == "We hebben uw verzoek ontvangen"
    assert "een offerte" in confirm[0].get_content()
    notify = wait_for(lambda: smtp.to(CUSTOMER_SERVICE), what="the mail to customer service")
    assert "Language: nl" in notify[0].get_content()


def test_with_javascript_the_answer_is_json_in_the_pages_language(backend):
    status, _, body = post(backend, good(lang="nl"), json_answer=True)
    assert status == 200
    assert json.loads(body) == {
        "ok": True,
        "message": "Dank u wel, we hebben uw verzoek ontvangen",
        "field": "",
    }


HOSTILE = [
    ({"name": ""}, "name", "Please fill in your name."),
    ({"email": "not-an-address"}, "email", "does not look right"),
    ({"email": "a@b.c\r\nBcc: victim@example.org"}, "email", "does not look right"),
    ({"email": "jöhn@example.org"}, "email", "does not look right"),
    ({"name": "Eve\r\nBcc: victim@example.org"}, "name", "does not look right"),
    ({"name": "x" * 101}, "name", "at most 100 characters"),
    ({"message": "x" * 5001}, "message", "at most 5000 characters"),
    ({"phone": "call me maybe"}, "phone", "does not look right"),
    ({"request": "newsletter"}, "request", "does not look right"),
]


@pytest.mark.parametrize(("change", "field", "words"), HOSTILE)
def test_bad_and_hostile_fields_are_refused_and_nothing_is_stored(
    backend, database_url, change, field, words
):
    status, _, body = post(backend, good(**change), json_answer=True)
    answer = json.loads(body)
    assert (status, answer["ok"], answer["field"]) == (400, False, field)
    assert words in answer["message"]
    assert rows(database_url, "SELECT id FROM contact_requests") == []
    assert rows(database_url, "SELECT id FROM outbox") == []


def test_a_refusal_is_in_the_pages_language_without_javascript(backend):
    status, headers, body = post(backend, good(name="", lang="nl", page="/nl/contact/"))
    assert status == 400 and headers["content-type"].startswith("text/html")
    assert "Vul uw naam in." in body and 'href="/nl/contact/"' in body


OFF_SITE = ["//evil.example/x", "https://evil.example/", "javascript:alert(1)"]


@pytest.mark.parametrize("page", OFF_SITE)
@pytest.mark.parametrize("refused_for", ["no token", "no name"])
def test_a_refusal_links_back_only_to_a_page_of_this_site(backend, page, refused_for):
    fields = good(page=page, token="") if refused_for == "no token" else good(page=page, name="")
    _, _, body = post(backend, fields)
    links = [part.split('"', 1)[0] for part in body.split('href="')[1:]]
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links)
    assert 'href="/contact/"' in body


def test_markup_in_fields_is_escaped_in_pages(backend):
    _, _, body = post(backend, good(name="<script>alert(1)</script>", token=""))
    assert "<script>alert" not in body and "&lt;script&gt;" in body


@pytest.mark.parametrize(
    ("token_value", "reason"),
    [
        ("", "please check your details and press Send request"),
        ("123.abc.forged", "could not be checked"),
        (guard.issue_token(b"another-secret" * 3, "contact"), "could not be checked"),
        (guard.issue_token(SECRET.encode(), "contact", time.time() - 3 * 3600), "open for a long"),
    ],
)
def test_a_post_without_a_good_token_is_sent_again_with_a_fresh_one(
    backend, database_url, token_value, reason
):
    status, _, body = post(backend, good(token=token_value))
    assert status == 400 and reason in body
    assert rows(database_url, "SELECT id FROM contact_requests") == []
    # The page holds the visitor's fields and a fresh token: pressing its button sends it.
    fresh = body.split('name="token" value="', 1)[1].split('"', 1)[0]
    assert guard.check_token(SECRET.encode(), "contact", fresh, 0, 60) is None
    assert 'value="Ada Lovelace"' in body


def test_a_form_token_admits_one_post_and_a_replay_is_refused(backend, database_url, smtp):
    once = token()
    assert post(backend, good(token=once))[0] == 303
    wait_for(lambda: len(smtp.messages) == 2, what="the first post's two mails")
    # Without JavaScript: the usual page to send again, with a fresh token.
    status, _, body = post(backend, good(token=once, name="Replayed"))
    assert status == 400 and "could not be checked" in body
    fresh = body.split('name="token" value="', 1)[1].split('"', 1)[0]
    assert fresh != once
    # With JavaScript: the same message in the page's language, and a fresh token.
    status, _, body = post(backend, good(token=once, lang="nl"), json_answer=True)
    answer = json.loads(body)
    assert status == 400 and not answer["ok"] and answer["token"] != once
    assert answer["message"] == say("nl", "token_bad")
    stored = rows(database_url, "SELECT name FROM contact_requests")
    assert [r["name"] for r in stored] == ["Ada Lovelace"]
    assert len(rows(database_url, "SELECT id FROM outbox")) == 2
    counted = rows(database_url, "SELECT reason, count FROM misuse_events")
    assert [(r["reason"], r["count"]) for r in counted] == [("token_used", 2)]
    # The fresh token sends the post; prune keeps a live nonce and deletes an expired one.
    assert post(backend, good(token=fresh))[0] == 303
    db = Database(database_url)
    try:
        with db.transaction() as tx:
            tx.execute("INSERT INTO used_tokens (nonce, until) VALUES ('old', 1)")
        assert rights.prune(db, load_settings({}, dev=True).retention)["used form tokens"] == 1
        with db.transaction() as tx:
            assert len(tx.query("SELECT nonce FROM used_tokens")) == 2
    finally:
        db.close()


def test_a_post_made_too_fast_is_refused(database_url, smtp):
    served = Backend(backend_env(database_url, smtp.url, BACKEND_FORM_MIN_SECONDS="30"))
    try:
        status, _, body = post(served, good(), json_answer=True)
        assert status == 400 and "very fast" in json.loads(body)["message"]
        assert json.loads(body)["token"]  # a fresh one, for the visitor's next press
    finally:
        served.close()
    assert rows(database_url, "SELECT id FROM contact_requests") == []


def test_a_filled_honeypot_is_refused_and_counted_without_personal_data(backend, database_url):
    status, _, _ = post(backend, good(website="https://spam.example"))
    assert status == 400
    assert rows(database_url, "SELECT id FROM contact_requests") == []
    counted = rows(database_url, "SELECT * FROM misuse_events")
    assert [(r["form"], r["reason"], r["count"]) for r in counted] == [("contact", "honeypot", 1)]


def test_a_post_from_another_origin_is_refused(backend, database_url):
    status, _, body = post(backend, good(), origin="https://evil.example")
    assert status == 403 and "only be sent from our own website" in body
    status, _, _ = post(backend, good(), origin="null")
    assert status == 403
    assert rows(database_url, "SELECT id FROM contact_requests") == []


def test_an_oversized_body_is_refused_before_it_is_read(backend, database_url):
    status, _, body = post(backend, {}, body=b"message=" + b"x" * 20_000, json_answer=True)
    assert status == 413 and "too long" in json.loads(body)["message"]
    assert rows(database_url, "SELECT id FROM contact_requests") == []


def test_a_flood_from_one_client_is_rate_limited_and_others_are_not(database_url, smtp):
    env = backend_env(database_url, smtp.url, BACKEND_RATE_LIMIT="3")
    served = Backend(env, "--forwarded-allow-ips", "127.0.0.1")
    try:
        statuses = [post(served, good())[0] for _ in range(5)]
        assert statuses == [303, 303, 303, 429, 429]
        # Another client (its address as the trusted proxy reports it) is not affected.
        other = post(served, good(), extra={"X-Forwarded-For": "192.0.2.7"})
        assert other[0] == 303
    finally:
        served.close()
    assert len(rows(database_url, "SELECT id FROM contact_requests")) == 4
    stored = json.dumps(rows(database_url, "SELECT * FROM rate_limits"))
    assert "127.0.0.1" not in stored and "192.0.2.7" not in stored


def test_requests_are_kept_while_smtp_is_down_and_mailed_once_it_is_back(database_url):
    sink = SmtpSink()
    sink.stop()
    served = Backend(backend_env(database_url, sink.url))
    try:
        assert post(served, good())[0] == 303
        wait_for(
            lambda: rows(database_url, "SELECT attempts FROM outbox WHERE attempts > 0"),
            what="a failed delivery attempt",
        )
        assert len(rows(database_url, "SELECT id FROM contact_requests")) == 1
        sink.start()
        wait_for(lambda: len(sink.messages) == 2, what="both mails after SMTP returned")
        # The worker notes a mail sent just after the server's acceptance, not before.
        wait_for(
            lambda: not rows(database_url, "SELECT id FROM outbox WHERE sent_at IS NULL"),
            what="both mails noted as sent",
        )
    finally:
        served.close()
        sink.stop()


def test_the_database_down_gives_a_clear_503_page_in_the_visitors_language(postgres, smtp):
    cluster = Postgres()
    url = cluster.fresh_database()
    served = Backend(backend_env(url, smtp.url))
    try:
        cluster.stop()
        status, _, body = post(served, good(lang="nl", page="/nl/contact/"))
        assert status == 503
        assert "Onze verzoekdienst is even niet beschikbaar. Er is niets opgeslagen." in body
        status, _, body = post(served, good(), json_answer=True)
        assert status == 503 and "Nothing was saved" in json.loads(body)["message"]
        cluster.start()
        assert wait_for(lambda: post(served, good())[0] == 303, what="posts once the DB is back")
        assert len(rows(url, "SELECT id FROM contact_requests")) == 1
        assert len(rows(url, "SELECT id FROM outbox")) == 2  # nothing from the failed posts
    finally:
        served.close()
        cluster.close()


def test_a_sqlite_database_held_by_another_writer_gives_a_503_and_nothing_half_written(
    tmp_path, smtp
):
    import sqlite3

    url = f"sqlite:///{tmp_path}/backend.sqlite3"
    served = Backend(backend_env(url, smtp.url, BACKEND_DATABASE_TIMEOUT_SECONDS="0.3"))
    holder = sqlite3.connect(tmp_path / "backend.sqlite3", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # a backup tool or a stuck process holds it
        status, _, body = post(served, good())
        assert status == 503 and "Nothing was saved" in body
        holder.execute("ROLLBACK")
        assert post(served, good())[0] == 303
    finally:
        holder.close()
        served.close()
    assert len(rows(url, "SELECT id FROM contact_requests")) == 1
    assert len(rows(url, "SELECT id FROM outbox")) == 2


def test_subject_export_and_erase_cover_exactly_the_addresses_records(backend, database_url, smtp):
    post(backend, good(email="Ada@Example.org"))
    post(backend, good(email="grace@example.org", name="Grace Hopper"))
    wait_for(lambda: len(smtp.messages) == 4, what="all four mails")
    exported = json.loads(backend_cli(database_url, "subject", "export", "ada@example.org").stdout)
    assert [r["name"] for r in exported["contact_requests"]] == ["Ada Lovelace"]
    assert {m["kind"] for m in exported["mails"]} == {"contact-notify", "contact-confirm"}
    erased = backend_cli(database_url, "subject", "erase", "ADA@example.org")
    assert erased.returncode == 0
    assert "Erased 1 requests, 0 newsletter subscriptions and 2 mails" in erased.stdout
    left = rows(database_url, "SELECT email FROM contact_requests")
    assert left == [{"email": "grace@example.org"}]
    assert len(rows(database_url, "SELECT id FROM outbox")) == 2


def test_staff_read_requests_and_the_outbox_from_the_command_line(backend, database_url, smtp):
    post(backend, good())
    wait_for(lambda: len(smtp.messages) == 2, what="both mails")
    listed = backend_cli(database_url, "requests")
    assert "Ada Lovelace <ada@example.org>" in listed.stdout and "1 requests" in listed.stdout
    assert "0 mails wait to be sent." in backend_cli(database_url, "mail").stdout


def test_a_bad_setting_is_named_with_its_fix_and_no_traceback(tmp_path):
    result = backend_cli("mysql://x", "serve")
    assert result.returncode == 2
    assert "BACKEND_DATABASE_URL='mysql://x'" in result.stderr
    assert "Traceback" not in result.stderr
    unset = backend_cli(f"sqlite:///{tmp_path}/x.db", "serve", BACKEND_SECRET="")
    assert unset.returncode == 2 and "BACKEND_SECRET is not set" in unset.stderr
    no_url = backend_cli(f"sqlite:///{tmp_path}/x.db", "newsletter", "export", BACKEND_SITE_URL="")
    assert no_url.returncode == 2 and "BACKEND_SITE_URL is not set" in no_url.stderr


def test_sigkill_under_load_loses_no_acknowledged_request_and_no_mail(database_url):
    sink = SmtpSink()
    served = Backend(backend_env(database_url, sink.url, BACKEND_RATE_LIMIT="100000"))

    def send(client: int, n: int) -> str | None:
        address = f"load-{client}-{n}@example.org"
        return address if post(served, good(email=address))[0] == 303 else None

    try:
        # Started again on the same database: the worker sends what was left.
        acknowledged = killed_under_load(served, send, 60, "posts")
        stored = {r["email"] for r in rows(database_url, "SELECT email FROM contact_requests")}
        assert set(acknowledged) <= stored
        wait_for(
            lambda: not rows(database_url, "SELECT id FROM outbox WHERE sent_at IS NULL"),
            60,
            "the outbox emptied after the restart",
        )

        # What the SMTP server received, against what the outbox wrote: each mail by its
        # Message-ID, with what a reader sees of it.
        def seen(message) -> tuple[str, str, str]:
            return str(message["To"]), str(message["Subject"]), message.get_content()

        written = {}
        for row in rows(database_url, "SELECT message FROM outbox"):
            message = email.message_from_string(row["message"], policy=email.policy.default)
            written[message["Message-ID"]] = seen(message)
        assert len(written) == 2 * len(stored)
        received = list(sink.messages)
        assert {m["Message-ID"] for m in received} == set(written), "exactly the written mails"
        for message in received:  # a mail that went twice went with the same Message-ID
            assert seen(message) == written[message["Message-ID"]]
        # Only the mail the server accepted as the worker died can go again.
        assert len(received) - len(written) <= 1
        confirmed = {str(m["To"]) for m in received}
        notified = {str(m["Reply-To"]) for m in received if m["To"] == CUSTOMER_SERVICE}
        assert set(acknowledged) <= confirmed and set(acknowledged) <= notified
    finally:
        served.close()
        sink.stop()


def get(backend: Backend, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(backend.url(path), timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def subscription(**changes) -> dict[str, str]:
    fields = {
        "name": "Ada",
        "email": "ada@example.org",
        "lang": "en",
        "page": "/newsletter/",
        "consent_text": "I agree to receive daily offers from partners.",  # forged
        "website": "",
        "token": guard.issue_token(SECRET.encode(), "newsletter"),
    }
    fields.update(changes)
    return fields


def link_in(message, purpose: str) -> str:
    for word in message.get_content().split():
        if f"/api/newsletter/{purpose}?t=" in word:
            return word[word.index("/api/") :]
    raise AssertionError(f"no {purpose} link in the mail")


def test_newsletter_double_opt_in_keeps_the_proof_and_one_click_unsubscribe_keeps_a_hash(
    backend, database_url, smtp
):
    status, headers, _ = post(backend, subscription(lang="nl"), path="/api/newsletter")
    assert (status, headers["location"]) == (303, "/api/newsletter/sent?lang=nl")
    pending = rows(database_url, "SELECT * FROM newsletter_subscribers")
    assert [(r["email"], r["confirmed_at"]) for r in pending] == [("ada@example.org", None)]
    assert backend_cli(database_url, "newsletter", "export").stdout.count("\n") == 1  # the header
    mail = wait_for(lambda: smtp.to("ada@example.org"), what="the confirmation mail")[0]
    assert mail["Subject"] == "Bevestig uw aanmelding voor de nieuwsbrief van Cloud 7"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirm = link_in(mail, "confirm")
    # Opening the link (as a mail scanner does) changes nothing; its button confirms.
    status, page = get(backend, confirm)
    assert status == 200 and "Mijn aanmelding bevestigen" in page
    assert (
        rows(database_url, "SELECT confirmed_at FROM newsletter_subscribers")[0]["confirmed_at"]
        is None
    )
    status, _, page = post(backend, {}, path=confirm)
    assert status == 200 and "U bent aangemeld" in page
    proof = rows(database_url, "SELECT * FROM newsletter_subscribers")[0]
    assert proof["confirmed_at"] > proof["asked_at"]
    # The proof holds the form's own words, never the forged text that was posted.
    assert proof["asked_text"] == consent_text("nl") != subscription()["consent_text"]
    assert proof["lang"] == "nl"

    exported = backend_cli(database_url, "newsletter", "export", "--format", "json").stdout
    exported = json.loads(exported)
    assert [(r["email"], r["lang"]) for r in exported] == [("ada@example.org", "nl")]
    csv_text = backend_cli(database_url, "newsletter", "export").stdout
    assert csv_text.splitlines()[0].startswith("email,name,lang,asked_at")

    # RFC 8058: the mail platform POSTs List-Unsubscribe=One-Click to the header's URL.
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    unsubscribe = unsubscribe[unsubscribe.index("/api/") :]
    status, _, page = post(
        backend, {}, body=b"List-Unsubscribe=One-Click", origin=None, path=unsubscribe
    )
    assert status == 200 and "U bent afgemeld" in page
    assert rows(database_url, "SELECT * FROM newsletter_subscribers") == []
    kept = rows(database_url, "SELECT * FROM newsletter_unsubscribed")
    assert len(kept) == 1 and "ada" not in json.dumps(kept)
    exported = backend_cli(database_url, "newsletter", "export", "--format", "json").stdout
    assert json.loads(exported) == []
    # The link again: nothing left to remove, and it says so.
    status, page = get(backend, unsubscribe)
    assert status == 200 and "afgemeld" in page


def test_newsletter_links_that_are_forged_or_expired_are_refused(backend, database_url):
    from backend import newsletter

    post(backend, subscription(), path="/api/newsletter")
    subscriber = rows(database_url, "SELECT id FROM newsletter_subscribers")[0]["id"]
    expired = newsletter.link_token(SECRET.encode(), "confirm", subscriber, -1)
    forged = newsletter.link_token(b"another-secret" * 3, "confirm", subscriber, 7)
    wrong_kind = newsletter.link_token(SECRET.encode(), "unsubscribe", subscriber, None)
    for token in (expired, forged, wrong_kind, "garbage"):
        status, page = get(backend, f"/api/newsletter/confirm?t={token}")
        assert status == 400 and "not valid or has expired" in page
        status, _, _ = post(backend, {}, path=f"/api/newsletter/confirm?t={token}")
        assert status == 400
    assert (
        rows(database_url, "SELECT confirmed_at FROM newsletter_subscribers")[0]["confirmed_at"]
        is None
    )


def test_newsletter_sign_up_refuses_bad_input_and_says_nothing_about_who_is_subscribed(
    backend, database_url, smtp
):
    status, _, body = post(
        backend,
        subscription(email="x@y\r\nBcc: z@example.org"),
        json_answer=True,
        path="/api/newsletter",
    )
    assert status == 400 and json.loads(body)["field"] == "email"
    status, _, _ = post(backend, subscription(website="spam"), path="/api/newsletter")
    assert status == 400
    assert rows(database_url, "SELECT id FROM newsletter_subscribers") == []
    first = post(backend, subscription(), json_answer=True, path="/api/newsletter")
    second = post(backend, subscription(), json_answer=True, path="/api/newsletter")
    assert first[0] == second[0] == 200 and first[2] == second[2]


def test_erase_removes_the_subscription_and_keeps_only_the_hash(backend, database_url, smtp):
    post(backend, subscription(), path="/api/newsletter")
    post(backend, good())
    result = backend_cli(database_url, "subject", "erase", "ada@example.org")
    assert "Erased 1 requests, 1 newsletter subscriptions" in result.stdout
    for table in ("contact_requests", "newsletter_subscribers", "outbox"):
        assert rows(database_url, f"SELECT * FROM {table}") == [], table
    assert len(rows(database_url, "SELECT * FROM newsletter_unsubscribed")) == 1
    exported = json.loads(backend_cli(database_url, "subject", "export", "ada@example.org").stdout)
    assert exported["contact_requests"] == [] and exported["newsletter"] is None
    assert exported["newsletter_unsubscribed_at"]
