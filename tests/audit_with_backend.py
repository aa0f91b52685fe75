"""`make audit`: the cookie audit with the real backend answering the site's /api/.

    PYTHONPATH=.:plugins python tests/audit_with_backend.py [SITE_DIR] [cookie audit options]

Starts `python -m backend serve` on a free loopback port with a throwaway SQLite
database and secret, learns the site's banner manifest (so its consent receipts are
taken and answered with the backend's Set-Cookie), runs `python -m cookie_audit` with
`--api` pointed at it, and stops the backend whatever happens. It lives beside
backend_parts, whose Backend the tests start the same way: the audit itself stays
generic (any backend behind `--api`).
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cookie_audit.__main__ import main as audit_main
from cookie_audit.__main__ import parse_args
from cookie_audit.evidence import MANIFEST
from tests.backend_parts import ROOT, Backend, backend_env


class BackendUnavailable(Exception):
    """The backend could not learn the manifest or never answered its health URL."""


@contextmanager
def backend_for(site: Path) -> Iterator[str]:
    """A fresh backend that knows `site`'s banner version; yields its URL for `--api`."""
    with tempfile.TemporaryDirectory(prefix="audit-backend-") as tmp:
        env = backend_env(
            f"sqlite:///{tmp}/backend.sqlite3",
            BACKEND_SECRET=secrets.token_hex(32),
            BACKEND_MAIL_DIR=f"{tmp}/mail",
        )
        # The Origin check compares the browser's Origin with the Host it sent, which the
        # audit's SiteServer passes on: no BACKEND_SITE_ORIGIN needed for its random port.
        try:
            if (site / MANIFEST).is_file():
                learn = [sys.executable, "-m", "backend", "consent", "learn", str(site / MANIFEST)]
                subprocess.run(learn, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
            backend = Backend(env)  # waits on /api/health; stops the backend if it never answers
        except (subprocess.CalledProcessError, AssertionError) as error:
            raise BackendUnavailable(str(error)) from error
        try:
            yield backend.url("")
        finally:
            backend.close()


def main(argv: list[str]) -> int:
    site = parse_args(argv).site  # the audit's own reading of its arguments
    try:
        with backend_for(site) as api:
            return audit_main([*argv, "--api", api])
    except BackendUnavailable as error:
        print(f"cookie audit: cannot run: the backend: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
