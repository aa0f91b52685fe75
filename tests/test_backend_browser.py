"""The contact form in Chromium, with and without JavaScript, in English and Dutch,
reaching a real SMTP server and the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from backend.storage import Database
from tests.backend_parts import wait_for

WORDS = {
    "en": {
        "path": "/contact/",
        "quotation": "A quotation",
        "name": "Name",
        "email": "E-mail address",
        "phone": "Phone number",
        "country": "Country of residence",
        "message": "Message",
        "send": "Send request",
        "thanks": "Thank you, we have your request",
        "confirm_subject": "We have received your request",
        "missing_name": "Please fill in your name.",
    },
    "nl": {
        "path": "/nl/contact/",
        "quotation": "Een offerte",
        "name": "Naam",
        "email": "E-mailadres",
        "phone": "Telefoonnummer",
        "country": "Woonland",
        "message": "Bericht",
        "send": "Verzoek versturen",
        "thanks": "Dank u wel, we hebben uw verzoek ontvangen",
        "confirm_subject": "We hebben uw verzoek ontvangen",
        "missing_name": "Vul uw naam in.",
    },
}


def stored(url: str, email: str) -> list[dict]:
    db = Database(url)
    try:
        with db.transaction() as tx:
            return tx.query("SELECT * FROM contact_requests WHERE email = ?", (email,))
    finally:
        db.close()


def fill(page, words: dict, email: str, name: str = "Ada Lovelace") -> None:
    page.get_by_label(words["quotation"]).check()
    page.get_by_label(words["name"], exact=True).fill(name)
    page.get_by_label(words["phone"]).fill("+31 20 555 0100")
    page.get_by_label(words["email"]).fill(email)
    page.get_by_label(words["country"]).fill("Nederland")
    page.get_by_label(words["message"]).fill("Wat kost 3 nodes?\nGroet")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_with_javascript_a_request_is_sent_in_place_and_announced(new_visitor, served, smtp, lang):
    words = WORDS[lang]
    visitor = new_visitor(served)
    email = f"js-{lang}-{served.port}@example.org"
    asked = []
    visitor.page.on("request", lambda r: asked.append(r.url) if "/api/" in r.url else None)
    visitor.open(words["path"])
    assert asked == [], "a page view alone asks the backend nothing"
    fill(visitor.page, words, email)
    # The token arrives from the backend once the visitor starts on the form.
    wait_for(lambda: visitor.page.locator("input[name=token]").input_value(), what="the form token")
    visitor.page.get_by_role("button", name=words["send"]).click()
    status = visitor.page.get_by_role("status")
    status.get_by_text(words["thanks"]).wait_for()
    assert visitor.page.url.endswith(words["path"]), "no navigation"
    assert status.get_attribute("aria-live") == "polite"
    assert visitor.page.get_by_label(words["name"], exact=True).input_value() == ""
    row = stored(served.database_url, email)
    assert [(r["kind"], r["lang"], r["page"], r["country"]) for r in row] == [
        ("quotation", lang, words["path"], "Nederland")
    ]
    mail = wait_for(lambda: smtp.to(email), what="the visitor's confirmation")
    assert mail[0]["Subject"] == words["confirm_subject"]
    assert visitor.context.cookies() == [] or all(
        c["name"] == "cloud7_consent" for c in visitor.context.cookies()
    ), "the form sets no cookie"
    assert visitor.foreign_requests == [] or all(
        "google.com/maps" in url for url in visitor.foreign_requests
    )
    assert visitor.errors == []


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_without_javascript_a_request_is_confirmed_on_a_page_in_the_pages_language(
    new_visitor, served, smtp, lang
):
    words = WORDS[lang]
    visitor = new_visitor(served, java_script_enabled=False)
    email = f"nojs-{lang}-{served.port}@example.org"
    visitor.open(words["path"])
    fill(visitor.page, words, email)
    visitor.page.get_by_role("button", name=words["send"]).click()
    # No script fetched a token: the backend asks once more, with the details kept.
    visitor.page.get_by_role("alert").wait_for()
    assert stored(served.database_url, email) == []
    visitor.page.get_by_role("button", name=words["send"]).click()
    visitor.page.wait_for_url("**/contact-received/")
    assert visitor.page.locator("h1").inner_text() == words["thanks"]
    assert visitor.page.locator("html").get_attribute("lang") == lang
    assert len(stored(served.database_url, email)) == 1
    wait_for(lambda: smtp.to(email), what="the visitor's confirmation")
    notify = wait_for(
        lambda: [m for m in smtp.to("customer-service") if email in m.get_content()],
        what="the mail to customer service",
    )
    assert f"Language: {lang}" in notify[0].get_content()


def test_without_javascript_a_missing_field_is_named_in_the_pages_language(new_visitor, served):
    words = WORDS["nl"]
    visitor = new_visitor(served, java_script_enabled=False)
    visitor.open(words["path"])
    visitor.page.get_by_label(words["email"]).fill("x@example.org")
    visitor.page.locator("#name").evaluate("e => e.removeAttribute('required')")
    visitor.page.get_by_role("button", name=words["send"]).click()
    assert visitor.page.get_by_role("alert").inner_text() == words["missing_name"]


@pytest.mark.parametrize("javascript", [True, False])
def test_a_dutch_visitor_subscribes_confirms_by_the_link_and_unsubscribes(
    new_visitor, served, smtp, javascript
):
    visitor = new_visitor(served, java_script_enabled=javascript)
    email = f"news-{javascript}-{served.port}@example.org"
    page = visitor.page
    visitor.open("/nl/newsletter/")
    page.get_by_label("E-mailadres").fill(email)
    if javascript:
        wait_for(lambda: page.locator("input[name=token]").input_value(), what="the token")
    page.get_by_role("button", name="Aanmelden").click()
    if javascript:
        page.get_by_role("status").get_by_text("We hebben u een e-mail met een link").wait_for()
    else:
        page.get_by_role("button", name="Aanmelden").click()  # the token, once more
        page.get_by_role("heading", name="Kijk in uw e-mail").wait_for()
    mail = wait_for(lambda: smtp.to(email), what="the confirmation mail")[0]
    link = next(w for w in mail.get_content().split() if "/api/newsletter/confirm" in w)
    page.goto(served.url(link[link.index("/api/") :]))
    page.get_by_role("button", name="Mijn aanmelding bevestigen").click()
    page.get_by_role("heading", name="U bent aangemeld").wait_for()
    leave = mail["List-Unsubscribe"].strip("<>")
    page.goto(served.url(leave[leave.index("/api/") :]))
    page.get_by_role("button", name="Afmelden").click()
    page.get_by_role("heading", name="U bent afgemeld").wait_for()
    db = Database(served.database_url)
    with db.transaction() as tx:
        assert tx.query("SELECT 1 FROM newsletter_subscribers WHERE email = ?", (email,)) == []
    db.close()


def test_with_the_backend_unreachable_the_form_says_so_in_the_pages_language(new_visitor, served):
    words = WORDS["nl"]
    visitor = new_visitor(served)
    visitor.context.route("**/api/contact", lambda route: route.abort())
    visitor.open(words["path"])
    fill(visitor.page, words, "down@example.org")
    visitor.page.get_by_role("button", name=words["send"]).click()
    visitor.page.get_by_role("status").get_by_text(
        "We konden uw verzoek niet versturen. Probeer het over een paar minuten opnieuw, "
        "of bel ons op +31 20 555 0107."
    ).wait_for()
    assert visitor.page.get_by_role("button", name=words["send"]).is_enabled()


def test_the_form_and_the_backends_pages_pass_axe(new_visitor, served):
    from tests.conftest import axe_violations

    visitor = new_visitor(served)
    visitor.open("/contact/")
    assert axe_violations(visitor.page, iframes=False) == []
    # The backend's own page (here: send again with a fresh token), from a visitor
    # without JavaScript, checked by axe in a page that runs it.
    plain = new_visitor(served, java_script_enabled=False)
    plain.open("/contact/")
    fill(plain.page, WORDS["en"], "axe@example.org")
    plain.page.get_by_role("button", name="Send request").click()
    plain.page.get_by_role("alert").wait_for()
    visitor.page.set_content(plain.page.content())
    assert axe_violations(visitor.page, iframes=False) == []
