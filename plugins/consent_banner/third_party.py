"""Find what a page makes a browser fetch from another host without a click.

Reads HTML as a browser tokenises it (the WHATWG tokeniser's states, with regular
expressions rather than a full parse): comments, bogus comments and the text of
script, style, title and textarea are not markup, so a URL there is never a finding,
while a tag inside <pre> or <noscript> is real. Inside <svg> and <math> nothing is
raw text. Where the tokeniser and a browser could still part ways, the reading errs
towards a finding. Links and form actions need a click and are not findings.
tests/test_scanner_browser.py holds the scanner to what Chromium fetches.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit


def _tag_rest(chars) -> str:
    """The rest of a start or end tag, as the tokeniser reads attributes: a quote opens
    a value only right after "=" (a ">" inside it does not end the tag); anywhere else
    it is part of a name or an unquoted value. Possessive: no backtracking. `chars`
    turns each run of characters into the pattern it is read with."""
    name, value = chars(r"[^\s/>=]"), chars(r"[^\s>]")
    quoted = rf""""{chars('[^"]')}*+"|'{chars("[^']")}*+'"""
    # One turn of the loop per attribute, with the white space before it.
    return rf"(?:[\s/]*+(?:={name}*+|{name}++)(?:\s*+=\s*+(?:{quoted}|{value}*+))?)*+[\s/]*+>"


TAG_REST = _tag_rest(lambda chars: chars)
ATTRIBUTE = re.compile(r"""(=[^\s/>=]*|[^\s/>=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")
# After a "<", what is no tag: a comment ("<!-->" and "<!--->" are whole ones, "--!>"
# ends one too), and a bogus comment to the next ">" ("<!x", "<?x", "</3", and CDATA
# outside SVG, where it is one too; inside, erring towards findings).
COMMENT = r"!--(?:-?>|(?:[^-]++|-(?!-!?>))*+(?:--!?>|\Z))"
BOGUS_COMMENT = r"(?:!(?!--)|\?|/(?![a-z>]))[^>]*+>?"
END_TAG = rf"/[a-z][^\s/>]*+{TAG_REST}"
RAW = ("script", "style", "title", "textarea", "xmp", "noembed", "noframes")


def raw_text(name: str) -> str:
    """The text of a raw-text element called `name` (a pattern): up to its end tag."""
    return rf"[^<]*+(?:<(?!/{name}(?=[\s/>]))[^<]*+)*+"


def raw_end(name: str) -> str:
    """The end tag that ends a raw-text element, which may hold attributes, or the end
    of the page."""
    return rf"(?:</{name}(?=[\s/>])(?:{TAG_REST}|.*+)|\Z)"


RAW_ELEMENT = (
    rf"(?P<raw>{'|'.join(RAW)})(?=[\s/>])(?P<raw_attrs>{TAG_REST})"
    rf"(?P<text>{raw_text('(?P=raw)')}){raw_end('(?P=raw)')}"
)
START_TAG = rf"(?P<tag>[a-z][^\s/>]*)(?P<attrs>{TAG_REST})"
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
# Every element that fetches through an attribute of its own; <base> moves every
# relative URL of the page to its host.
FETCHING_TAGS = {*URL_ATTRIBUTES, *SRCSET_ELEMENTS, "input", "link", "meta", "base"}
# The HTML standard's "foreign elements": inside them nothing is raw text until their
# end tag (see resources()).
SVG_AND_MATH = ("svg", "math")
SVG_AND_MATH_NAMES = "|".join(SVG_AND_MATH)
# Attributes that fetch on any element: style's url(), and background (body, tables).
ANY_TAG_FETCHES = re.compile("style|background", re.I)
# The rest of a tag with neither of those words in it (compiled ignoring case): each
# character class "[^…]" also refuses s and b, which pass only when no word starts there.
QUIET_REST = _tag_rest(lambda chars: rf"(?:{chars[:-1]}sb]++|s(?!tyle)|b(?!ackground))")
# Each match passes over, inside the engine, what cannot fetch: text, comments, end
# tags, and a tag of no fetching element with no style or background in it. It ends
# with the next token, a "<" that starts nothing (then text), or the end of the page;
# the next match starts where it ends.
TOKENS = re.compile(
    rf"(?:[^<]++|<(?:{COMMENT}|{BOGUS_COMMENT}|{END_TAG}"
    rf"|(?!(?:{'|'.join((*RAW, *SVG_AND_MATH, *sorted(FETCHING_TAGS)))})(?=[\s/>]))"
    rf"[a-z][^\s/>]*+{QUIET_REST}))*+"
    rf"(?:(?P<token><(?:{RAW_ELEMENT}|{START_TAG}))|<|\Z)",
    re.I | re.S,
)
# Inside <svg> or <math>: no raw text, and every tag is a token, as is the end of either.
SVG_AND_MATH_TOKENS = re.compile(
    rf"(?:[^<]++|<(?:{COMMENT}|{BOGUS_COMMENT}|(?!/(?:{SVG_AND_MATH_NAMES})(?=[\s/>])){END_TAG}))*+"
    rf"(?:(?P<token><(?:{START_TAG}|/(?P<end>{SVG_AND_MATH_NAMES})(?=[\s/>]){TAG_REST}))|<|\Z)",
    re.I | re.S,
)
# SVG's <style>: markup to the tokeniser, CSS all the same.
SVG_STYLE_TEXT = re.compile(raw_text("style"), re.I)
# Start tags that end <svg> and <math> content (the HTML standard's list, less <font>).
BREAKOUT_TAGS = (
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i"
    " img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt"
    " u ul var"
)
BREAKOUT = set(BREAKOUT_TAGS.split())
CSS_URL = re.compile(r"""url\(\s*(["']?)(.*?)\1\s*\)|@import\s+(["'])(.*?)\3""", re.I | re.S)
# image-set() names its images as strings, no url() needed.
IMAGE_SET = re.compile(r"""image-set\(((?:[^()]|\([^()]*\))*)\)""", re.I)
CSS_STRING = re.compile(r"""(["'])(.*?)\1""", re.S)
CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.S)
REFRESH_URL = re.compile(r"""url\s*=\s*["']?([^"']*)""", re.I)
# Scripts the browser runs: no type, or a JavaScript one (gate_google_tags gates these).
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
    position, inside = 0, 0  # how deep in <svg> or <math>, where nothing is raw text
    while position < len(page):
        token = (SVG_AND_MATH_TOKENS if inside else TOKENS).match(page, position)
        position = token.end()
        found = token.groupdict()
        if not found["token"]:
            continue  # a "<" that starts nothing, or the end of the page
        if found.get("raw"):
            yield from _raw_element(token)
            continue
        tag = found["tag"] and found["tag"].lower()
        if tag in SVG_AND_MATH:
            inside += 1
        elif found.get("end"):
            inside -= 1
        elif inside and tag in BREAKOUT:
            inside = 0
        if inside and tag:  # SVG's presentation attributes take url() too
            yield from _svg_or_math_tag(page, tag, attributes(found["attrs"]), token)
        elif tag and (tag in FETCHING_TAGS or ANY_TAG_FETCHES.search(found["attrs"])):
            yield from _tag(tag, attributes(found["attrs"]), token)


def _svg_or_math_tag(page: str, tag: str, attrs, token: re.Match) -> Iterator[Resource]:
    yield from _tag(tag, attrs, token)
    for name, value in attrs:
        if name != "style" and value and "url(" in value.lower():
            yield from _css(value, tag, token, name)
    if tag == "style":
        yield from _css(SVG_STYLE_TEXT.match(page, token.end()).group(), tag, token)


def _raw_element(token: re.Match) -> Iterator[Resource]:
    raw = token.group("raw").lower()
    attrs = attributes(token.group("raw_attrs"))
    if raw == "style":
        yield from _css(token.group("text"), "style", token)
    elif raw == "script" and _runs(attrs):
        yield from _urls("script", attrs, URL_ATTRIBUTES["script"], token)
    yield from _any_tag(raw, attrs, token)


def _tag(tag: str, attrs: list[tuple[str, str | None]], token: re.Match) -> Iterator[Resource]:
    if tag in URL_ATTRIBUTES:
        yield from _urls(tag, attrs, URL_ATTRIBUTES[tag], token)
    if tag in SRCSET_ELEMENTS:
        yield from _srcset(tag, attrs, "srcset", token)
    if tag == "input" and _value(attrs, "type").lower() == "image":
        yield from _urls(tag, attrs, ("src",), token)
    if tag == "link" and set(_value(attrs, "rel").lower().split()) & FETCHING_RELS:
        yield from _urls(tag, attrs, ("href",), token)
        yield from _srcset(tag, attrs, "imagesrcset", token)
    if tag == "base":
        yield from _urls(tag, attrs, ("href",), token)
    if tag == "iframe":  # a document of its own, written in the attribute
        for name, value in attrs:
            if name == "srcdoc" and value:
                for inner in resources(value):
                    yield _resource(tag, "srcdoc", inner.url, token)
    refresh = tag == "meta" and _value(attrs, "http-equiv").lower() == "refresh"
    if refresh and (found := REFRESH_URL.search(_value(attrs, "content"))):
        yield _resource(tag, "http-equiv=refresh", found.group(1).strip(), token)
    yield from _any_tag(tag, attrs, token)


def foreign(found: Iterator[Resource], own_hosts: frozenset[str]) -> list[Resource]:
    """The resources whose host is not one of ours."""
    return [r for r in found if r.host and r.host not in own_hosts]


def _value(attrs: list[tuple[str, str | None]], name: str) -> str:
    return next((value or "" for key, value in attrs if key == name), "")


def _runs(attrs: list[tuple[str, str | None]]) -> bool:
    return _value(attrs, "type").strip().lower() in RUNNABLE_SCRIPT_TYPES


def _resource(element: str, attribute: str, url: str, token: re.Match) -> Resource:
    start = token.start("token")
    return Resource(element, attribute, url, host_of(url) or "", start, token.end())


def _urls(tag: str, attrs, names: tuple[str, ...], token: re.Match) -> Iterator[Resource]:
    for name, value in attrs:
        if name in names and value:
            yield _resource(tag, name, value, token)


def _srcset(tag: str, attrs, attribute: str, token: re.Match) -> Iterator[Resource]:
    for name, value in attrs:
        if name == attribute and value:
            for candidate in value.split(","):
                yield _resource(tag, name, candidate.strip().split(" ")[0], token)


def _css(text: str, element: str, token: re.Match, attribute: str = "url()") -> Iterator[Resource]:
    """The URLs of url(), @import and image-set(), as written and with CSS escapes read."""
    for css in {text, CSS_ESCAPE.sub(_unescape_css, text)}:
        for match in CSS_URL.finditer(css):
            yield _resource(
                element, attribute, (match.group(2) or match.group(4) or "").strip(), token
            )
        for images in IMAGE_SET.finditer(css):
            for string in CSS_STRING.finditer(images.group(1)):
                yield _resource(element, attribute, string.group(2).strip(), token)


def _unescape_css(escape: re.Match) -> str:
    if escape.group(1):
        code = int(escape.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
    return escape.group(2)


def _any_tag(tag: str, attrs, token: re.Match) -> Iterator[Resource]:
    """What an attribute fetches on any element: style's url(), and background."""
    for name, value in attrs:
        if name == "style" and value:
            yield from _css(value, tag, token, "style")
        elif name == "background" and value:
            yield _resource(tag, name, value, token)
