"""Find what a page makes a browser fetch from another host without a click.

Reads HTML as a browser tokenises it, with regular expressions rather than a full
parse: comments and the text of script, style, title and textarea are not markup,
so a URL there is never a finding, while a tag inside <pre> or <noscript> is real.
Links and form actions need a click and are not findings.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

# The rest of a start tag: quoted values may hold ">". Unrolled and possessive: no
# backtracking, and fewer turns of the loop than an alternation per character run.
TAG_REST = r"""[^>"']*+(?:(?:"[^"]*+"|'[^']*+')[^>"']*+)*+>"""
TOKEN = re.compile(
    rf"<(?:!--.*?(?:-->|\Z)|!\[CDATA\[.*?(?:\]\]>|\Z)"
    rf"|(?P<raw>script|style|title|textarea|xmp|noembed|noframes)(?=[\s/>])(?P<raw_attrs>{TAG_REST})"
    rf"(?P<text>.*?)(?:</(?P=raw)\s*>|\Z)"
    rf"|(?P<tag>[a-z][^\s/>]*)(?P<attrs>{TAG_REST}))",
    re.I | re.S,
)
ATTRIBUTE = re.compile(r"""([^\s"'>/=][^\s"'>/=]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
CSS_URL = re.compile(r"""url\(\s*(["']?)(.*?)\1\s*\)|@import\s+(["'])(.*?)\3""", re.I | re.S)
REFRESH_URL = re.compile(r"""url\s*=\s*["']?([^"']*)""", re.I)
# Where a single URL is fetched, by element.
URL_ATTRIBUTES = {
    "script": ("src",),
    "iframe": ("src",),
    "frame": ("src",),
    "img": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "source": ("src",),
    "track": ("src",),
    "object": ("data",),
    "embed": ("src",),
}
SRCSET_ELEMENTS = {"img", "source"}
FETCHING_RELS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "preconnect",
    "dns-prefetch",
    "icon",
    "apple-touch-icon",
    "manifest",
}
# Every element that fetches through an attribute other than style.
FETCHING_TAGS = {*URL_ATTRIBUTES, *SRCSET_ELEMENTS, "input", "link", "meta"}
RUNNABLE_SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}
URL_WHITESPACE = re.compile(r"[\t\n\r]")
# The quick look that spares most pages the tokeniser. It looks at each authority
# ("//host") that is not the site's own and passes over two kinds: one in an xmlns
# attribute (a name, never fetched), and one that starts a link's target (<a
# href="https://…">, followed only on a click). Any other sends the page to the
# tokeniser, and so does whatever a browser also reads as "//": a backslash, a slash
# before a tab or newline it drops ("/<newline>/host"), a scheme without slashes
# ("https:host"), or a reference for any of these.
# A slash, then a slash or what a browser drops between two (tab, newline, CR).
SLASHES = re.compile(r"/[/\t\n\r]")
# The authority after two or more slashes, up to a character that may end it.
AUTHORITY = re.compile(r"//+([^/\\\s\"'<>?#)]*)")
XMLNS_BEFORE = re.compile(r"xmlns(?::[\w-]+)?\s*=\s*[\"']?https?:$", re.I)
# From the "<" before an authority: an <a> tag whose href starts with it. No quote
# comes before the href's own, so the authority is not in another attribute's value.
LINK_BEFORE = re.compile(
    r"""<a\s[^<>"']*?(?<![\w-])href\s*=\s*["']?(?:[a-z][a-z0-9+.-]*:)?""", re.I
)
OPENING = re.compile(r"""[<"']""")
# A special scheme's colon without "//" after it ("https:host", "http:/host"), where a
# browser also finds an authority.
SCHEME_COLON = re.compile(r":(?<=[pPsS]:)(?!//)")
SCHEME_BEFORE = re.compile(r"(?:^|[^a-z0-9+.-])(?:https?|ftp|wss?)$", re.I)
# A named or numeric reference for "/", "\\", ":", tab, newline or carriage return, or
# for a letter of those schemes ("ht&#116;ps:host"): a page with one goes to the tokeniser.
SPECIAL_REFERENCE = re.compile(
    r"&(?:sol|bsol|colon|Tab|NewLine)"
    r"|&#0*(?:47|92|58|9|10|13|104|116|112|115|102|119|72|84|80|83|70|87)(?!\d)"
    r"|&#[xX]0*(?:2[fF]|5[cC]|3[aA]|9|[aAdD]|68|74|70|73|66|77|48|54|50|53|46|57)(?![0-9a-fA-F])"
)


@dataclass(frozen=True)
class Resource:
    """One fetch the page makes: from which tag and attribute, what URL, which host."""

    element: str
    attribute: str
    url: str
    host: str
    start: int  # where the tag (or style block) starts in the page
    end: int

    def describe(self) -> str:
        return f"<{self.element} {self.attribute}>" if self.attribute else f"<{self.element}>"


def attributes(source: str) -> list[tuple[str, str | None]]:
    """A start tag's attributes, names lower-cased and values unescaped, in order."""
    return [
        (name.lower(), html.unescape(value.strip("\"'")) if value else None)
        for name, value in ATTRIBUTE.findall(source.rstrip(">"))
    ]


def host_of(url: str) -> str | None:
    """The host a URL reaches, or None for a URL on the page's own site (relative)."""
    cleaned = URL_WHITESPACE.sub("", url).strip(" \f\v\x00").replace("\\", "/")
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", cleaned, re.I)
    if scheme and scheme.group(1).lower() not in ("http", "https", "ftp", "ws", "wss"):
        return None  # data:, blob:, javascript:, mailto:… fetch nothing from a host
    rest = cleaned[scheme.end() :] if scheme else cleaned
    if not (scheme or rest.startswith("//")):
        return None
    # Browsers read any number of slashes there: "https:evil.example", "///evil.example".
    rest = "//" + rest.lstrip("/")
    try:
        host = urlsplit(f"http:{rest}").hostname
    except ValueError:
        host = rest[2:].split("/")[0]
    return (host or "").rstrip(".").lower() or None


def may_load_from_elsewhere(page: str, own_hosts: frozenset[str]) -> bool:
    """A cheap test: False means no tag of the page can reach another host."""
    if "\\" in page or ("&" in page and SPECIAL_REFERENCE.search(page)):
        return True  # a memchr each: most pages have neither
    for colon in SCHEME_COLON.finditer(page):
        if SCHEME_BEFORE.search(page[max(0, colon.start() - 6) : colon.start()]):
            return True
    for slashes in SLASHES.finditer(page):
        start = slashes.start()
        if slashes.group() != "//":
            return True  # "/<newline>/host"
        authority = AUTHORITY.match(page, start)
        stop = authority.end()
        host = authority.group(1).rsplit("@", 1)[-1].split(":")[0].rstrip(".").lower()
        # A quote, space, "<", ">" or ")" may end the attribute, or be part of a host.
        ours = (not host or host in own_hosts) and (stop == len(page) or page[stop] in "/?#")
        if not ours and not _named_or_linked(page, start):
            return True
    return False


def _named_or_linked(page: str, start: int) -> bool:
    """The authority at start names an XML namespace, or starts a link's target."""
    if XMLNS_BEFORE.search(page, max(0, start - 40), start):
        return True
    tag = page.rfind("<", 0, start)
    if tag == -1 or not LINK_BEFORE.fullmatch(page, tag, start):
        return False
    # The "<" starts a tag when, since the last ">", no tag or quoted value has begun.
    return not OPENING.search(page, page.rfind(">", 0, tag) + 1, tag)


def resources(page: str) -> Iterator[Resource]:
    """Every URL a browser fetches from the page without a click, relative ones included."""
    for token in TOKEN.finditer(page):
        raw, tag = token.group("raw"), token.group("tag")
        if raw:
            raw = raw.lower()
            attrs = attributes(token.group("raw_attrs"))
            if raw == "style":
                yield from _css(token.group("text"), "style", token.start(), token.end())
            elif raw == "script" and _runs(attrs):
                yield from _urls("script", attrs, ("src",), token)
            yield from _style_attribute(raw, attrs, token)
            continue
        if not tag:
            continue  # a comment or CDATA
        tag = tag.lower()
        if tag not in FETCHING_TAGS and "style" not in token.group("attrs").lower():
            continue  # an <a>, <p> or <div> fetches nothing, but through a style attribute
        attrs = attributes(token.group("attrs"))
        if tag in URL_ATTRIBUTES:
            yield from _urls(tag, attrs, URL_ATTRIBUTES[tag], token)
        if tag in SRCSET_ELEMENTS:
            for name, value in attrs:
                if name == "srcset" and value:
                    for candidate in value.split(","):
                        url = candidate.strip().split(" ")[0]
                        yield _resource(tag, "srcset", url, token)
        if tag == "input" and _value(attrs, "type").lower() == "image":
            yield from _urls(tag, attrs, ("src",), token)
        if tag == "link":
            rels = set(_value(attrs, "rel").lower().split())
            if rels & FETCHING_RELS:
                yield from _urls(tag, attrs, ("href",), token)
        refresh = tag == "meta" and _value(attrs, "http-equiv").lower() == "refresh"
        if refresh and (found := REFRESH_URL.search(_value(attrs, "content"))):
            yield _resource(tag, "http-equiv=refresh", found.group(1).strip(), token)
        yield from _style_attribute(tag, attrs, token)


def foreign(found: Iterator[Resource], own_hosts: frozenset[str]) -> list[Resource]:
    """The resources whose host is not one of ours."""
    return [r for r in found if r.host and r.host not in own_hosts]


def _value(attrs: list[tuple[str, str | None]], name: str) -> str:
    return next((value or "" for key, value in attrs if key == name), "")


def _runs(attrs: list[tuple[str, str | None]]) -> bool:
    return _value(attrs, "type").strip().lower() in RUNNABLE_SCRIPT_TYPES


def _resource(element: str, attribute: str, url: str, token: re.Match) -> Resource:
    return Resource(element, attribute, url, host_of(url) or "", token.start(), token.end())


def _urls(tag: str, attrs, names: tuple[str, ...], token: re.Match) -> Iterator[Resource]:
    for name, value in attrs:
        if name in names and value:
            yield _resource(tag, name, value, token)


def _css(text: str, element: str, start: int, end: int) -> Iterator[Resource]:
    for match in CSS_URL.finditer(text):
        url = (match.group(2) or match.group(4) or "").strip()
        yield Resource(element, "url()", url, host_of(url) or "", start, end)


def _style_attribute(tag: str, attrs, token: re.Match) -> Iterator[Resource]:
    for name, value in attrs:
        if name == "style" and value:
            for found in _css(value, tag, token.start(), token.end()):
                yield Resource(tag, "style", found.url, found.host, found.start, found.end)
