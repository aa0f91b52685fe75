"""The build-time privacy check: every resource from another host is accounted for.

Each page's other-host resources (found by ``third_party``) end one of four ways: a
known embed provider's iframe becomes a click-to-load placeholder; a script of a
provider embedded on the page (Vimeo's player.js) is removed, since the placeholder
loads the player without it; a declared host is left as it is; anything else is
refused, and the build fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .providers import Provider, within
from .third_party import Resource, attribute_map, foreign, resources

IFRAME_END = re.compile(r"\s*</iframe\s*>", re.I)
# The responsive wrapper in Vimeo's embed code: its padding is the aspect ratio.
RATIO_WRAPPER = re.compile(
    r"""<div\s+style=(["'])\s*padding:\s*([\d.]+)%\s+0\s+0\s+0;\s*position:\s*relative;?\s*\1\s*>\s*$""",
    re.I,
)
WRAPPER_END = re.compile(r"\s*</div\s*>", re.I)
DEFAULT_RATIO = (16, 9)


@dataclass(frozen=True)
class Dropped:
    """A provider's own script, taken out of a page: its placeholder loads the player."""

    resource: Resource
    provider: Provider


@dataclass
class Checked:
    """One page after the check."""

    page: str
    embeds: list[Embed]
    dropped: list[Dropped]
    refused: list[Resource]


@dataclass(frozen=True)
class Embed:
    """One pasted iframe of a known provider, as the placeholder needs it."""

    provider: Provider
    attributes: dict[str, str | None]
    ratio: tuple[float, float]  # width, height


def check_page(
    page: str,
    own_hosts: frozenset[str],
    declared_hosts: frozenset[str],
    providers: list[Provider],
    placeholder: Callable[[Embed], str],
) -> Checked:
    """The page with its embeds made click-to-load, and what was dropped or refused."""
    found = foreign(resources(page), own_hosts)
    embeds: list[tuple[int, int, Embed]] = []
    for r in found:
        provider = r.element == "iframe" and next(
            (p for p in providers if p.embeds_url(r.url)), None
        )
        if provider:
            embeds.append((r.start, r.end, _embed(page, r, provider)))
    on_page = {e.provider.id: e.provider for _, _, e in embeds}
    edits: list[tuple[int, int, str]] = []
    refused: list[Resource] = []
    dropped: list[Dropped] = []
    replaced = {start for start, _, _ in embeds}
    for start, end, embed in embeds:
        start, end = _extent(page, start, end)
        edits.append((start, end, placeholder(embed)))
    for r in found:
        if r.start in replaced or within(r.host, declared_hosts):
            continue
        script_of = next(
            (p for p in on_page.values() if r.element == "script" and within(r.host, p.hosts)), None
        )
        if script_of:
            edits.append((r.start, r.end, ""))
            dropped.append(Dropped(r, script_of))
        else:
            refused.append(r)
    for start, end, text in sorted(edits, reverse=True):
        page = page[:start] + text + page[end:]
    return Checked(page, [e for _, _, e in embeds], dropped, refused)


def _embed(page: str, iframe: Resource, provider: Provider) -> Embed:
    attrs = attribute_map(page[iframe.start + len("<iframe") : iframe.end])
    ratio = DEFAULT_RATIO
    width, height = (_number(attrs.get(k)) for k in ("width", "height"))
    if width and height:
        ratio = (width, height)
    elif wrapper := RATIO_WRAPPER.search(page, max(0, iframe.start - 200), iframe.start):
        ratio = (100.0, float(wrapper.group(2)) or DEFAULT_RATIO[1])
    return Embed(provider, attrs, ratio)


def _extent(page: str, start: int, end: int) -> tuple[int, int]:
    """The iframe with its end tag, and Vimeo's ratio wrapper around it when there is one."""
    if closing := IFRAME_END.match(page, end):
        end = closing.end()
    wrapper = RATIO_WRAPPER.search(page, max(0, start - 200), start)
    if wrapper and (wrapper_end := WRAPPER_END.match(page, end)):
        return wrapper.start(), wrapper_end.end()
    return start, end


def _number(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if number > 0 else None
