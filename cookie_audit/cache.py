"""Results kept between audits: a page's visits and embed clicks are reused while nothing
they depend on changed.

A page's results hang on its key (its bytes and those of every same-site script,
stylesheet and frame it runs, see `kinds`). The whole cache hangs on the audit's own
code and rules, the declared inventory and the states: any change to those empties it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path

from cookie_audit.crawl import Cookie, ForeignRequest, Visit, Writer
from cookie_audit.embeds import EmbedClick

logger = logging.getLogger(__name__)

CACHE_FILE = "visits.json"
DEFAULT_CACHE = Path(".audit-cache")
AUDIT_CODE = Path(__file__).resolve().parent


def audit_fingerprint(*facts: object) -> str:
    """The audit's own code (rules, walk, stubs) and the given facts, as one hash."""
    digest = hashlib.sha256()
    for file in sorted(AUDIT_CODE.glob("*.*")):
        if file.suffix in (".py", ".js"):
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
    digest.update(json.dumps(facts, default=str, sort_keys=True).encode())
    return digest.hexdigest()[:16]


class VisitCache:
    """Visits and embed clicks by page, each under the page's key; one JSON file in a folder
    CI can keep."""

    def __init__(self, folder: Path | None, fingerprint: str) -> None:
        self.file = folder / CACHE_FILE if folder else None
        self.fingerprint = fingerprint
        self.pages: dict[str, dict] = {}
        if self.file and self.file.is_file():
            try:
                stored = json.loads(self.file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                logger.warning("ignoring an unreadable cache %s: %s", self.file, error)
                stored = {}
            if stored.get("fingerprint") == fingerprint:
                self.pages = stored.get("pages", {})

    def visits(self, page: str, key: str) -> list[Visit]:
        """The visits kept for a page whose key is still `key`; none if anything changed."""
        entry = self.pages.get(page)
        if not entry or entry["key"] != key:
            return []
        return [_visit(data) for data in entry["visits"]]

    def clicks(self, page: str, key: str) -> list[EmbedClick] | None:
        """The embed clicks kept for a page whose key is still `key`; None if not known."""
        entry = self.pages.get(page)
        if not entry or entry["key"] != key or "clicks" not in entry:
            return None
        return [EmbedClick(**data) for data in entry["clicks"]]

    def save(self, by_page: dict[str, tuple[str, list[Visit], list[EmbedClick]]]) -> None:
        """Keep exactly these pages' results (pages gone from the site are dropped)."""
        if self.file is None:
            return
        pages = {
            page: {
                "key": key,
                "visits": [asdict(visit) for visit in visits],
                "clicks": [asdict(click) for click in clicks],
            }
            for page, (key, visits, clicks) in by_page.items()
        }
        self.file.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.file.with_suffix(".tmp")
        scratch.write_text(json.dumps({"fingerprint": self.fingerprint, "pages": pages}))
        scratch.replace(self.file)


def _visit(data: dict) -> Visit:
    return Visit(
        state=data["state"],
        page=data["page"],
        step=data["step"],
        cookies=[
            Cookie(**{**cookie, "writers": [Writer(**w) for w in cookie["writers"]]})
            for cookie in data["cookies"]
        ],
        local_storage=data["local_storage"],
        session_storage=data["session_storage"],
        requests=[ForeignRequest(**request) for request in data["requests"]],
    )
