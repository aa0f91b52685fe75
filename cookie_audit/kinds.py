"""Kinds of page: pages with the same privacy-relevant make-up behave the same after a choice.

A page's make-up is every script, frame and embed tag with all its attributes (a
same-site source by the hash of its bytes), every same-site stylesheet by its hash,
every inline script and style by its hash, and every resource from another host,
whatever the tag. Links a visitor may follow (``<a href>``) load nothing and do not
count; nor do same-site images, which cannot set cookies or run code.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pelican.plugins.consent_banner.third_party import TAG_REST, attribute_map, raw_end, raw_text

# Every tag, read as the privacy check reads one (a quote opens a value only after "=").
TAG = re.compile(rf"<([a-zA-Z][^\s/>]*)({TAG_REST})")
INLINE = re.compile(
    rf"<(?P<name>script|style)(?=[\s/>])({TAG_REST})"
    rf"({raw_text('(?P=name)')}){raw_end('(?P=name)')}",
    re.I | re.S,
)
OTHER_HOST = re.compile(r"""(?:https?:)?//[^\s"'<>,)]+""", re.I)
# Tags whose code runs in the page or a frame of it: all their attributes count.
CODE_TAGS = {"script", "iframe", "frame", "embed", "object"}
CODE_SOURCES = ("src", "data-src", "data")
NOT_RESOURCES = {"a", "area"}


@dataclass(frozen=True)
class PageMakeUp:
    """What a page is made of, as far as privacy goes, and what its result depends on."""

    kind: str  # a hash of the make-up: pages with the same kind behave the same
    key: str  # a hash of the page's bytes and of every same-site file it runs
    items: tuple[str, ...]


class SiteFiles:
    """Hashes of the site's files, each read once however many pages load it."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.hashes: dict[Path, str] = {}
        # Thousands of pages name the same few files: resolve each spelling once.
        self.files: dict[tuple[Path, str], Path] = {}

    def hash_of(self, page: Path, url: str) -> str:
        path = urlsplit(url).path
        folder = self.site if path.startswith("/") else page.parent
        if (folder, path) not in self.files:
            self.files[folder, path] = (folder / path.lstrip("/")).resolve()
        file = self.files[folder, path]
        if file not in self.hashes:
            try:
                self.hashes[file] = _digest(file.read_bytes())
            except OSError:
                self.hashes[file] = "missing"
        return self.hashes[file]

    def make_up(self, page: Path, html: str) -> PageMakeUp:
        """The page's kind and cache key."""
        items = set()
        for name, source in TAG.findall(html):
            tag = name.lower()
            # Most tags are text and links: no code, no stylesheet, nothing from another host.
            if tag not in CODE_TAGS and tag != "link" and "//" not in source:
                continue
            attributes = attribute_map(source)
            if tag in CODE_TAGS:
                items.add(self._code_tag(page, tag, attributes))
            elif tag == "link" and "stylesheet" in (attributes.get("rel") or "").lower():
                href = attributes.get("href") or ""
                items.add(f"stylesheet {self._source(page, href)}")
            if tag not in NOT_RESOURCES:
                for value in attributes.values():
                    if value and "//" in value:
                        items.update(f"{tag} {url}" for url in OTHER_HOST.findall(value))
        for tag, _, body in INLINE.findall(html):
            if body.strip():
                items.add(f"inline {tag.lower()} {_digest(body.encode())}")
        ordered = tuple(sorted(items))
        kind = _digest("\n".join(ordered).encode())
        key = _digest(html.encode() + b"\0" + kind.encode())
        return PageMakeUp(kind, key, ordered)

    def _code_tag(self, page: Path, tag: str, attributes: dict[str, str | None]) -> str:
        shown = {
            name: self._source(page, value) if name in CODE_SOURCES and value else value
            for name, value in sorted(attributes.items())
        }
        return f"{tag} " + " ".join(f"{name}={value}" for name, value in shown.items())

    def _source(self, page: Path, url: str) -> str:
        """Another host's URL as it is; a same-site one as its path and the hash of its bytes."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith("data:"):
            return url
        return f"{parts.path}#{self.hash_of(page, url)}"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
