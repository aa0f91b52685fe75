"""The privacy check's scanner held to what Chromium fetches, on markup made to trip it.

Each snippet names the one host, evil.test, that it may load from. Chromium says
whether it does; the scanner must then find it (no false negative, whatever the
markup). A snippet Chromium does not fetch from is either quiet (links, text, code,
comments: the scanner must not find it) or flagged (markup a browser fetches from in
other circumstances, such as <noscript> without JavaScript: the scanner errs towards
a finding).
"""

import pytest
from pelican.plugins.consent_banner.third_party import foreign, resources

FETCHES, QUIET, FLAGGED = "fetches", "quiet", "flagged"
EVIL = "evil.test"
IMG = "<img src=//evil.test/a.png>"
CASES = {
    # The listed constructs.
    "img src": (FETCHES, '<img src="https://evil.test/a.png">'),
    "img srcset": (FETCHES, '<img srcset="https://evil.test/a.png,https://evil.test/b.png 2x">'),
    "picture source": (
        FETCHES,
        '<picture><source srcset="https://evil.test/a.png"><img src="a.png" alt=""></picture>',
    ),
    "video src": (FETCHES, '<video src="https://evil.test/a.mp4"></video>'),
    "video poster": (FETCHES, '<video poster="https://evil.test/a.png"></video>'),
    "video source": (FETCHES, '<video><source src="https://evil.test/a.mp4"></video>'),
    "audio src": (FETCHES, '<audio src="https://evil.test/a.mp3"></audio>'),
    "object data": (FETCHES, '<object data="https://evil.test/a.svg"></object>'),
    "input image": (FETCHES, '<input type="image" src="https://evil.test/a.png">'),
    "style attribute": (FETCHES, '<div style="background:url(https://evil.test/a.png)">x</div>'),
    "style import": (FETCHES, '<style>@import "https://evil.test/a.css";</style>'),
    "meta refresh": (FETCHES, '<meta http-equiv="refresh" content="0;url=https://evil.test/">'),
    "attribute reference": (FETCHES, '<img src="https://evil&period;test/a.png">'),
    # What the tokeniser reads differently from a regular expression's first guess.
    "quote inside a name": (FETCHES, f'<p title=x b"c> {IMG} "d>x</p>'),
    "quote after a lone =": (FETCHES, f'<p ="x> {IMG} ">x</p>'),
    "quote inside a bare value": (FETCHES, f'<p title=a"b> {IMG} "c>x</p>'),
    "empty comment <!-->": (FETCHES, f"<!--> {IMG} -->"),
    "empty comment <!--->": (FETCHES, f"<!---> {IMG} -->"),
    "comment ended by --!>": (FETCHES, f"<!-- x --!> {IMG} -->"),
    "CDATA outside SVG": (FETCHES, f"<![CDATA[ x > {IMG} ]]>"),
    "script end tag with attributes": (
        FETCHES,
        f'<script type="text/plain">x</script foo> {IMG} <script type="text/plain"></script>',
    ),
    "script end tag with a slash": (
        FETCHES,
        f'<script type="text/plain">x</script/> {IMG} <script type="text/plain"></script>',
    ),
    "title end tag with a space": (FETCHES, f"<title>x</title > {IMG} </title>"),
    "style in SVG is markup": (FETCHES, f"<svg><style>{IMG}</style></svg>"),
    "title in SVG is markup": (FETCHES, f"<svg><title>{IMG}</title></svg>"),
    "style in MathML is markup": (FETCHES, f"<math><style>{IMG}</style></math>"),
    # Fetching markup beyond the list.
    "image is img": (FETCHES, '<image src="//evil.test/a.png">'),
    "SVG image href": (FETCHES, '<svg><image href="https://evil.test/a.png" width="9"/></svg>'),
    "SVG image xlink:href": (
        FETCHES,
        '<svg><image xlink:href="https://evil.test/a.png" width="9" height="9"/></svg>',
    ),
    "SVG feImage": (
        FETCHES,
        '<svg><filter id="f"><feImage href="https://evil.test/a.png"/></filter>'
        '<rect filter="url(#f)" width="9" height="9"/></svg>',
    ),
    "SVG script href": (FETCHES, '<svg><script href="https://evil.test/a.js"></script></svg>'),
    "SVG fill url()": (
        FETCHES,
        '<svg><rect fill="url(https://evil.test/a.svg#g)" width="9" height="9"/></svg>',
    ),
    "SVG mask url()": (
        FETCHES,
        '<svg><rect mask="url(https://evil.test/a.svg#m)" width="9" height="9"/></svg>',
    ),
    "SVG style import": (FETCHES, '<svg><style>@import "https://evil.test/a.css";</style></svg>'),
    "table cell background": (
        FETCHES,
        '<table><tr><td background="https://evil.test/a.png">x</td></tr></table>',
    ),
    "body background": (FETCHES, '<body background="https://evil.test/a.png">x'),
    "link imagesrcset": (
        FETCHES,
        '<link rel="preload" as="image" imagesrcset="https://evil.test/a.png 1x">',
    ),
    "link compression dictionary": (
        FETCHES,
        '<link rel="compression-dictionary" href="https://evil.test/d">',
    ),
    "iframe srcdoc": (FETCHES, '<iframe srcdoc="&lt;img src=//evil.test/a.png&gt;"></iframe>'),
    "base href": (FETCHES, '<base href="https://evil.test/"><img src="a.png">'),
    "CSS image-set()": (
        FETCHES,
        "<div style=\"background-image:image-set('https://evil.test/a.png' 1x)\">x</div>",
    ),
    "CSS escape in url()": (
        FETCHES,
        '<div style="background:url(https\\3a //evil.test/a.png)">x</div>',
    ),
    "CSS escape in url's name": (
        FETCHES,
        "<style>div{background:u\\72l(https://evil.test/a.png)}</style><div>x</div>",
    ),
    # Nothing fetched, nothing found.
    "link": (QUIET, '<a href="https://evil.test/a">x</a>'),
    "comment": (QUIET, f"<!-- {IMG} -->"),
    "code": (QUIET, '<pre><code>&lt;img src="https://evil.test/a.png"&gt;</code></pre>'),
    "data block": (QUIET, f'<script type="text/plain">{IMG}</script>'),
    "textarea": (QUIET, f"<textarea>{IMG}</textarea>"),
    "xmp": (QUIET, f"<xmp>{IMG}</xmp>"),
    "quoted value": (QUIET, f'<p title="{IMG}">x</p>'),
    "bogus comment": (QUIET, f"<!x {IMG} y>"),
    "end tag attributes": (QUIET, f"</p {IMG}>"),
    "SVG foreignObject": (QUIET, "<svg><foreignObject><style>x{}</style></foreignObject></svg>"),
    "SVG external use": (QUIET, '<svg><use href="https://evil.test/a.svg#x"/></svg>'),
    "link prerender": (QUIET, '<link rel="prerender" href="https://evil.test/">'),
    # Nothing fetched here, found all the same.
    "noscript": (FLAGGED, f"<noscript>{IMG}</noscript>"),  # fetched without JavaScript
    "plaintext": (FLAGGED, f"<plaintext>{IMG}"),
    "iframe text": (FLAGGED, f"<iframe>{IMG}</iframe>"),
    "embed": (FLAGGED, '<embed src="https://evil.test/a.swf">'),  # with a plugin for it
    "track": (FLAGGED, '<video><track src="https://evil.test/a.vtt" default></video>'),
    "icon": (FLAGGED, '<link rel="icon" href="https://evil.test/a.ico">'),
    "SVG script src": (FLAGGED, '<svg><script src="https://evil.test/a.js"></script></svg>'),
}
FRAMES = "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture(scope="module")
def chromium_fetches(browser):
    """Whether Chromium, given a snippet as a page's body, fetches from evil.test."""
    context = browser.new_context()
    served, asked = {}, set()

    def answer(route) -> None:
        if route.request.url == "https://site.test/":
            route.fulfill(status=200, content_type="text/html", body=served["page"])
        else:  # every other host is a stand-in; none is reached
            asked.add(route.request.url.split("/")[2])
            route.fulfill(status=204, body="")

    context.route("**/*", answer)
    page = context.new_page()

    def fetches(html: str) -> bool:
        served["page"] = document(html)
        asked.clear()
        page.goto("https://site.test/", wait_until="load")
        page.evaluate(FRAMES)  # style and layout have run: what they load is asked for
        return EVIL in asked

    yield fetches
    context.close()


def document(body: str) -> str:
    return f"<!DOCTYPE html><html><head></head><body>{body}</body></html>"


@pytest.mark.parametrize("name", CASES)
def test_the_scanner_finds_whatever_chromium_fetches(chromium_fetches, name):
    kind, html = CASES[name]
    found = EVIL in {r.host for r in foreign(resources(document(html)), frozenset())}
    assert chromium_fetches(html) == (kind == FETCHES), "the case's label is out of date"
    assert found == (kind != QUIET)
