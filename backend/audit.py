"""`python -m backend audit [SITE_DIR] [cookie audit options]`: `make audit`, the cookie
audit with this backend answering the site's /api/.

The backend runs in a thread of this process, on a free loopback port, with a throwaway
SQLite database and secret; it has learnt the site's banner manifest, so the site's
consent receipts are taken and answered with the backend's Set-Cookie. The audit runs
with `--api` pointed at it, and the backend stops whatever happens. The audit itself
stays generic (any backend behind `--api`): it knows nothing of this package.
"""

from __future__ import annotations

import secrets
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from backend import settings
from backend.app import create_app
from backend.consent import manifests
from backend.storage import Database
from cookie_audit.__main__ import main as audit_main
from cookie_audit.__main__ import parse_args
from cookie_audit.evidence import MANIFEST


@contextmanager
def backend_for(site: Path) -> Iterator[str]:
    """A fresh backend that knows `site`'s banner version; yields its URL for `--api`.

    Raises manifests.ManifestError for a banner manifest it cannot learn.
    """
    with tempfile.TemporaryDirectory(prefix="audit-backend-") as tmp:
        # Nothing from the environment: the audit's backend is never a real one. The
        # Origin check compares the browser's Origin with the Host it sent, which the
        # audit's SiteServer passes on, so no BACKEND_SITE_ORIGIN for its random port.
        config = settings.load(
            {
                "BACKEND_DATABASE_URL": f"sqlite:///{tmp}/backend.sqlite3",
                "BACKEND_SECRET": secrets.token_hex(32),
                "BACKEND_MAIL_DIR": f"{tmp}/mail",
            }
        )
        db = Database(config.database_url)
        try:
            db.migrate()
            if (site / MANIFEST).is_file():
                manifests.learn(db, manifests.read(site / MANIFEST))
        finally:
            db.close()
        # The socket listens before the server starts, so no wait for it is needed: the
        # audit's first request waits in its backlog. It closes when the server ends, so
        # a server that failed to start refuses requests instead of leaving them waiting.
        listening = socket.create_server(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{listening.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning"))

        def serve() -> None:
            try:
                server.run(sockets=[listening])
            finally:
                listening.close()

        thread = threading.Thread(target=serve, name="audit-backend")
        thread.start()
        try:
            yield url
        finally:
            server.should_exit = True
            thread.join()


def main(argv: list[str]) -> int:
    """`python -m backend audit ARGS`: ARGS are `python -m cookie_audit`'s."""
    site = parse_args(argv).site  # the audit's own reading of its arguments
    try:
        with backend_for(site) as api:
            return audit_main([*argv, "--api", api])
    except manifests.ManifestError as error:
        print(f"cookie audit: cannot run: the backend: {error}", file=sys.stderr)
        return 2
