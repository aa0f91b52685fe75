"""`make serve`: the built site and the backend on one origin, rebuilt on every change.

One process: uvicorn serves the backend under `/api/` and `output/` for everything
else, and a thread rebuilds the site with Pelican (as `make build` does, into a scratch
folder swapped in) whenever content, theme, plugins or settings change. While the last
rebuild failed, every page answers with that build's message instead of the stale
page, and the next good rebuild clears it. The process ends when whoever started it
(make) ends, so stopping make stops everything.
"""

from __future__ import annotations

import contextlib
import ctypes
import html
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

log = logging.getLogger("backend.devserver")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WATCHED = ("theme", "plugins", "pelicanconf.py", "consent_js")
PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to signal this process when its parent ends (no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)


def watch_parent() -> None:
    """Where prctl is unavailable: end this process when its parent is gone."""
    parent = os.getppid()

    def poll() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=poll, daemon=True, name="watch-parent").start()


def build_message(output: str) -> str:
    """What a failed build said: from its first error to the end, without colours."""
    lines = [ANSI.sub("", line).rstrip() for line in output.splitlines()]
    for index, line in enumerate(lines):
        if re.search(r"\b(ERROR|CRITICAL)\b|Error:", line):
            lines = lines[index:]
            break
    return "\n".join(line for line in lines if line.strip())[-8000:] or "The build failed."


class Rebuilder:
    """Builds the site now and after every change; `error` holds the last failure."""

    def __init__(
        self,
        root: Path,
        content: Path,
        output: Path,
        settings_file: Path,
        on_built: Callable[[Path], None] | None = None,
    ) -> None:
        self.root = root
        self.on_built = on_built  # called with the output folder after every good build
        self.content = content
        self.output = output
        self.settings_file = settings_file
        self.error: str | None = None
        self.builds = 0  # finished builds, good or bad (tests wait on it)
        self._stop = threading.Event()
        self._child: subprocess.Popen | None = None

    def build(self) -> bool:
        scratch = self.output.with_name(self.output.name + ".tmp")
        shutil.rmtree(scratch, ignore_errors=True)
        command = [
            sys.executable,
            "-m",
            "pelican",
            str(self.content),
            "-s",
            str(self.settings_file),
            "-o",
            str(scratch),
            "--fatal",
            "errors",
        ]
        started = time.monotonic()
        self._child = subprocess.Popen(
            command,
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "1000"},
            preexec_fn=lambda: die_with_parent(signal.SIGKILL),
        )
        said, _ = self._child.communicate()
        failed = self._child.returncode != 0
        self._child = None
        if failed:
            shutil.rmtree(scratch, ignore_errors=True)
            self.error = build_message(said)
            log.error(
                "The rebuild failed; every page shows why until the next good one:\n%s", self.error
            )
        else:
            old = self.output.with_name(self.output.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if self.output.exists():
                os.replace(self.output, old)
            os.replace(scratch, self.output)
            shutil.rmtree(old, ignore_errors=True)
            if self.error:
                log.info("The rebuild works again.")
            self.error = None
            log.info("Built the site in %.1f s", time.monotonic() - started)
            if self.on_built is not None:
                self.on_built(self.output)
        self.builds += 1
        return not failed

    def watch(self) -> None:
        from watchfiles import watch

        paths = [self.content] + [self.root / p for p in WATCHED if (self.root / p).exists()]
        if self.settings_file.exists():
            paths.append(self.settings_file)

        def relevant(change, path: str) -> bool:
            name = Path(path).name
            return not (name.endswith((".pyc", ".tmp", "~")) or "__pycache__" in path)

        for _ in watch(*paths, stop_event=self._stop, watch_filter=relevant, debounce=200):
            self.build()

    def start(self) -> None:
        threading.Thread(target=self.watch, daemon=True, name="rebuild").start()

    def stop(self) -> None:
        self._stop.set()
        child = self._child
        if child is not None:
            child.kill()


def error_page(message: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="refresh" content="2">\n'
        "<title>Build failed · make serve</title>\n<style>body{font:16px/1.5 system-ui,"
        "sans-serif;margin:2rem;max-width:70rem}pre{white-space:pre-wrap;background:#fff4f4;"
        "border:2px solid #b00020;padding:1rem}</style>\n</head>\n<body>\n"
        '<h1 id="build-failed">The last rebuild failed</h1>\n'
        "<p>The site below is not up to date. Fix what this message names and save: the "
        "page reloads itself when the next rebuild works.</p>\n"
        f'<pre id="build-error">{html.escape(message)}</pre>\n</body>\n</html>\n'
    )


class DevSite:
    """The built site, or the last failed build's message on every page."""

    def __init__(self, rebuilder: Rebuilder) -> None:
        self.rebuilder = rebuilder
        self.files = StaticFiles(directory=rebuilder.output, html=True, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = self.rebuilder.error
        path = scope.get("path", "/")
        is_page = path.endswith(("/", ".html")) or "." not in path.rsplit("/", 1)[-1]
        if scope["type"] == "http" and error and is_page:
            response = HTMLResponse(error_page(error), status_code=500)
            response.headers["Cache-Control"] = "no-store"
            await response(scope, receive, send)
            return
        await self.files(scope, receive, send)


def dev_app(backend_app, rebuilder: Rebuilder):
    """The backend with the site mounted beside it; the rebuilds start and stop with it."""
    from starlette.routing import Mount

    backend_app.router.routes.append(Mount("/", app=DevSite(rebuilder)))
    lifespan = backend_app.router.lifespan_context

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def with_rebuilds(app):
        rebuilder.start()
        try:
            async with lifespan(app):
                yield
        finally:
            rebuilder.stop()

    backend_app.router.lifespan_context = with_rebuilds
    return backend_app
