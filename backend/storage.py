"""One small database layer for SQLite and PostgreSQL, and the migrations that shape it.

The SQL is written once, with `?` placeholders, in the subset both databases speak
(TEXT and BIGINT columns, ids and times made in Python, `ON CONFLICT … DO UPDATE`,
`RETURNING`). The migrations in `backend/migrations/NNNN_name.sql` are applied in order
by the backend itself (`python -m backend migrate`, and on every start), each in its own
transaction, and recorded in `schema_migrations`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger("backend.storage")
MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseUnavailable(Exception):
    """The database cannot be reached or is busy; nothing was written."""


def now() -> str:
    """The time as stored: ISO 8601 in UTC with microseconds, so it sorts as text."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def at(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Transaction:
    """The statements of one transaction; `?` placeholders in every dialect."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self._connection = connection
        self._dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._dialect == "postgresql" else sql

    def execute(self, sql: str, params: tuple | list = ()) -> int:
        """Run a statement; the number of rows it changed."""
        return self._connection.execute(self._sql(sql), params).rowcount

    def query(self, sql: str, params: tuple | list = ()) -> list[dict[str, Any]]:
        cursor = self._connection.execute(self._sql(sql), params)
        if cursor.description is None:
            return []
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Database:
    """A database named by a URL: `sqlite:///path` or `postgresql://…`.

    Each thread keeps one connection; a connection that failed is dropped, so the next
    use reconnects once the database is back.
    """

    def __init__(self, url: str, timeout: float = 5) -> None:
        self.url = url
        self.timeout = timeout  # how long to wait for a busy or unreachable database
        parts = urlsplit(url)
        self.dialect = "sqlite" if parts.scheme == "sqlite" else "postgresql"
        if self.dialect == "sqlite":
            # sqlite:///var/x.db is relative, sqlite:////abs/x.db absolute (SQLAlchemy's form).
            self.path = Path(unquote(parts.path[1:] if parts.path.startswith("/") else parts.path))
        self._local = threading.local()
        self._writer = threading.Lock()

    def describe(self) -> str:
        """The URL without its password, for messages."""
        parts = urlsplit(self.url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return parts._replace(netloc=netloc).geturl()
        return self.url

    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=self.timeout
            )
            connection.execute("PRAGMA journal_mode=WAL")
            # synchronous=FULL per transaction (see transaction()): a post acknowledged to
            # the visitor survives a power cut, not only a crash.
            connection.execute("PRAGMA foreign_keys=ON")
            return connection
        import psycopg

        return psycopg.connect(self.url, connect_timeout=max(1, round(self.timeout)))

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = self._connect()
            except (sqlite3.Error, OSError) as error:
                raise DatabaseUnavailable(f"{self.describe()}: {error}") from None
            except Exception as error:
                if _is_psycopg_error(error):
                    kind = type(error).__name__
                    raise DatabaseUnavailable(f"{self.describe()}: {kind}") from None
                raise
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            # A broken connection may refuse even to close.
            with contextlib.suppress(Exception):
                connection.close()

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back if it raises.

        `durable=False` is for bookkeeping whose loss in a power cut only repeats work
        (a mail marked sent is sent again): its commit does not wait for the disk.
        """
        connection = self._connection()
        # SQLite has one writer at a time; queueing writers here is fairer and far faster
        # than SQLite's own busy wait, which sleeps and retries.
        lock = self._writer if self.dialect == "sqlite" else contextlib.nullcontext()
        with lock:
            yield from self._transaction(connection, durable)

    def _transaction(self, connection: Any, durable: bool) -> Iterator[Transaction]:
        try:
            if self.dialect == "sqlite":
                connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                # IMMEDIATE takes the write lock up front, so two writers never deadlock.
                connection.execute("BEGIN IMMEDIATE")
            elif not durable:
                connection.execute("SET LOCAL synchronous_commit = off")
            yield Transaction(connection, self.dialect)
            connection.commit() if self.dialect == "postgresql" else connection.execute("COMMIT")
        except BaseException as error:
            try:
                connection.rollback()
            except Exception:
                self._drop()
            unavailable = _is_psycopg_error(error) or (
                isinstance(error, sqlite3.OperationalError)
                and ("locked" in str(error) or "open" in str(error))
            )
            if unavailable:
                self._drop()
                raise DatabaseUnavailable(f"{self.describe()}: {error}") from None
            raise

    def close(self) -> None:
        self._drop()

    def migrate(self) -> list[str]:
        """Apply the migrations not applied yet, in order; the names applied."""
        applied = []
        with self.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        for path in sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")):
            version = int(path.name[:4])
            with self.transaction() as tx:
                if self.dialect == "postgresql":
                    # Instances starting together: one migrates, the others wait for it.
                    tx.execute("SELECT pg_advisory_xact_lock(7077)")
                done = tx.query("SELECT 1 FROM schema_migrations WHERE version = ?", (version,))
                if done:
                    continue
                for statement in _statements(path.read_text(encoding="utf-8")):
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, path.stem, now()),
                )
                applied.append(path.stem)
                log.info("applied migration %s", path.stem)
        return applied

    def schema_version(self) -> int:
        with self.transaction() as tx:
            rows = tx.query("SELECT MAX(version) AS version FROM schema_migrations")
        return rows[0]["version"] or 0


def _is_psycopg_error(error: BaseException) -> bool:
    module = type(error).__module__
    return module.startswith("psycopg") and type(error).__name__ in {
        "OperationalError",
        "InterfaceError",
        "AdminShutdown",
        "ConnectionTimeout",
    }


def _statements(script: str) -> list[str]:
    """A migration's statements: split at `;` at a line's end, comments removed."""
    script = re.sub(r"--[^\n]*", "", script)
    return [s.strip() for s in re.split(r";\s*$", script, flags=re.M) if s.strip()]
