"""The whole audit of a built site: find its pages, serve them, walk the states, judge.

Every page is visited as a visitor who has not chosen, which shows any cookie, storage
or request before consent. Pages of one kind (see `kinds`) behave the same after a
choice, so one page of each kind is walked in the other states; `exhaustive` walks
every page in every state. Visits of unchanged pages come from the cache.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from pelican.plugins.policy_versions.model import DEFAULT_COMMANDS, Commands
from playwright.async_api import Error as PlaywrightError

from cookie_audit.cache import VisitCache, audit_fingerprint
from cookie_audit.crawl import CHOICES, STATES, Visit, walk_state
from cookie_audit.embeds import EmbedClick, click_embeds
from cookie_audit.evidence import (
    Evidence,
    EvidenceError,
    Manifest,
    language_homes,
    read_manifest,
    take_evidence,
)
from cookie_audit.inventory import DeclaredCookie, PageDeclarations, read_declarations
from cookie_audit.kinds import PageMakeUp, SiteFiles
from cookie_audit.policy import check_policy, read_policy_in_force
from cookie_audit.rules import Finding, judge
from cookie_audit.sandbox import SiteServer, sandboxed_chromium

FIRST_STATE = STATES[0]  # the strictest: nothing chosen; every page is visited in it
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
    evidence: Evidence | None  # None: not asked for, or a build without a banner manifest
    elapsed: float
    coverage: Coverage
    states: tuple[str, ...] = STATES
    engine: str = "Chromium"
    manifest_missing: bool = False  # the build wrote no banner manifest: no evidence

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def visits_per_second(self) -> float:
        """Page visits made in this run, per second."""
        return self.coverage.fresh_visits / self.elapsed

    @property
    def pages_per_second(self) -> float:
        """Pages covered in every state, per second: what the audit vouches for."""
        return len(self.pages) / self.elapsed


@dataclass
class Coverage:
    """What was visited in which state in this run, what came from the cache, and why."""

    exhaustive: bool
    choice_page: str
    kinds: list[list[str]]  # the pages of each kind, the one walked in every state first
    visited: dict[str, list[str]]  # by state: the pages visited in this run
    reused: int  # visits taken from the cache
    clicks_reused: int = 0  # embed clicks taken from the cache
    engine: str = ""  # another engine than Chromium, which walks the first state only

    @property
    def fresh_visits(self) -> int:
        return sum(len(pages) for pages in self.visited.values())

    def statement(self) -> str:
        """Why every page counts as audited in every state."""
        pages = sum(len(kind) for kind in self.kinds)
        if self.engine:
            return (
                f"Every one of the {pages} pages was visited in {self.engine} as a visitor in "
                f"the {FIRST_STATE} state, which shows any cookie, storage or request before "
                f"consent ({self.fresh_visits} visits). The other states, the embed clicks and "
                f"the screenshots are walked in Chromium: `make audit`."
            )
        if self.exhaustive:
            return (
                f"Exhaustive: each of the {pages} pages was visited in every state"
                f" ({self.fresh_visits} visits in this run, {self.reused} reused from the cache)."
            )
        walked = ", ".join(state for state in STATES if state != FIRST_STATE)
        kinds = _count(len(self.kinds), "kind")
        return (
            f"Every one of the {pages} pages was visited as a visitor in the {FIRST_STATE} "
            f"state, which shows any cookie, storage or request before consent. The pages fall "
            f"into {kinds} by what they are made of for privacy (script, frame "
            f"and embed tags, same-site scripts and stylesheets by content hash, inline code, "
            f"resources from other hosts); one page of each kind was walked in the states "
            f"{walked}, after the choice on {self.choice_page}. Pages of one kind run the same "
            f"code, so they behave the same after a choice. {self.fresh_visits} visits in this "
            f"run, {self.reused} reused from the cache. --exhaustive walks every page in "
            f"every state.{self._clicks()}"
        )

    def _clicks(self) -> str:
        if not self.clicks_reused:
            return ""
        clicks = _count(self.clicks_reused, "embed click")
        return f" {clicks} on unchanged pages reused from the cache."


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
    exhaustive: bool = False,
    cache: Path | None = None,
    publishing: bool = False,
    commands: Commands = DEFAULT_COMMANDS,
    api: str | None = None,
) -> Audit:
    """Audit the built site in `site`, `workers` browser contexts at once.

    `screenshots` takes the banner's evidence (`cookie_audit.evidence`) when the build
    wrote a banner manifest. `progress(done, total)` hears of every page visit. `cache`
    is a folder whose results of unchanged pages are reused; None audits from scratch.
    What the policy in force does not declare is a violation when `publishing` (as
    `make publish` refuses it), else a warning (as `make build` previews it); the advice
    names the site's `commands` (POLICY_VERSIONS['commands']). `api` is
    the URL of a backend that answers the site's /api/ (see `SiteServer`).
    """
    started = time.perf_counter()
    site = Path(site)
    if not site.is_dir():
        raise AuditError(f"no such folder: {site}")
    files = find_pages(site)
    if not files:
        raise AuditError(f"no HTML pages in {site}")
    make_ups, declarations = _read_pages(site, files)
    choice_page = next((path for path, d in declarations.items() if d.has_banner), None)
    if choice_page is None:
        raise AuditError(f"no page in {site} has the consent banner")
    pages = list(files)
    # A backend answering /api/ changes what visitors get (its Set-Cookie), not where it runs.
    facts = (asdict(declarations[choice_page]), STATES, api is not None)
    store = VisitCache(cache, audit_fingerprint(*facts))
    kept = {page: store.visits(page, make_ups[page].key) for page in pages}
    kinds = _kinds(pages, make_ups, kept)
    plan = _plan(pages, kinds, kept, choice_page, exhaustive)
    kept_clicks = {page: store.clicks(page, make_ups[page].key) for page in pages}
    placeholders = {
        path: d.embeds for path, d in declarations.items() if d.embeds and kept_clicks[path] is None
    }
    try:
        manifest = read_manifest(site) if screenshots else None
        with_banner = {path for path, d in declarations.items() if d.has_banner}
        homes = language_homes(manifest, site, files, with_banner) if manifest else {}
    except EvidenceError as error:
        raise AuditError(str(error)) from error
    with SiteServer(site, api=api) as server:
        try:
            to_shoot = (manifest, homes) if manifest else None
            walk = _walk(server, plan, choice_page, placeholders, workers, to_shoot, progress)
            # A thread of its own, so that callers that already run an event loop
            # (a sync Playwright session, a notebook) can audit too.
            with ThreadPoolExecutor(max_workers=1) as thread:
                fresh, fresh_clicks, taken = thread.submit(asyncio.run, walk).result()
        except (FileNotFoundError, PlaywrightError, EvidenceError) as error:
            raise AuditError(_first_line(error)) from error
    visits, reused = _merge(pages, kept, fresh)
    clicks_by_page = {page: kept_clicks[page] or [] for page in pages}
    for click in fresh_clicks:
        clicks_by_page[click.page].append(click)
    clicks = [click for page in pages for click in clicks_by_page[page]]
    store.save({page: (make_ups[page].key, visits[page], clicks_by_page[page]) for page in pages})
    every_visit = _in_walk_order(visits, pages)
    violations, warnings = judge(every_visit, declarations, choice_page, clicks)
    if policy := read_policy_in_force(site, commands):
        beyond_policy = check_policy(declarations, choice_page, policy)
        (violations if publishing else warnings).extend(beyond_policy)
    elapsed = time.perf_counter() - started
    coverage = Coverage(
        exhaustive=exhaustive,
        choice_page=choice_page,
        kinds=kinds,
        visited={state: [v.page for v in fresh if v.state == state] for state in STATES},
        reused=reused,
        clicks_reused=len(clicks) - len(fresh_clicks),
    )
    logger.info("audited %d pages in %.1f s", len(pages), elapsed)
    return Audit(
        site=site,
        pages=pages,
        choice_page=choice_page,
        inventory=declarations[choice_page].cookies,
        visits=every_visit,
        clicks=clicks,
        violations=violations,
        warnings=warnings,
        evidence=taken,
        elapsed=elapsed,
        coverage=coverage,
        manifest_missing=screenshots and manifest is None,
    )


def run_engine_audit(
    site: Path | str,
    engine: str,
    progress: Callable[[int, int], None] | None = None,
    api: str | None = None,
) -> Audit:
    """The first-visit state of every page in another engine ("firefox", "webkit"),
    judged by the same rules as the Chromium audit; `api` as for `run_audit`."""
    from cookie_audit.engines import launched, missing
    from cookie_audit.engines.walk import walk_first_visit

    started = time.perf_counter()
    site = Path(site)
    if not site.is_dir():
        raise AuditError(f"no such folder: {site}")
    if reason := missing(engine):
        raise AuditError(reason)
    files = find_pages(site)
    make_ups, declarations = _read_pages(site, files)
    choice_page = next((path for path, d in declarations.items() if d.has_banner), None)
    if choice_page is None:
        raise AuditError(f"no page in {site} has the consent banner")
    pages = list(files)
    done = 0

    def visited() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(pages))

    try:
        with SiteServer(site, api=api) as server, launched(engine, server) as browser:
            with browser.visitor() as visitor:
                visits = walk_first_visit(visitor, FIRST_STATE, pages, visited)
            name = browser.name
    except (OSError, RuntimeError) as error:
        raise AuditError(f"{engine}: {_first_line(error)}") from error
    violations, warnings = judge(visits, declarations, choice_page)
    # One state sets no cookie at all, so every declared cookie would count as unseen.
    warnings = [w for w in warnings if w.rule != "unseen-cookie"]
    by_kind: dict[str, list[str]] = {}
    for page in pages:
        by_kind.setdefault(make_ups[page].kind, []).append(page)
    coverage = Coverage(
        exhaustive=False,
        choice_page=choice_page,
        kinds=list(by_kind.values()),
        visited={FIRST_STATE: pages},
        reused=0,
        engine=name,
    )
    return Audit(
        site=site,
        pages=pages,
        choice_page=choice_page,
        inventory=declarations[choice_page].cookies,
        visits=visits,
        clicks=[],
        violations=violations,
        warnings=warnings,
        evidence=None,
        elapsed=time.perf_counter() - started,
        coverage=coverage,
        states=(FIRST_STATE,),
        engine=name,
    )


def _read_pages(
    site: Path, files: dict[str, Path]
) -> tuple[dict[str, PageMakeUp], dict[str, PageDeclarations]]:
    """Each page's make-up (kind and cache key) and what it declares."""
    site_files = SiteFiles(site)
    make_ups, declarations = {}, {}
    for path, file in files.items():
        html = file.read_text(encoding="utf-8", errors="replace")
        make_ups[path] = site_files.make_up(file, html)
        declarations[path] = read_declarations(html)
    return make_ups, declarations


def _has(visits: list[Visit], state: str, step: str = "visit") -> bool:
    return any(visit.state == state and visit.step == step for visit in visits)


def _kinds(
    pages: list[str], make_ups: dict[str, PageMakeUp], kept: dict[str, list[Visit]]
) -> list[list[str]]:
    """Pages by kind, in page order; first in each, the page to walk in every state.

    A page whose visits in every state are still in the cache goes first: then an
    unchanged kind needs no walk after a choice at all.
    """
    by_kind: dict[str, list[str]] = {}
    for page in pages:
        by_kind.setdefault(make_ups[page].kind, []).append(page)
    kinds = []
    for members in by_kind.values():
        ready = [p for p in members if all(_has(kept[p], state) for state in STATES)]
        first = ready[0] if ready else members[0]
        kinds.append([first, *(p for p in members if p != first)])
    return kinds


def _plan(
    pages: list[str],
    kinds: list[list[str]],
    kept: dict[str, list[Visit]],
    choice_page: str,
    exhaustive: bool,
) -> dict[str, tuple[bool, list[str]]]:
    """By state: whether to make its choice, and the pages to visit in this run."""
    walked = pages if exhaustive else [kind[0] for kind in kinds]
    plan = {FIRST_STATE: (False, [p for p in pages if not _has(kept[p], FIRST_STATE)])}
    for state in STATES[1:]:
        todo = [p for p in walked if not _has(kept[p], state)]
        choose = state in CHOICES and bool(todo or not _has(kept[choice_page], state, "choice"))
        plan[state] = (choose, todo)
    return plan


def _merge(
    pages: list[str], kept: dict[str, list[Visit]], fresh: list[Visit]
) -> tuple[dict[str, list[Visit]], int]:
    """Each page's visits: this run's, and the cached ones this run did not redo."""
    visits: dict[str, list[Visit]] = {page: [] for page in pages}
    for visit in fresh:
        visits[visit.page].append(visit)
    reused = 0
    for page in pages:
        redone = {(visit.state, visit.step) for visit in visits[page]}
        for visit in kept[page]:
            if (visit.state, visit.step) not in redone:
                visits[page].append(visit)
                reused += 1
    return visits, reused


def _in_walk_order(visits: dict[str, list[Visit]], pages: list[str]) -> list[Visit]:
    """State by state, the choice first, then the pages in order."""
    order = {page: n for n, page in enumerate(pages)}
    every = [visit for page_visits in visits.values() for visit in page_visits]
    return sorted(every, key=lambda v: (STATES.index(v.state), v.step != "choice", order[v.page]))


async def _walk(
    server: SiteServer,
    plan: dict[str, tuple[bool, list[str]]],
    choice_page: str,
    placeholders: dict[str, tuple[str, ...]],
    workers: int,
    to_shoot: tuple[Manifest, dict[str, str]] | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[Visit], list[EmbedClick], Evidence | None]:
    """The states side by side in one browser, the first split over `workers` visitors;
    the embed pass and the evidence (`to_shoot`: the manifest, each language's home) beside
    them."""
    total, done = sum(choose + len(todo) for choose, todo in plan.values()), 0

    def visited() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    jobs = [(state, choose, todo) for state, (choose, todo) in plan.items() if choose or todo]
    jobs = [job for job in jobs if job[0] != FIRST_STATE]
    first = plan[FIRST_STATE][1]
    size = math.ceil(len(first) / workers) if first else 1
    jobs += [(FIRST_STATE, False, first[n : n + size]) for n in range(0, len(first), size)]

    async with sandboxed_chromium() as browser:
        at_once = asyncio.Semaphore(workers)

        async def walk(state: str, choose: bool, todo: list[str]) -> list[Visit]:
            async with at_once:
                try:
                    return await walk_state(
                        browser, server, state, todo, choice_page if choose else None, visited
                    )
                except PlaywrightError as error:
                    raise AuditError(f"in the {state} state: {_first_line(error)}") from error

        async def pictures() -> Evidence | None:
            return await take_evidence(browser, server, *to_shoot) if to_shoot else None

        *per_job, clicks, shots = await asyncio.gather(
            *(walk(*job) for job in jobs),
            click_embeds(browser, server, placeholders, at_once),
            pictures(),
        )
    return [visit for visits in per_job for visit in visits], clicks, shots


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
