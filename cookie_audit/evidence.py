"""Evidence of a banner version: what a first-time visitor saw, in every language, on a
phone and a desktop, tied to the build's banner manifest by its SHA-256.

The build writes the manifest (``consent/banner.json``, docs/consent-banner.md); the
audit shoots the first layer and the open Cookie settings of each language's home page
at each width, and the report writes them, a byte-for-byte copy of the manifest and
``evidence.json`` into ``<report>/evidence/<banner_version>/``. A build without a
manifest (from before banner versions) gets no evidence, and no error.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Locator

from cookie_audit.crawl import EVENT_TIMEOUT_MS, FRAMES_AND_A_TASK
from cookie_audit.sandbox import SiteServer, stub_google

MANIFEST = Path("consent/banner.json")  # in the built site
FOLDER = "evidence"  # in the report's folder
# A phone's and a desktop's viewport: the widths are the evidence's, the heights what
# such a screen shows at once.
VIEWPORTS = {390: 844, 1280: 800}
# The layers, in the order a visitor meets them: the banner, then Cookie settings.
LAYERS = {"banner": "First layer of the banner", "settings": "Cookie settings open"}
BANNER_VERSION = re.compile(r"[0-9a-f]{12}")
HTML_LANG = re.compile(r"<html\b[^>]*?\slang=\"([^\"]+)\"", re.IGNORECASE)


class EvidenceError(Exception):
    """The manifest cannot be read, or a shot cannot show what it must."""


@dataclass(frozen=True)
class Box:
    """Where a layer's element was in its shot, in CSS pixels."""

    x: float
    y: float
    width: float
    height: float

    def inside(self, width: int, height: int) -> bool:
        # Half a pixel of slack: boxes are fractional, screenshots whole pixels.
        return (
            self.x >= -0.5
            and self.y >= -0.5
            and self.x + self.width <= width + 0.5
            and self.y + self.height <= height + 0.5
        )


@dataclass(frozen=True)
class Shot:
    """One screenshot: a language's layer at a width, on the page it was taken on."""

    lang: str
    layer: str  # a key of LAYERS
    width: int
    height: int
    page: str
    box: Box  # the layer's element when the shot was taken
    png: bytes

    @property
    def file(self) -> str:
        return f"{self.lang}-{self.layer}-{self.width}.png"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.png).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """The build's banner manifest: its bytes as written, and what the evidence needs."""

    raw: bytes
    banner_version: str
    languages: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


@dataclass(frozen=True)
class Evidence:
    """The shots of one banner version, and when they were taken."""

    manifest: Manifest
    taken_at: str  # ISO 8601 UTC, when the first shot was started
    shots: tuple[Shot, ...]

    @property
    def folder(self) -> str:
        """Where its files go, in the report's folder."""
        return f"{FOLDER}/{self.manifest.banner_version}"

    def record(self) -> dict[str, Any]:
        """evidence.json as docs/cookie-audit.md describes it; the report's JSON carries it."""
        return {
            "banner_version": self.manifest.banner_version,
            "manifest_sha256": self.manifest.sha256,
            "taken_at": self.taken_at,
            "shots": [
                {
                    "file": shot.file,
                    "lang": shot.lang,
                    "layer": shot.layer,
                    "width": shot.width,
                    "sha256": shot.sha256,
                }
                for shot in self.shots
            ],
        }


def read_manifest(site: Path) -> Manifest | None:
    """The site's banner manifest; None for a build without one."""
    path = site / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise EvidenceError(f"cannot read {path}: {error.strerror}") from error
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EvidenceError(f"{path} is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise EvidenceError(f"{path}: not an object")
    version = data.get("banner_version")
    if not isinstance(version, str) or not BANNER_VERSION.fullmatch(version):
        raise EvidenceError(f"{path}: banner_version must be 12 lowercase hex digits")
    languages = data.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(lang, str) and lang for lang in languages)
    ):
        raise EvidenceError(f"{path}: languages must be a list of language codes")
    return Manifest(raw, version, tuple(languages))


def language_homes(
    manifest: Manifest, site: Path, files: dict[str, Path], with_banner: set[str]
) -> dict[str, str]:
    """For each language of the manifest, its edition's home: of the pages with the
    banner whose ``<html lang>`` is that language, the one nearest the root."""
    homes: dict[str, str] = {}
    nearest_first = sorted(files, key=lambda p: (len(p.strip("/").split("/")), p[-1:] != "/", p))
    for path in nearest_first:
        lang = _html_lang(files[path]) if path in with_banner else None
        if lang in manifest.languages:
            homes.setdefault(lang, path)
            if len(homes) == len(set(manifest.languages)):
                break
    if missing := [lang for lang in manifest.languages if lang not in homes]:
        raise EvidenceError(
            f"{site / MANIFEST} lists {', '.join(missing)}, but no page with the banner has "
            f'<html lang="{missing[0]}">: is the manifest from another build?'
        )
    return {lang: homes[lang] for lang in manifest.languages}


def _html_lang(file: Path) -> str | None:
    with file.open(encoding="utf-8", errors="replace") as page:
        found = HTML_LANG.search(page.read(4096))
    return found[1] if found else None


async def take_evidence(
    browser: Browser, server: SiteServer, manifest: Manifest, homes: dict[str, str]
) -> Evidence:
    """Every language's layers at every width, each pair in a fresh first-time visitor."""
    taken_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pairs = await asyncio.gather(
        *(
            _shoot(browser, server, lang, path, width)
            for lang, path in homes.items()
            for width in VIEWPORTS
        )
    )
    return Evidence(manifest, taken_at, tuple(shot for pair in pairs for shot in pair))


async def _shoot(
    browser: Browser, server: SiteServer, lang: str, path: str, width: int
) -> tuple[Shot, Shot]:
    height = VIEWPORTS[width]
    context = await browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme="light",
        reduced_motion="reduce",
    )
    context.set_default_timeout(EVENT_TIMEOUT_MS)

    async def shot(layer: str, element: Locator) -> Shot:
        """The viewport once the layer shows, its fonts are in and two frames are painted."""
        await element.wait_for(state="visible")
        await page.evaluate(f"document.fonts.ready.then(() => {FRAMES_AND_A_TASK})")
        found = await element.bounding_box() or {"x": 0, "y": 0, "width": 0, "height": 0}
        box = Box(found["x"], found["y"], found["width"], found["height"])
        if not box.width or not box.inside(width, height):
            raise EvidenceError(
                f"{LAYERS[layer]} on {path} does not fit in a {width}×{height} viewport: "
                f"its shot would not show it whole"
            )
        png = await page.screenshot(animations="disabled", caret="hide")
        return Shot(lang, layer, width, height, path, box, png)

    try:
        await stub_google(context)
        page = await context.new_page()
        await page.goto(server.url(path))
        banner = page.locator("#cb-banner")
        first = await shot("banner", banner)
        await banner.locator("[data-consent-open]").click()
        return first, await shot("settings", page.locator("#cb-details"))
    finally:
        await context.close()


def write_evidence(evidence: Evidence, report: Path) -> Path:
    """The shots, the manifest's copy and evidence.json in their banner version's folder,
    replacing what an earlier run left there; other versions' folders are kept."""
    folder = report / evidence.folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for shot in evidence.shots:
        (folder / shot.file).write_bytes(shot.png)
    (folder / MANIFEST.name).write_bytes(evidence.manifest.raw)
    record = json.dumps(evidence.record(), indent=2, ensure_ascii=False) + "\n"
    (folder / "evidence.json").write_text(record, encoding="utf-8")
    return folder
