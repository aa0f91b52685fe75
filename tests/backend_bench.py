"""The backend's figures for `make bench`: form posts per second with p50/p99 latency on
SQLite and PostgreSQL, one instance's memory, and the time to send 1,000 queued mails.

The load generator talks only to 127.0.0.1 and stops by itself after a few seconds.
Run alone with `python -m tests.backend_bench`.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from backend import contact, guard, outbox
from backend.consent import manifests
from backend.storage import Database
from tests.backend_parts import (
    SECRET,
    Backend,
    Postgres,
    SmtpSink,
    backend_env,
    consent_manifest,
)

SECONDS = float(os.environ.get("BENCH_BACKEND_SECONDS", "5"))
CLIENTS = 8
MAILS = 1000


def fields(number: int) -> bytes:
    return urllib.parse.urlencode(
        {
            "request": "callback",
            "name": "Bench Visitor",
            "phone": "+31 20 555 0100",
            "email": f"bench-{number}@example.org",
            "country": "Netherlands",
            "message": "Please call me.",
            "lang": "en",
            "page": "/contact/",
            "website": "",
            "token": guard.issue_token(SECRET.encode(), "contact"),
        }
    ).encode()


def load(
    port: int, path: str, content_type: str, body: Callable[[int], str | bytes], ok: int
) -> dict:
    """CLIENTS keep-alive connections posting to `path` for SECONDS, as fast as they are
    answered, each post `body(n)` for a new n; `ok` is the status that acknowledges one."""
    latencies: list[float] = []
    acknowledged = 0
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS
    counter = iter(range(10**9))
    headers = {"Content-Type": content_type, "Origin": f"http://127.0.0.1:{port}"}

    def client() -> None:
        nonlocal acknowledged
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        acknowledged_here = 0
        while time.monotonic() < deadline:
            data = body(next(counter))
            started = time.perf_counter()
            connection.request("POST", path, data, headers)
            answer = connection.getresponse()
            answer.read()
            mine.append(time.perf_counter() - started)
            acknowledged_here += answer.status == ok
        connection.close()
        with lock:
            latencies.extend(mine)
            acknowledged += acknowledged_here

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "acknowledged": acknowledged,
        "per_second": acknowledged / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rss_mb": int(values["VmRSS"].split()[0]) / 1024,
        "peak_rss_mb": int(values["VmHWM"].split()[0]) / 1024,
    }


def stored(url: str, table: str) -> int:
    db = Database(url)
    with db.transaction() as tx:
        count = tx.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
    db.close()
    return count


def posts(url: str, sink: SmtpSink) -> dict:
    env = backend_env(url, sink.url, BACKEND_RATE_LIMIT="100000000")
    served = Backend(env)
    try:
        before = cpu_seconds(served.process.pid)
        form = "application/x-www-form-urlencoded"
        figures = load(served.port, "/api/contact", form, fields, 303)
        # The server's own CPU per post moves less with a busy machine than the rate does.
        used = cpu_seconds(served.process.pid) - before
        figures["server_cpu_ms_per_post"] = 1000 * used / max(1, figures["requests"])
        figures |= rss_mb(served.process.pid)
    finally:
        served.close()
    figures["durable"] = stored(url, "contact_requests") == figures["acknowledged"]
    return figures


def queued_mails(url: str, sink: SmtpSink) -> dict:
    """MAILS mails in the outbox, then sent to a local SMTP server by one worker."""
    from backend.settings import load as load_settings

    db = Database(url)
    db.migrate()
    config = load_settings(backend_env(url, sink.url))
    request = contact.parse(json.loads(json.dumps({"name": "Q", "email": "q@example.org"})))
    for _ in range(MAILS // 2):
        with db.transaction() as tx:
            contact.store(tx, config, request)
    sink.clear()
    started = time.perf_counter()
    sent = 0
    while sent < MAILS:
        sent += outbox.send_due(db, outbox.SmtpServer(sink.url, config.mail_from), 1000).sent
    seconds = time.perf_counter() - started
    db.close()
    return {"mails": MAILS, "seconds": seconds, "received": len(sink.messages)}


def receipt(manifest: dict) -> Callable[[int], str]:
    """The body of a consent receipt as consent.js sends it, the nth for a new consent ID."""
    start = f"v2.{manifest['revision']}.a1"
    end = f"1.paccept_en_{manifest['banner_version']}"

    def body(number: int) -> str:
        value = f"{start}.{int(time.time())}.{number:032x}.{end}"
        return json.dumps({"cookie": value, "path": "/", "gpc": False})

    return body


def receipts(url: str, folder: Path) -> dict:
    """Consent receipts against one database: sustained rate, latency, durability."""
    path = consent_manifest(folder / "consent")
    db = Database(url)
    db.migrate()
    manifests.learn(db, manifests.read(path))
    db.close()
    served = Backend(backend_env(url, BACKEND_CONSENT_RATE_LIMIT="100000000"))
    try:
        body = receipt(json.loads(path.read_text()))
        figures = load(served.port, "/api/consent", "application/json", body, 200)
    finally:
        served.close()
    figures["durable"] = stored(url, "consent_receipts") == figures["acknowledged"]
    return figures


def receipt_figures(cluster: Postgres, tmp: str) -> dict:
    return {
        "sqlite": receipts(f"sqlite:///{tmp}/receipts.sqlite3", Path(tmp)),
        "postgresql": receipts(cluster.fresh_database(), Path(tmp)),
    }


def receipt_rows(results: dict) -> list[tuple[str, str, str]]:
    return [
        (
            f"backend consent receipts, {name} ({CLIENTS} clients, {SECONDS:.0f} s)",
            f"{r['per_second']:.0f} receipts/s, p50 {r['p50_ms']:.1f} ms, p99 "
            f"{r['p99_ms']:.1f} ms; {'every' if r['durable'] else 'NOT every'} "
            "acknowledged receipt stored",
            "≥ 1,000 receipts/s, p99 ≤ 50 ms",
        )
        for name, r in results.items()
    ]


def backend_figures() -> dict:
    sink = SmtpSink()
    cluster = Postgres()
    results = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, url in (
                ("sqlite", f"sqlite:///{tmp}/bench.sqlite3"),
                ("postgresql", cluster.fresh_database()),
            ):
                results[name] = posts(url, sink)
                mail_url = (
                    f"sqlite:///{tmp}/mail.sqlite3"
                    if name == "sqlite"
                    else cluster.fresh_database()
                )
                results[name]["queued_mails"] = queued_mails(mail_url, sink)
            for name, figures in receipt_figures(cluster, tmp).items():
                results[name]["receipts"] = figures
    finally:
        cluster.close()
        sink.stop()
    return results


def rows(results: dict) -> list[tuple[str, str, str]]:
    """The table rows for `make bench`."""
    found = receipt_rows({name: r["receipts"] for name, r in results.items()})
    for name, r in results.items():
        found.append(
            (
                f"backend form posts, {name} ({CLIENTS} clients, {SECONDS:.0f} s)",
                f"{r['per_second']:.0f} posts/s, p50 {r['p50_ms']:.1f} ms, p99 "
                f"{r['p99_ms']:.1f} ms, server {r['server_cpu_ms_per_post']:.2f} CPU ms a post; "
                f"{'every' if r['durable'] else 'NOT every'} acknowledged post stored",
                "≥ 300 posts/s, p99 ≤ 50 ms",
            )
        )
        found.append(
            (
                f"backend memory, {name}",
                f"{r['rss_mb']:.0f} MB RSS after the load (peak {r['peak_rss_mb']:.0f} MB)",
                "≤ 100 MB",
            )
        )
        q = r["queued_mails"]
        found.append(
            (
                f"send {q['mails']:,} queued mails, {name}, local SMTP",
                f"{q['seconds']:.1f} s ({q['received']:,} received)",
                "as fast as the mail server takes them",
            )
        )
    return found


if __name__ == "__main__":
    figures = backend_figures()
    print(json.dumps(figures, indent=2))
    for row in rows(figures):
        print(" | ".join(row))
