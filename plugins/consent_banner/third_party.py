"""Find what a page makes a browser fetch from another host without a click.

The page is parsed as a browser parses it (justhtml, the WHATWG algorithm, with
scripting off so that <noscript> is markup): comments and the text of script, style,
title and textarea are never findings, <svg> and <math> are foreign content. Where a
browser reads text as markup in other circumstances (<iframe> fallback, <plaintext>)
it is scanned as a page of its own, erring towards a finding. Links and form
actions need a click and are not findings. tests/test_scanner_browser.py holds the
scanner to what Chromium fetches. The callers splice pages byte for byte, so each
finding carries its tag's place in the source: the parser's origin offset, and the
tag's end as TAG_REST reads it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from justhtml import JustHTML

# The rest of a start or end tag, as the tokeniser reads attributes: a quote opens a
# value only right after "=" (a ">" inside it does not end the tag); anywhere else it
# is part of a name or an unquoted value. Possessive: no backtracking. One turn of the
# loop per attribute, with the white space before it.
TAG_REST = (
    r"""(?:[\s/]*+(?:=[^\s/>=]*+|[^\s/>=]++)(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]*+))?)*+"""
    r"[\s/]*+>"
)
ATTRIBUTE = re.compile(r"""(=[^\s/>=]*|[^\s/>=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")
# After a "<", what is no tag: a comment ("<!-->" and "<!--->" are whole ones, "--!>"
# ends one too), and a bogus comment to the next ">" ("<!x", "<?x", "</3", and CDATA
# outside SVG, where it is one too; inside, erring towards findings).
COMMENT = r"!--(?:-?>|(?:[^-]++|-(?!-!?>))*+(?:--!?>|\Z))"
BOGUS_COMMENT = r"(?:!(?!--)|\?|/(?![a-z>]))[^>]*+>?"


def raw_text(name: str) -> str:
    """The text of a raw-text element called `name` (a pattern): up to its end tag."""
    return rf"[^<]*+(?:<(?!/{name}(?=[\s/>]))[^<]*+)*+"


def raw_end(name: str) -> str:
    """The end tag that ends a raw-text element, which may hold attributes, or the end
    of the page."""
    return rf"(?:</{name}(?=[\s/>])(?:{TAG_REST}|.*+)|\Z)"


Span = tuple[int, int]  # where a finding's tag starts and ends in the page
# A start tag, from its "<": where a finding's span ends; a script's span takes its text
# and end tag too, so that taking it out takes all of it.
START_TAG = re.compile(rf"<[a-z][^\s/>]*+{TAG_REST}", re.I)
SCRIPT_REST = re.compile(rf"{raw_text('script')}{raw_end('script')}", re.I | re.S)
# Where a single URL is fetched, by element. HTML reads <image> as <img>; SVG's image,
# feImage and script fetch through href.
URL_ATTRIBUTES = {
    "script": ("src", "href", "xlink:href"),
    "iframe": ("src",),
    "frame": ("src",),
    "img": ("src",),
    "image": ("src", "href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "source": ("src",),
    "track": ("src",),
    "object": ("data",),
    "embed": ("src",),
}
SRCSET_ELEMENTS = {"img", "image", "source"}
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
    "compression-dictionary",
}
# Text a browser reads as markup in other circumstances: scanned as a page.
SCANNED_TEXT = {"iframe", "plaintext"}
FOREIGN_CONTENT = ("svg", "math")  # namespaces: presentation attributes take url()
CSS_URL = re.compile(r"""url\(\s*(["']?)(.*?)\1\s*\)|@import\s+(["'])(.*?)\3""", re.I | re.S)
# image-set() names its images as strings, no url() needed.
IMAGE_SET = re.compile(r"""image-set\(((?:[^()]|\([^()]*\))*)\)""", re.I)
CSS_STRING = re.compile(r"""(["'])(.*?)\1""", re.S)
CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.S)
REFRESH_URL = re.compile(r"""url\s*=\s*["']?([^"']*)""", re.I)
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
    """A tag's attributes as TAG_REST reads them, names lower-cased, values unescaped."""
    found = []
    for attribute in ATTRIBUTE.finditer(source.removesuffix(">")):
        name, *values = attribute.groups()
        value = next((v for v in values if v is not None), None)  # None: no "="
        found.append((name.lower(), None if value is None else html.unescape(value)))
    return found


def attribute_map(source: str) -> dict[str, str | None]:
    """A tag's attributes as a browser keeps them: the first of a name wins."""
    return dict(reversed(attributes(source)))


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
    parsed = JustHTML(page, sanitize=False, scripting_enabled=False, track_node_locations=True)
    waiting = [parsed.root]
    while waiting:  # depth first, in document order
        node = waiting.pop()
        children = getattr(node, "template_content", None) or node
        waiting += reversed(children.children or ())
        if node.name.startswith("#") or node.origin_offset is None:
            continue  # text, comments, the document, tags the parser implied
        yield from _element(page, node)


def _element(page: str, node) -> Iterator[Resource]:
    tag, attrs = node.name.lower(), list(node.attrs.items())
    start = node.origin_offset
    end = START_TAG.match(page, start).end()
    text = "".join(child.text for child in node.children if child.name == "#text")
    if node.namespace == "html" and tag == "script":
        end = SCRIPT_REST.match(page, end).end()
        if not _runs(attrs):
            yield from _any_tag(tag, attrs, (start, end))
            return
    span = (start, end)
    yield from _tag(tag, attrs, span)
    if node.namespace in FOREIGN_CONTENT:
        for name, value in attrs:
            if name != "style" and value and "url(" in value.lower():
                yield from _css(value, tag, span, name)
    if tag == "style":
        yield from _css(text, tag, span)
    if tag in SCANNED_TEXT:
        for inner in resources(text):
            yield _resource(inner.element, inner.attribute, inner.url, span)


def _tag(tag: str, attrs: list[tuple[str, str | None]], span: Span) -> Iterator[Resource]:
    if tag in URL_ATTRIBUTES:
        yield from _urls(tag, attrs, URL_ATTRIBUTES[tag], span)
    if tag in SRCSET_ELEMENTS:
        yield from _srcset(tag, attrs, "srcset", span)
    if tag == "input" and _value(attrs, "type").lower() == "image":
        yield from _urls(tag, attrs, ("src",), span)
    if tag == "link" and set(_value(attrs, "rel").lower().split()) & FETCHING_RELS:
        yield from _urls(tag, attrs, ("href",), span)
        yield from _srcset(tag, attrs, "imagesrcset", span)
    if tag == "base":
        yield from _urls(tag, attrs, ("href",), span)
    if tag == "iframe":  # a document of its own, written in the attribute
        for name, value in attrs:
            if name == "srcdoc" and value:
                for inner in resources(value):
                    yield _resource(tag, "srcdoc", inner.url, span)
    refresh = tag == "meta" and _value(attrs, "http-equiv").lower() == "refresh"
    if refresh and (found := REFRESH_URL.search(_value(attrs, "content"))):
        yield _resource(tag, "http-equiv=refresh", found.group(1).strip(), span)
    yield from _any_tag(tag, attrs, span)


def foreign(found: Iterator[Resource], own_hosts: frozenset[str]) -> list[Resource]:
    """The resources whose host is not one of ours."""
    return [r for r in found if r.host and r.host not in own_hosts]


def _value(attrs: list[tuple[str, str | None]], name: str) -> str:
    return next((value or "" for key, value in attrs if key == name), "")


def _runs(attrs: list[tuple[str, str | None]]) -> bool:
    return _value(attrs, "type").strip().lower() in RUNNABLE_SCRIPT_TYPES


def _resource(element: str, attribute: str, url: str, span: Span) -> Resource:
    return Resource(element, attribute, url, host_of(url) or "", *span)


def _urls(tag: str, attrs, names: tuple[str, ...], span: Span) -> Iterator[Resource]:
    for name, value in attrs:
        if name in names and value:
            yield _resource(tag, name, value, span)


def _srcset(tag: str, attrs, attribute: str, span: Span) -> Iterator[Resource]:
    for name, value in attrs:
        if name == attribute and value:
            for candidate in value.split(","):
                yield _resource(tag, name, candidate.strip().split(" ")[0], span)


def _css(text: str, element: str, span: Span, attribute: str = "url()") -> Iterator[Resource]:
    """The URLs of url(), @import and image-set(), as written and with CSS escapes read."""
    for css in {text, CSS_ESCAPE.sub(_unescape_css, text)}:
        for match in CSS_URL.finditer(css):
            yield _resource(
                element, attribute, (match.group(2) or match.group(4) or "").strip(), span
            )
        for images in IMAGE_SET.finditer(css):
            for string in CSS_STRING.finditer(images.group(1)):
                yield _resource(element, attribute, string.group(2).strip(), span)


def _unescape_css(escape: re.Match) -> str:
    if escape.group(1):
        code = int(escape.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
    return escape.group(2)


def _any_tag(tag: str, attrs, span: Span) -> Iterator[Resource]:
    """What an attribute fetches on any element: style's url(), and background."""
    for name, value in attrs:
        if name == "style" and value:
            yield from _css(value, tag, span, "style")
        elif name == "background" and value:
            yield _resource(tag, name, value, span)
