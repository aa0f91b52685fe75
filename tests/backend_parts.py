"""Real parts for the backend's tests: a PostgreSQL cluster, an SMTP server, the backend,
and the fixtures that start them (tests/conftest.py offers them to every test module).

Each is started on the loopback interface for the tests and stopped after them; waits
are on events (a port that answers, a mail that arrived), never fixed sleeps.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import glob
import http.client
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from pelican.plugins.consent_banner.manifest import record_pattern

from backend.storage import Database
from cookie_audit.sandbox import SITE_HOST

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-" + "x" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds: float = 20, what: str = "condition"):
    """Poll a condition until it holds; fail naming it when it never does."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class Postgres:
    """A throwaway PostgreSQL cluster in a temporary folder, on a free loopback port.

    As root it runs as the `postgres` user (PostgreSQL refuses to run as root).
    """

    def __init__(self) -> None:
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
        self.folder = Path(tempfile.mkdtemp(prefix="backend-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.start()

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.folder)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=on"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"t{os.urandom(6).hex()}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every mail it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._controller = None
        self.start()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in m["To"]]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()


def backend_env(database_url: str, smtp_url: str = "", **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "BACKEND_DATABASE_URL": database_url,
        "BACKEND_SMTP_URL": smtp_url,
        "BACKEND_SECRET": SECRET,
        "BACKEND_SITE_URL": "http://www.example.test",
        "BACKEND_NOTIFY_TO": "customer-service@cloud7.example",
        "BACKEND_FORM_MIN_SECONDS": "0",
        "BACKEND_MAIL_POLL_SECONDS": "0.2",
        "BACKEND_MAIL_RETRY_SECONDS": "0.2",
        "BACKEND_MAIL_LEASE_SECONDS": "2",
    }
    env.update(extra)
    return env


class Backend:
    """`python -m backend serve` in a child process, on a free port."""

    def __init__(self, env: dict[str, str], *args: str, cwd: Path = ROOT) -> None:
        self.env = env
        self.args = args
        self.cwd = cwd
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        command = [sys.executable, "-m", "backend", "serve", "--port", str(self.port), *self.args]
        self.process = subprocess.Popen(
            command, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            wait_for(self._healthy, 30, f"the backend on port {self.port} answering")
        except BaseException:
            self.close()  # one that never answered is not left running
            raise

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            output = self.process.stdout.read().decode()
            raise AssertionError(f"the backend exited: {output}")
        try:
            with urllib.request.urlopen(self.url("/api/health"), timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        """A URL of the backend; browser tests pass the site's host (www.example.test)."""
        return f"http://{host}:{self.port}{path}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process and self.process.stdout:
            self.process.stdout.close()


def killed_under_load(
    served: Backend, send: Callable[[int, int], str | None], enough: int, what: str
) -> list[str]:
    """Four clients send to `served` until `enough` are acknowledged; then it is killed
    (SIGKILL) in mid-load and started again on the same database. `send(client, n)` sends
    a client's nth and returns its key if acknowledged (None if not); returns the keys of
    all that were acknowledged."""
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        sent = 0
        while not stop.is_set():
            try:
                key = send(number, sent)
            except (OSError, http.client.HTTPException):
                return  # the backend is gone
            sent += 1
            if key is not None:
                with lock:
                    acknowledged.append(key)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    try:
        for thread in clients:
            thread.start()
        wait_for(lambda: len(acknowledged) >= enough, 60, f"{enough} acknowledged {what}")
        served.kill()
    finally:
        stop.set()
        for thread in clients:
            thread.join(20)
    served.start()
    return acknowledged


def backend_cli(database_url: str, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """`python -m backend ARGS` as staff run it, against `database_url`; `extra` changes
    its environment (backend_env). Its output as text, whatever its exit code."""
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        cwd=ROOT,
        env=backend_env(database_url, **extra),
        capture_output=True,
        text=True,
    )


# The consent cookie's grammar, read from consent.js as the build reads it.
CONSENT_PATTERN = record_pattern((ROOT / "consent_js" / "consent.js").read_text(encoding="utf-8"))


def consent_manifest(folder: Path, **changes) -> Path:
    """A banner manifest as the build writes it (output/consent/banner.json), in `folder`.

    The one place the backend's tests get a manifest from: once the build writes
    output/consent/banner.json, build the site here and return that file instead.
    """
    import hashlib
    import json

    banner = {
        "en": '<div class="consent-banner" role="region" aria-label="Cookies on Cloud 7">'
        "<p>We use analytics cookies to count visitors.</p>"
        "<button>Accept analytics cookies</button><button>Reject analytics cookies</button>"
        "</div>",
        "nl": '<div class="consent-banner" role="region" aria-label="Cookies op Cloud 7">'
        "<p>We gebruiken analytische cookies om bezoekers te tellen.</p>"
        "<button>Analytische cookies accepteren</button>"
        "<button>Analytische cookies weigeren</button></div>",
    }
    manifest = {
        "built_at": "2026-12-15T12:00:00Z",
        "site_url": "http://www.example.test",
        "revision": "2026-12-01",
        "policy": {
            "version": "2026-12-01",
            "url": "http://www.example.test/privacy-policy/2026-12-01/",
            "sha256": hashlib.sha256(b"the policy of 2026-12-01").hexdigest(),
        },
        "cookie": {"name": "cloud7_consent", "max_age": 15778800, "pattern": CONSENT_PATTERN},
        "languages": ["en", "nl"],
        "providers": ["google-maps", "vimeo", "youtube"],
        "banner": banner,
    }
    manifest.update(changes)
    manifest["inputs"] = {
        f"banner-{lang}": hashlib.sha256(markup.encode()).hexdigest()
        for lang, markup in manifest["banner"].items()
    } | {"settings": hashlib.sha256(manifest["revision"].encode()).hexdigest()}
    manifest.setdefault(
        "banner_version",
        hashlib.sha256(json.dumps(manifest["inputs"], sort_keys=True).encode()).hexdigest()[:12],
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "banner.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def consent_evidence(folder: Path, manifest_path: Path) -> Path:
    """The evidence `make audit` keeps of a banner version (docs/cookie-audit.md): tiny PNGs."""
    import hashlib
    import json
    import struct
    import zlib

    def png(shade: int) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return (
                struct.pack(">I", len(data))
                + kind
                + data
                + struct.pack(">I", zlib.crc32(kind + data))
            )

        header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes([0, shade])))
            + chunk(b"IEND", b"")
        )

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    version = manifest["banner_version"]
    here = folder / "evidence" / version
    here.mkdir(parents=True, exist_ok=True)
    (here / "banner.json").write_bytes(manifest_path.read_bytes())
    shots = []
    for shade, (lang, layer, width) in enumerate(
        (lang, layer, width)
        for lang in manifest["languages"]
        for layer in ("banner", "settings")
        for width in (390, 1280)
    ):
        name = f"{lang}-{layer}-{width}.png"
        data = png(shade * 16)
        (here / name).write_bytes(data)
        shots.append(
            {
                "file": name,
                "lang": lang,
                "layer": layer,
                "width": width,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    evidence = {
        "banner_version": version,
        "manifest_sha256": hashlib.sha256(manifest_path.read_bytes()).hexdigest(),
        "taken_at": "2026-12-15T12:30:00Z",
        "shots": shots,
    }
    (here / "evidence.json").write_text(json.dumps(evidence, indent=2), encoding="utf-8")
    return here


# Fixtures


@pytest.fixture(scope="module")
def postgres():
    cluster = Postgres()
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def smtp():
    sink = SmtpSink()
    yield sink
    sink.stop()


DATABASES = ["sqlite", "postgresql"]


def fresh_database(request: pytest.FixtureRequest, folder: Path) -> str:
    """A new empty database of the kind the fixture's parameter names (DATABASES): its URL."""
    if request.param == "sqlite":
        return f"sqlite:///{folder}/backend.sqlite3"
    return request.getfixturevalue("postgres").fresh_database()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    return fresh_database(request, tmp_path)


@pytest.fixture(scope="module")
def served_site(site):
    """The built site `served` serves; a test module overrides it to serve another build."""
    return site


@pytest.fixture(scope="module", params=DATABASES)
def served(request, served_site, smtp, tmp_path_factory):
    """The backend serving `served_site` as the browser tests reach it (the site's host),
    on each database, its mail going to `smtp`; `.database_url` is its database."""
    url = fresh_database(request, tmp_path_factory.mktemp("db"))
    backend = Backend(backend_env(url, smtp.url), "--static", str(served_site))
    backend.database_url = url
    plain_url = backend.url
    backend.url = lambda path="/", host=SITE_HOST: plain_url(path, host)
    yield backend
    backend.close()


def rows(url: str, sql: str) -> list[dict]:
    """The rows a query finds in the database at url, read in a connection of its own."""
    db = Database(url)
    try:
        with db.transaction() as tx:
            return tx.query(sql)
    finally:
        db.close()
