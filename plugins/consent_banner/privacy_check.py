"""The privacy check of each page: Google tags gated, embeds made click-to-load, and a
line naming the page for every resource it would load from another host before consent.

Run twice: over the content as read, before a single page is written (so that a pasted
resource fails the build with nothing published), and over each page as it is written
(so that the theme's own markup is checked too).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .embeds import Embed, check_page
from .gate_google_tags import gate_google_tags
from .providers import Provider
from .third_party import may_load_from_elsewhere

logger = logging.getLogger(__name__)

IFRAME_SRC = re.compile(r"""<iframe\b[^>]*?\bsrc\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""", re.I)


class PrivacyCheckError(Exception):
    """Pages that would load something from another host before consent; one line each."""


@dataclass(frozen=True)
class CheckedPage:
    """One page after the check."""

    page: str  # with Google tags gated and embeds made click-to-load
    gated: list[str]  # what was gated or taken out, for the build log
    refused: list[str]  # a line for each resource refused, naming the page


@dataclass(frozen=True)
class PrivacyCheck:
    """What the check knows of the site: its hosts and the embed providers it offers."""

    own_hosts: frozenset[str]
    declared_hosts: frozenset[str]
    embeds: list[Provider]  # the embed providers the site uses: the banner offers these
    unused_embeds: list[Provider]  # known providers that nothing the site holds embeds
    save_inline: Callable[[str], str]  # an inline Google tag's code, saved: its URL

    def page(
        self,
        page: str,
        name: Callable[[], str],
        placeholder: Callable[[Embed, int], str] | None,
    ) -> CheckedPage:
        """The page checked, on the page that name() names. Without a `placeholder`,
        embeds are taken out, not rendered: for a check whose page is not written."""
        page, gated = gate_google_tags(page, self.save_inline)
        if not may_load_from_elsewhere(page, self.own_hosts):
            return CheckedPage(page, gated, [])
        count = itertools.count(1)
        checked = check_page(
            page,
            self.own_hosts,
            self.declared_hosts,
            [*self.embeds, *self.unused_embeds],
            lambda embed: placeholder(embed, next(count)) if placeholder else "",
        )
        if placeholder is None:  # the pass over the content: each Markdown file once
            advise_on_titles(checked.embeds, name)
        unused = [e for e in checked.embeds if e.provider in self.unused_embeds]
        lines = []
        if unused or checked.refused:  # name the page only when there is something to say
            where = name()
            lines = [
                f"{where}: a {e.provider.name} embed that no article, page or template holds, "
                "so the banner does not offer it; put the embed in one of those"
                for e in unused
            ]
            lines += [
                f"{where}: {r.describe()} loads {r.url} from {r.host} before any consent; "
                "self-host the file under content/, or declare the host with a reason in "
                "CONSENT['declared_hosts']"
                for r in checked.refused
            ]
        gated += [
            f"{d.provider.name}'s script {d.resource.url} removed: the placeholder loads the player"
            for d in checked.dropped
        ]
        return CheckedPage(checked.page, gated, lines)


def advise_on_titles(embeds: list[Embed], name: Callable[[], str]) -> None:
    """A warning for each embed whose title names the player, not the content: the
    placeholder's heading and button show it ("Load video: YouTube video player")."""
    for embed in embeds:
        title, provider = embed.attributes.get("title") or "", embed.provider
        if title and provider.names_no_content(title):
            logger.warning(
                "consent_banner: %s: the %s embed's title is %r, so its placeholder "
                'reads "%s: %s"; name the content in the iframe\'s title, like '
                'title="Managed Kubernetes webinar"',
                name(),
                provider.name,
                title,
                provider.verb,
                title,
            )


def refusal_message(refused: list[str]) -> str:
    return (
        f"consent_banner: the privacy check refused {len(refused)} resource(s) from other "
        "hosts; the build is refused:\n  " + "\n  ".join(refused)
    )


def source_file(settings: dict, path: str) -> str:
    """A content file or template as a path from the project: content/news/x.md."""
    root = settings.get("PATH")
    if not (path and root):
        return path
    return os.path.relpath(os.path.join(root, path), os.path.dirname(root))


def named(settings: dict, where: str, source: str) -> str:
    """An output page as a build message names it: with its source file when known."""
    source = source_file(settings, source)
    return f"{where} (from {source})" if source else where


def _texts(settings: dict, items: list) -> Iterator[tuple[str, Callable[[], str]]]:
    """Each content item's HTML, then each template's, with a way to name it: one at a
    time, since thousands of them held at once only give the garbage collector work."""
    for item in items:
        yield (
            getattr(item, "_content", None) or "",
            lambda item=item: named(settings, item.save_as, item.source_path),
        )
    for base, _, names in os.walk(Path(settings.get("THEME", "")) / "templates"):
        for name in names:
            path = Path(base, name)
            where = partial(source_file, settings, str(path.absolute()))
            yield path.read_text(encoding="utf-8"), where


def embedding_places(
    settings: dict, items: list, providers: list[Provider]
) -> dict[str, list[str]]:
    """Where the content read and the theme's templates embed each provider, by its id: a
    page as its output file and Markdown file, a template by its file."""
    found: dict[str, list[str]] = {}
    for text, where in _texts(settings, items):
        for match in IFRAME_SRC.finditer(text):
            url = match.group(1)
            url = f"https:{url}" if url.startswith("//") else url
            for provider in providers:
                if provider.embeds_url(url) and where() not in found.get(provider.id, []):
                    found.setdefault(provider.id, []).append(where())
    return {p.id: found[p.id] for p in providers if p.id in found}
