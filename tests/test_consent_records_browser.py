"""Consent records end to end: Chromium against the real backend serving the built site,
on SQLite and PostgreSQL. Each choice is one stored receipt, in order, with the build's
banner version; the consent cookie ends up as the backend's Set-Cookie, with its full
lifetime; the proof shows what the visitor saw and the statistics count it."""

from __future__ import annotations

import json
import time

import pytest

from backend.storage import Database
from tests.backend_parts import backend_cli
from tests.conftest import RECEIPTS_PATH, manifest_of, text

COOKIE = "cloud7_consent"
WEBINAR = "/news/watch-the-recording-of-our-managed-kubernetes-webinar/"


@pytest.fixture(scope="module")
def served_site(receipts_site):
    """The backend serves the site built on a day its policy declares consent records."""
    return receipts_site


def receipts_of(url: str, consent_id: str) -> list[dict]:
    db = Database(url)
    try:
        with db.transaction() as tx:
            return tx.query(
                "SELECT * FROM consent_receipts WHERE consent_id = ? ORDER BY seq", (consent_id,)
            )
    finally:
        db.close()


def choose(visitor, do) -> dict:
    """Make a choice and return the backend's answer to its receipt: status, Set-Cookie."""
    with visitor.page.expect_response(lambda r: r.url.endswith(RECEIPTS_PATH)) as answer:
        do()
    response = answer.value
    return {"status": response.status, "set-cookie": response.header_value("set-cookie") or ""}


def save_settings(visitor, analytics: bool) -> None:
    visitor.click(text("settings"))
    visitor.page.get_by_label(text("analytics_label")).set_checked(analytics)
    visitor.click(text("save"))


def jar_cookie(visitor) -> dict:
    return next(c for c in visitor.context.cookies() if c["name"] == COOKIE)


def test_each_choice_is_stored_in_order_and_the_backend_sets_the_cookie(
    new_visitor, served, receipts_site, tmp_path
):
    manifest = manifest_of(receipts_site)
    visitor = new_visitor(served)
    visitor.open("/")
    answers = [choose(visitor, lambda: visitor.click(text("accept")))]
    visitor.open(WEBINAR)
    always = text("embed_always", provider="YouTube")
    answers.append(choose(visitor, lambda: visitor.click(always)))
    visitor.open("/services/")
    answers.append(choose(visitor, lambda: save_settings(visitor, analytics=False)))

    # Every receipt was taken, and answered with the consent cookie as the backend's own.
    assert [a["status"] for a in answers] == [200, 200, 200]
    for answer in answers:
        assert answer["set-cookie"].startswith(f"{COOKIE}=v2."), answer
        assert "; Path=/" in answer["set-cookie"] and "SameSite=Lax" in answer["set-cookie"]
        assert ".p" not in answer["set-cookie"].split(";")[0]
    cookie = jar_cookie(visitor)
    assert cookie["value"] == answers[-1]["set-cookie"].split(";")[0].split("=", 1)[1]
    lifetime = cookie["expires"] - time.time()
    assert manifest["cookie"]["max_age"] - 600 < lifetime <= manifest["cookie"]["max_age"]
    consent_id = cookie["value"].split(".")[4]

    rows = receipts_of(served.database_url, consent_id)
    assert [(r["seq"], r["action"], r["analytics"], r["embeds"], r["path"]) for r in rows] == [
        (1, "accept", "1", "", "/"),
        (2, "always", "1", "youtube", WEBINAR),
        (3, "withdraw", "0", "youtube", "/services/"),
    ]
    assert {(r["banner"], r["lang"], r["revision"]) for r in rows} == {
        (manifest["banner_version"], "en", manifest["revision"])
    }
    assert all(r["received_at"] >= r["client_time"][:16] for r in rows)
    visitor.open("/")  # nothing is sent again: every receipt was acknowledged
    assert len(receipts_of(served.database_url, consent_id)) == 3
    assert visitor.errors == []

    # The proof holds every receipt with the words the visitor saw and the policy in force.
    proof = backend_cli(served.database_url, "consent", "proof", consent_id, "--out", str(tmp_path))
    assert proof.returncode == 0, proof.stderr
    data = json.loads((tmp_path / f"consent-proof-{consent_id}.json").read_text())
    assert [r["action"] for r in data["receipts"]] == ["accept", "always", "withdraw"]
    page = (tmp_path / f"consent-proof-{consent_id}.html").read_text()
    assert text("accept") in page and manifest["policy"]["sha256"] in page
    assert 'src="http' not in page and "<link" not in page  # self-contained


def test_a_rejection_in_dutch_is_stored_and_counted(new_visitor, served, receipts_site, tmp_path):
    visitor = new_visitor(served)
    visitor.open("/nl/")
    answer = choose(visitor, lambda: visitor.click(text("reject", "nl")))
    assert answer["status"] == 200
    consent_id = jar_cookie(visitor)["value"].split(".")[4]
    (row,) = receipts_of(served.database_url, consent_id)
    assert (row["action"], row["analytics"], row["lang"], row["path"]) == (
        "reject",
        "0",
        "nl",
        "/nl/",
    )
    stats = tmp_path / "stats.html"
    printed = backend_cli(served.database_url, "consent", "stats", "--out", str(stats)).stdout
    assert "reject" in printed and consent_id not in printed
    assert consent_id not in stats.read_text()
