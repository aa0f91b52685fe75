"""The whole audit of a built site: find its pages, serve them, walk every state, judge."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Error as PlaywrightError

from cookie_audit.crawl import STATES, Visit, walk_state
from cookie_audit.embeds import EmbedClick, click_embeds
from cookie_audit.inventory import DeclaredCookie, read_declarations
from cookie_audit.rules import Finding, judge
from cookie_audit.sandbox import SiteServer, sandboxed_chromium
from cookie_audit.screenshots import Screenshot, banner_screenshots

logger = logging.getLogger(__name__)


class AuditError(Exception):
    """The audit could not run: no such folder, no pages in it, no browser."""


@dataclass
class Audit:
    """What the audit found, and how long it took."""

    site: Path
    pages: list[str]
    choice_page: str
    inventory: tuple[DeclaredCookie, ...]
    visits: list[Visit]
    clicks: list[EmbedClick]
    violations: list[Finding]
    warnings: list[Finding]
    screenshots: list[Screenshot]
    elapsed: float
    states: tuple[str, ...] = STATES

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def pages_per_second(self) -> float:
        """Page visits per second: each page is visited once in each state."""
        return len(self.pages) * len(self.states) / self.elapsed


def find_pages(site: Path) -> dict[str, Path]:
    """Every HTML file by the URL path it is served at, the home page first."""
    found = {}
    for file in site.rglob("*.html"):
        path = "/" + file.relative_to(site).as_posix()
        found[path.removesuffix("index.html") if file.name == "index.html" else path] = file
    return dict(sorted(found.items(), key=lambda item: (item[0] != "/", item[0])))


def run_audit(
    site: Path | str,
    workers: int = len(STATES),
    screenshots: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Audit:
    """Audit the built site in `site`, walking `workers` visitor states at once.

    `progress(done, total)` hears of every page visit. The benchmark reads
    `pages_per_second` from the result.
    """
    started = time.perf_counter()
    site = Path(site)
    if not site.is_dir():
        raise AuditError(f"no such folder: {site}")
    files = find_pages(site)
    if not files:
        raise AuditError(f"no HTML pages in {site}")
    declarations = {
        path: read_declarations(file.read_text(encoding="utf-8", errors="replace"))
        for path, file in files.items()
    }
    choice_page = next((path for path, d in declarations.items() if d.has_banner), None)
    if choice_page is None:
        raise AuditError(f"no page in {site} has the consent banner")
    pages = list(files)
    placeholders = {path: d.embeds for path, d in declarations.items() if d.embeds}
    with SiteServer(site) as server:
        try:
            walk = _walk(server, pages, choice_page, placeholders, workers, screenshots, progress)
            # A thread of its own, so that callers that already run an event loop
            # (a sync Playwright session, a notebook) can audit too.
            with ThreadPoolExecutor(max_workers=1) as thread:
                visits, clicks, shots = thread.submit(asyncio.run, walk).result()
        except (FileNotFoundError, PlaywrightError) as error:
            raise AuditError(_first_line(error)) from error
    violations, warnings = judge(visits, declarations, choice_page, clicks)
    elapsed = time.perf_counter() - started
    logger.info("audited %d pages in %.1f s", len(pages), elapsed)
    return Audit(
        site=site,
        pages=pages,
        choice_page=choice_page,
        inventory=declarations[choice_page].cookies,
        visits=visits,
        clicks=clicks,
        violations=violations,
        warnings=warnings,
        screenshots=shots,
        elapsed=elapsed,
    )


async def _walk(
    server: SiteServer,
    pages: list[str],
    choice_page: str,
    placeholders: dict[str, tuple[str, ...]],
    workers: int,
    screenshots: bool,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[Visit], list[EmbedClick], list[Screenshot]]:
    """All states side by side in one browser, the embed pass and the screenshots beside them."""
    total, done = len(pages) * len(STATES), 0

    def visited() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    async with sandboxed_chromium() as browser:
        at_once = asyncio.Semaphore(workers)

        async def walk(state: str) -> list[Visit]:
            async with at_once:
                try:
                    return await walk_state(browser, server, state, pages, choice_page, visited)
                except PlaywrightError as error:
                    raise AuditError(f"in the {state} state: {_first_line(error)}") from error

        async def pictures() -> list[Screenshot]:
            return await banner_screenshots(browser, server, choice_page) if screenshots else []

        *per_state, clicks, shots = await asyncio.gather(
            *map(walk, STATES), click_embeds(browser, server, placeholders), pictures()
        )
    return [visit for visits in per_state for visit in visits], clicks, shots


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
