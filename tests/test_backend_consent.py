"""Consent receipts over real HTTP, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import csv
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from backend import rights
from backend.consent import manifests
from backend.settings import load as load_settings
from backend.storage import Database
from tests import backend_parts
from tests.backend_parts import (
    Backend,
    backend_cli,
    backend_env,
    consent_evidence,
    consent_manifest,
    killed_under_load,
)

FIRST = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def manifest_path(tmp_path) -> Path:
    return consent_manifest(tmp_path / "output" / "consent")


@pytest.fixture
def manifest(manifest_path) -> dict:
    return json.loads(manifest_path.read_text(encoding="utf-8"))


def learn(database_url: str, path: Path, evidence: Path | None = None) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        manifest = manifests.read(path)
        found = manifests.read_evidence(evidence, manifest) if evidence else None
        manifests.learn(db, manifest, found)
    finally:
        db.close()


def serve(database_url: str, **extra: str) -> Backend:
    return Backend(backend_env(database_url, BACKEND_CONSENT_RATE_LIMIT="100000", **extra))


@pytest.fixture
def backend(database_url, manifest_path):
    learn(database_url, manifest_path)
    served = serve(database_url)
    yield served
    served.close()


def cookie(
    manifest: dict,
    seq: int = 1,
    action: str = "accept",
    consent_id: str = FIRST,
    analytics: str = "1",
    embeds: str = "",
    lang: str = "en",
    moment: int | None = None,
    revision: str | None = None,
    banner: str | None = None,
) -> str:
    """A consent cookie (v2) with its p part, as consent.js writes it."""
    moment = int(time.time()) if moment is None else moment
    value = f"v2.{revision or manifest['revision']}.a{analytics}.{moment}.{consent_id}.{seq}"
    if embeds:
        value += f".e{embeds}"
    return value + f".p{action}_{lang}_{banner or manifest['banner_version']}"


def send(
    backend: Backend,
    value: str | None = None,
    path: str = "/services/",
    gpc: bool = False,
    body: bytes | None = None,
    origin: str | None = "",
    extra: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    """POST a receipt as consent.js does; status, headers, body."""
    data = body if body is not None else json.dumps({"cookie": value, "path": path, "gpc": gpc})
    headers = {"Content-Type": "application/json", **(extra or {})}
    if origin is not None:
        headers["Origin"] = origin or backend.origin
    data = data.encode() if isinstance(data, str) else data
    request = urllib.request.Request(backend.url("/api/consent"), data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return (
                answer.status,
                {k.lower(): v for k, v in answer.headers.items()},
                answer.read().decode(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()


def rows(url: str, sql: str = "SELECT * FROM consent_receipts ORDER BY consent_id, seq") -> list:
    """The receipts stored, unless another query is given."""
    return backend_parts.rows(url, sql)


def test_a_receipt_is_stored_and_answered_with_the_consent_cookie(backend, database_url, manifest):
    chosen = int(time.time()) - 100
    value = cookie(manifest, embeds="vimeo+youtube", moment=chosen)
    status, headers, body = send(backend, value, gpc=True)
    assert (status, json.loads(body)) == (200, {"ok": True})
    kept = value.rsplit(".p", 1)[0]
    max_age = manifest["cookie"]["max_age"]
    age = int(headers["set-cookie"].split("Max-Age=")[1].split(";")[0])
    assert max_age - 100 - 5 <= age <= max_age - 100  # counted from the visitor's choice
    assert headers["set-cookie"] == f"cloud7_consent={kept}; Max-Age={age}; Path=/; SameSite=Lax"
    stored = rows(database_url)
    assert len(stored) == 1
    row = stored[0]
    assert {k: row[k] for k in row if k != "received_at"} == {
        "consent_id": FIRST,
        "seq": 1,
        "action": "accept",
        "analytics": "1",
        "embeds": "vimeo+youtube",
        "revision": manifest["revision"],
        "banner": manifest["banner_version"],
        "lang": "en",
        "path": "/services/",
        "gpc": 1,
        "client_time": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(chosen)),
    }
    assert row["received_at"] > row["client_time"]
    assert "127.0.0.1" not in json.dumps(stored)


def test_the_cookie_is_secure_when_the_site_is_https(database_url, manifest_path, manifest):
    learn(database_url, manifest_path)
    served = serve(database_url, BACKEND_SITE_ORIGIN="https://www.cloud7.example")
    try:
        status, headers, _ = send(served, cookie(manifest), origin="https://www.cloud7.example")
    finally:
        served.close()
    assert status == 200 and headers["set-cookie"].endswith("; Path=/; SameSite=Lax; Secure")


def receipt(m: dict, value: str | None = None, **fields) -> str:
    """A receipt's body: a good one, with a cookie or fields changed."""
    return json.dumps({"cookie": value or cookie(m), "path": "/", "gpc": False, **fields})


NOW = int(time.time())
HOSTILE = [
    ("not json", 400, lambda m: "{not json"),
    ("not an object", 400, lambda m: '["a"]'),
    ("a key more", 400, lambda m: receipt(m, x=1)),
    ("a key less", 400, lambda m: json.dumps({"cookie": cookie(m), "path": "/"})),
    ("gpc not a boolean", 400, lambda m: receipt(m, gpc="yes")),
    ("path with a query", 400, lambda m: receipt(m, path="/?q=ada")),
    ("path not a path", 400, lambda m: receipt(m, path="https://evil.example/")),
    ("path too long", 400, lambda m: receipt(m, path="/" + "a" * 512)),
    ("no p part", 400, lambda m: receipt(m, cookie(m).rsplit(".p", 1)[0])),
    ("markup in the cookie", 400, lambda m: receipt(m, cookie(m, action="<script>"))),
    ("header injection", 400, lambda m: receipt(m, cookie(m) + "\r\nSet-Cookie: x=1")),
    ("a v1 cookie", 400, lambda m: receipt(m, "2026-12-01.a1.1796172593")),
    ("unknown language", 400, lambda m: receipt(m, cookie(m, lang="de"))),
    ("unknown provider", 400, lambda m: receipt(m, cookie(m, embeds="tracker"))),
    ("too old", 400, lambda m: receipt(m, cookie(m, moment=NOW - m["cookie"]["max_age"] - 60))),
    ("two days ahead", 400, lambda m: receipt(m, cookie(m, moment=NOW + 2 * 86400))),
    ("unknown banner", 422, lambda m: receipt(m, cookie(m, banner="abcdefabcdef"))),
    ("other revision", 422, lambda m: receipt(m, cookie(m, revision="2022-12-08"))),
    ("oversized", 413, lambda m: receipt(m, path="/" + "a" * 3000)),
]


@pytest.mark.parametrize(("case", "status", "body"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_bad_receipt_is_refused_stored_nowhere_and_echoed_nowhere(
    backend, database_url, manifest, case, status, body
):
    answer, headers, text = send(backend, body=body(manifest).encode())
    assert answer == status
    assert "set-cookie" not in headers
    assert json.loads(text)["ok"] is False
    assert FIRST not in text and manifest["banner_version"] not in text and "script" not in text
    assert FIRST not in json.dumps(headers)
    assert rows(database_url) == []


def test_a_receipt_from_another_origin_is_refused(backend, database_url, manifest):
    assert send(backend, cookie(manifest), origin="https://evil.example")[0] == 403
    assert send(backend, cookie(manifest), origin="null")[0] == 403
    assert rows(database_url) == []


def test_choices_are_stored_in_order_and_replays_and_forgeries_are_refused(
    backend, database_url, manifest
):
    first = cookie(manifest, seq=1, action="accept")
    assert send(backend, first)[0] == 200
    # The same receipt again (its acknowledgement was lost): recorded, stored once.
    status, headers, body = send(backend, first)
    assert (status, json.loads(body)) == (409, {"ok": False, "recorded": True})
    assert "set-cookie" not in headers
    # The same (id, seq) for another choice: a forgery or a reused ID.
    forged = cookie(manifest, seq=1, action="reject", analytics="0")
    status, _, body = send(backend, forged)
    assert (status, json.loads(body)) == (409, {"ok": False, "reason": "order"})
    assert send(backend, cookie(manifest, seq=3, action="withdraw", analytics="0"))[0] == 200
    # A lower seq than the highest stored, even one never seen: out of order.
    status, _, body = send(backend, cookie(manifest, seq=2, action="save", analytics="0"))
    assert (status, json.loads(body)) == (409, {"ok": False, "reason": "order"})
    stored = rows(database_url)
    assert [(r["seq"], r["action"]) for r in stored] == [(1, "accept"), (3, "withdraw")]
    counted = rows(database_url, "SELECT reason, count FROM misuse_events ORDER BY reason")
    assert [(r["reason"], r["count"]) for r in counted] == [("order", 2), ("recorded", 1)]


def test_a_flood_from_one_client_is_rate_limited_and_others_are_not(
    database_url, manifest_path, manifest
):
    learn(database_url, manifest_path)
    served = Backend(backend_env(database_url, BACKEND_CONSENT_RATE_LIMIT="3"))
    try:
        statuses = [send(served, cookie(manifest, consent_id=f"{n:032x}"))[0] for n in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        other = send(served, cookie(manifest), extra={"X-Forwarded-For": "192.0.2.7"})
        assert other[0] == 200
        # At once, as one batch or several: still 3 for the client.
        values = [cookie(manifest, consent_id=f"{n:032x}") for n in range(100, 110)]
        flood = {"X-Forwarded-For": "192.0.2.8"}
        with ThreadPoolExecutor(10) as pool:
            statuses = list(pool.map(lambda v: send(served, v, extra=flood)[0], values))
        assert sorted(statuses) == [200] * 3 + [429] * 7
    finally:
        served.close()
    assert len(rows(database_url)) == 7
    assert "192.0.2.7" not in json.dumps(rows(database_url, "SELECT * FROM rate_limits"))


def test_a_thousand_concurrent_receipts_are_a_thousand_rows(backend, database_url, manifest):
    values = [cookie(manifest, consent_id=f"{n:032x}") for n in range(1000)]
    with ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(lambda v: send(backend, v)[0], values))
    assert statuses == [200] * 1000
    assert len(rows(database_url, "SELECT consent_id FROM consent_receipts")) == 1000


def test_sigkill_under_load_loses_no_acknowledged_receipt(database_url, manifest_path, manifest):
    learn(database_url, manifest_path)
    served = serve(database_url)

    def receipt(client: int, n: int) -> str | None:
        consent_id = f"{client:08x}{n:024x}"
        status, _, _ = send(served, cookie(manifest, consent_id=consent_id))
        return consent_id if status == 200 else None

    try:
        acknowledged = killed_under_load(served, receipt, 200, "receipts")
        stored = {
            r["consent_id"] for r in rows(database_url, "SELECT consent_id FROM consent_receipts")
        }
        assert set(acknowledged) <= stored
    finally:
        served.close()


def test_learning_is_idempotent_and_a_bad_manifest_is_named(database_url, manifest_path, tmp_path):
    evidence = consent_evidence(tmp_path / "audit", manifest_path)
    first = backend_cli(
        database_url, "consent", "learn", str(manifest_path), "--evidence", str(evidence)
    )
    assert first.returncode == 0 and "with 8 screenshots" in first.stdout
    again = backend_cli(database_url, "consent", "learn", str(manifest_path))
    assert again.returncode == 0 and "Already knew" in again.stdout
    assert len(rows(database_url, "SELECT banner_version FROM consent_banners")) == 1
    assert len(rows(database_url, "SELECT file FROM consent_screenshots")) == 8
    broken = tmp_path / "broken.json"
    for text in ("{not json", '{"banner_version": "abc"}', json.dumps({"cookie": 1})):
        broken.write_text(text, encoding="utf-8")
        result = backend_cli(database_url, "consent", "learn", str(broken))
        assert result.returncode == 2 and str(broken) in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    other = consent_manifest(tmp_path / "other", revision="2027-01-01")
    result = backend_cli(database_url, "consent", "learn", str(other), "--evidence", str(evidence))
    assert result.returncode == 2 and "the evidence of banner" in result.stderr
    (evidence / "en-banner-390.png").write_bytes(b"another picture")
    result = backend_cli(
        database_url, "consent", "learn", str(manifest_path), "--evidence", str(evidence)
    )
    assert result.returncode == 2 and "en-banner-390.png" in result.stderr
    assert "SHA-256" in result.stderr and "Traceback" not in result.stderr


def test_make_serve_learns_the_manifest_of_every_build(database_url, tmp_path):
    output = tmp_path / "built"
    manifests.learn_build(Database(database_url), output)  # no manifest: nothing to learn
    path = consent_manifest(output / "consent")
    db = Database(database_url)
    try:
        manifests.learn_build(db, output)
        manifests.learn_build(db, output)
    finally:
        db.close()
    version = json.loads(path.read_text())["banner_version"]
    learnt = rows(database_url, "SELECT banner_version FROM consent_banners")
    assert learnt == [{"banner_version": version}]


def test_a_proof_shows_every_receipt_in_order_with_the_words_and_screenshots(
    database_url, manifest_path, manifest, tmp_path
):
    learn(database_url, manifest_path, consent_evidence(tmp_path / "audit", manifest_path))
    served = serve(database_url)
    try:
        assert send(served, cookie(manifest, 1, "accept", lang="nl"), path="/nl/")[0] == 200
        assert send(served, cookie(manifest, 3, "always", embeds="youtube", lang="nl"))[0] == 200
        assert send(served, cookie(manifest, 4, "withdraw", analytics="0"))[0] == 200
        assert send(served, cookie(manifest, consent_id="f" * 32))[0] == 200
    finally:
        served.close()
    out = tmp_path / "proof"
    result = backend_cli(database_url, "consent", "proof", FIRST, "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads((out / f"consent-proof-{FIRST}.json").read_text(encoding="utf-8"))
    assert [(r["seq"], r["action"]) for r in data["receipts"]] == [
        (1, "accept"),
        (3, "always"),
        (4, "withdraw"),
    ]
    assert data["missing_seq"] == [2]
    first = data["receipts"][0]
    assert first["words"].splitlines() == [
        "We gebruiken analytische cookies om bezoekers te tellen.",
        "Analytische cookies accepteren",
        "Analytische cookies weigeren",
    ]
    assert first["policy"] == manifest["policy"] and first["path"] == "/nl/"
    assert [s["file"] for s in first["screenshots"]] == [
        "nl-banner-1280.png",
        "nl-banner-390.png",
        "nl-settings-1280.png",
        "nl-settings-390.png",
    ]
    assert first["received_at"] and first["client_time"]
    page = (out / f"consent-proof-{FIRST}.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 12  # 4 per receipt, in its language
    assert 'src="http' not in page and "<link" not in page and "<script" not in page
    assert "Analytische cookies accepteren" in page and "number 2" in page
    assert "f" * 32 not in page
    unknown = backend_cli(database_url, "consent", "proof", "e" * 32)
    assert unknown.returncode == 1 and "no consent receipts with the ID" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_export_stats_and_prune(database_url, manifest_path, manifest, tmp_path):
    learn(database_url, manifest_path)
    served = serve(database_url)
    try:
        one, two, three = (f"{n:032x}" for n in (1, 2, 3))
        send(served, cookie(manifest, 1, "accept", consent_id=one))
        send(served, cookie(manifest, 2, "always", consent_id=one, embeds="youtube"))
        send(served, cookie(manifest, 3, "always", consent_id=one, embeds="vimeo+youtube"))
        send(served, cookie(manifest, 1, "reject", consent_id=two, analytics="0", lang="nl"))
        send(served, cookie(manifest, 2, "withdraw", consent_id=one, analytics="0"))  # order
        send(served, cookie(manifest, 1, "save", consent_id=three, analytics="0", lang="nl"))
    finally:
        served.close()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    out = tmp_path / "export"
    result = backend_cli(database_url, "consent", "export", "--since", today, "--out", str(out))
    assert result.returncode == 0 and "Wrote 5 receipts" in result.stdout
    with open(out / f"consent-receipts-since-{today}.csv", encoding="utf-8") as file:
        exported = list(csv.DictReader(file))
    assert sorted((r["consent_id"][-1], r["seq"], r["action"]) for r in exported) == [
        ("1", "1", "accept"),
        ("1", "2", "always"),
        ("1", "3", "always"),
        ("2", "1", "reject"),
        ("3", "1", "save"),
    ]
    as_json = json.loads((out / f"consent-receipts-since-{today}.json").read_text())
    assert len(as_json) == 5 and set(as_json[0]) == set(exported[0])
    later = backend_cli(
        database_url, "consent", "export", "--since", "2999-01-01", "--out", str(out)
    )
    assert "Wrote 0 receipts" in later.stdout
    bad = backend_cli(database_url, "consent", "export", "--since", "yesterday")
    assert bad.returncode == 2 and "'yesterday' is not a day" in bad.stderr

    page = tmp_path / "stats.html"
    result = backend_cli(database_url, "consent", "stats", "--out", str(page))
    assert result.returncode == 0
    table = [line.split() for line in result.stdout.splitlines()[:3]]
    assert table == [
        ["day", "lang", "accept", "reject", "withdraw", "save", "always", "google-maps",
         "always", "vimeo", "always", "youtube"],
        [today, "en", "1", "0", "0", "0", "0", "1", "1"],
        [today, "nl", "0", "1", "0", "1", "0", "0", "0"],
    ]  # fmt: skip
    html = page.read_text(encoding="utf-8")
    assert '<svg role="img" aria-labelledby="chart-title chart-desc"' in html
    assert "<caption>Choices per day and language</caption>" in html
    assert "1 accept, 1 reject, 0 withdraw, 1 save" in html
    assert one not in html and one not in result.stdout

    db = Database(database_url)
    try:
        manifests.learn(db, manifests.read(consent_manifest(tmp_path / "old", revision="2022")))
        with db.transaction() as tx:
            tx.execute(
                "UPDATE consent_receipts SET received_at = '2020-01-01T00:00:00.000000Z'"
                " WHERE consent_id = ?",
                (two,),
            )
            tx.execute("UPDATE consent_banners SET learnt_at = '2020-01-01T00:00:00.000000Z'")
        retention = load_settings({}, dev=True).retention
        assert retention.consent_days == 1095
        pruned = rights.prune(db, retention)
    finally:
        db.close()
    assert pruned["consent receipts"] == 1
    assert pruned["banner manifests"] == 1  # the old one no receipt refers to
    assert len(rows(database_url)) == 4
    kept = rows(database_url, "SELECT banner_version FROM consent_banners")
    assert kept == [{"banner_version": manifest["banner_version"]}]


def test_a_batch_is_stored_as_its_receipts_one_after_another_would_be(
    database_url, manifest_path, manifest
):
    from backend.consent import receipts

    learn(database_url, manifest_path)
    db = Database(database_url)
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    batch = [
        (a, 1, "accept"),
        (b, 1, "reject"),
        (a, 3, "withdraw"),
        (a, 2, "save"),  # after 3 in the same batch: out of order
        (b, 1, "reject"),  # the same again: recorded
        (c, 1, "accept"),
    ]
    try:
        parsed = [
            receipts.parse(receipt(manifest, cookie(manifest, seq, action, consent_id=i)).encode(),
                           manifests.Learnt(db))
            for i, seq, action in batch
        ]  # fmt: skip
        # The same receipt again, byte for byte (its cookie made in another second would
        # hold another time, a different receipt).
        parsed[4] = parsed[1]
        with db.transaction() as tx:
            outcomes = receipts.store_all(tx, parsed)
    finally:
        db.close()
    assert outcomes == ["stored", "stored", "stored", "order", "recorded", "stored"]
    stored = [(r["consent_id"][0], r["seq"]) for r in rows(database_url)]
    assert stored == [("a", 1), ("a", 3), ("b", 1), ("c", 1)]
