"""The build-time privacy check and click-to-load embeds, as the build writes them."""

import re

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st
from pelican.plugins.consent_banner.build import Build, Gated
from pelican.plugins.consent_banner.config import ConsentConfigError, check_config
from pelican.plugins.consent_banner.providers import BUILT_IN
from pelican.plugins.consent_banner.third_party import foreign, may_load_from_elsewhere, resources

from tests.conftest import (
    build_fails,
    build_or_fail,
    build_output,
    copy_content,
    headers_file,
    html_pages,
    policy_version_or_fail,
    text,
)

# Each provider's own embed code, as its share dialog gives it.
EMBED_CODE = {
    "youtube": (
        '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ?si=ab1"'
        ' title="Cloud 7 product tour" frameborder="0" allow="accelerometer; autoplay;'
        ' clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share"'
        ' referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>'
    ),
    "vimeo": (
        '<div style="padding:56.25% 0 0 0;position:relative;"><iframe src="https://player.vimeo'
        ".com/video/76979871?h=8272103f6e&amp;badge=0&amp;autopause=0&amp;player_id=0&amp;"
        'app_id=58479" frameborder="0" allow="autoplay; fullscreen; picture-in-picture; '
        'clipboard-write" style="position:absolute;top:0;left:0;width:100%;height:100%;" '
        'title="Cloud 7 in 60 seconds"></iframe></div><script src="https://player.vimeo.com'
        '/api/player.js"></script>'
    ),
    "google-maps": (
        '<iframe src="https://www.google.com/maps/embed?pb=!1m18!1m12!1m3!1d2435.9!2d4.8952'
        '!3d52.3791" width="600" height="450" style="border:0;" allowfullscreen="" '
        'loading="lazy" referrerpolicy="no-referrer-when-downgrade"></iframe>'
    ),
}
LOADS = {
    "youtube": "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?si=ab1",
    "vimeo": (
        "https://player.vimeo.com/video/76979871?h=8272103f6e&badge=0&autopause=0"
        "&player_id=0&app_id=58479"
    ),
    "google-maps": "https://www.google.com/maps/embed?pb=!1m18!1m12!1m3!1d2435.9!2d4.8952!3d52.3791",
}
DIRECT_LINK = {
    "youtube": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "vimeo": "https://vimeo.com/76979871/8272103f6e",
    "google-maps": LOADS["google-maps"],
}
RATIO = {"youtube": "0 0 560 315", "vimeo": "0 0 100 56.25", "google-maps": "0 0 600 450"}


def embeds_content(root):
    """The real content plus one page per provider, its embed code pasted unchanged."""
    content = copy_content(root)
    for provider, code in EMBED_CODE.items():
        (content / f"pages/media-{provider}.md").write_text(
            f"Title: Media {provider}\nStatus: hidden\n\nBefore.\n\n{code}\n\nAfter.\n"
        )
    return content


@pytest.fixture(scope="module")
def embeds_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("embeds")
    return build_or_fail(root / "out", content=embeds_content(root / "content"))


def page(site, path: str) -> BeautifulSoup:
    return BeautifulSoup((site / path / "index.html").read_text(), "html.parser")


@pytest.mark.parametrize("provider", EMBED_CODE)
def test_pasted_embed_code_becomes_a_placeholder_that_fetches_nothing(embeds_site, provider):
    doc = page(embeds_site, f"media-{provider}")
    main = doc.find("main")
    assert main.find("iframe") is None and "style=" not in str(main)
    placeholder = main.find("section", class_="cb-embed")
    assert placeholder["data-embed"] == provider
    assert placeholder["data-src"] == LOADS[provider]
    assert placeholder.find("svg")["viewbox"] == RATIO[provider]
    title = doc.find(id=placeholder["aria-labelledby"]).get_text()
    button = placeholder.find("button", attrs={"data-embed-load": True}).get_text()
    assert button.startswith(("Load video: ", "Load map: ")) and button.endswith(title)
    links = {a.get_text(): a["href"] for a in placeholder.find_all("a")}
    assert DIRECT_LINK[provider] in links.values()
    policy = text("embed_policy", provider=BUILT_IN[provider].name)
    assert links[policy] == BUILT_IN[provider].policy_url
    found = foreign(resources(str(doc)), frozenset())
    assert found == []


def test_vimeo_player_script_is_removed_and_logged(tmp_path):
    build = built(tmp_path)
    result = build.inject(page_with(EMBED_CODE["vimeo"]), "media/index.html")
    assert "player.js" not in result and "<script" not in result.split("</head>")[1]
    assert build.gated == [
        Gated(
            "media/index.html",
            "Vimeo's script https://player.vimeo.com/api/player.js removed: "
            "the placeholder loads the player",
        )
    ]
    assert build.refused == []


def vimeo_pasted(root):
    """The real content and a page where marketing pasted Vimeo's embed code."""
    content = copy_content(root)
    (content / "pages/demo.md").write_text(
        f"Title: Demo\nStatus: hidden\n\nOur demo.\n\n{EMBED_CODE['vimeo']}\n"
    )
    return content


def test_an_embed_the_policy_in_force_does_not_declare_is_named_by_page_and_file(tmp_path):
    preview = build_output(tmp_path / "preview", content=vimeo_pasted(tmp_path / "content"))
    published = build_fails(
        tmp_path / "published", content=tmp_path / "content", settings_file="publishconf.py"
    )
    for said in (preview, published):
        assert "provider 'Vimeo' (external-media" in said
        assert "Vimeo is embedded in demo/index.html (from content/pages/demo.md)." in said
        assert "legal first starts a policy version that declares it" in said
        assert "until that version's day it stays out of the published site" in said


def test_once_legal_starts_a_version_that_declares_it_the_build_names_its_day(tmp_path):
    content = vimeo_pasted(tmp_path / "content")
    policy_version_or_fail(content, "new", "2027-01-01")
    version = content / "policies/privacy-policy/2027-01-01.md"
    approved = "Summary: We show a Vimeo video.\nReconsent: yes\n"
    version.write_text(version.read_text().replace("Summary: \n", approved))
    policy_version_or_fail(content, "lock", "2027-01-01")
    said = build_fails(tmp_path / "out", content=content, settings_file="publishconf.py")
    assert "Vimeo is embedded in demo/index.html (from content/pages/demo.md)." in said
    assert "the upcoming version 2027-01-01 declares it" in said
    assert "rebuild on 2027-01-01" in said


@pytest.mark.parametrize("title", ["YouTube video player", "YouTube"])
def test_an_embed_titled_like_its_player_gets_advice_naming_page_and_file(tmp_path, title):
    content = copy_content(tmp_path / "content")
    code = EMBED_CODE["youtube"].replace('title="Cloud 7 product tour"', f'title="{title}"')
    (content / "pages/tour.md").write_text(f"Title: Tour\nStatus: hidden\n\n{code}\n")
    said = build_output(tmp_path / "out", content=content)
    assert (
        f"consent_banner: tour/index.html (from content/pages/tour.md): the YouTube embed's "
        f'title is {title!r}, so its placeholder reads "Load video: {title}"; name the content '
        "in the iframe's title" in said
    )


def test_an_embed_that_names_its_content_gets_no_advice(embeds_site, tmp_path):
    said = build_output(tmp_path / "out", content=embeds_content(tmp_path / "content"))
    assert "name the content" not in said


def test_each_provider_used_is_in_the_cookie_table_settings_and_csp(embeds_site, site):
    table = page(site, "").select_one("#cb-details table").get_text(" ")
    assert "YouTube" in table and "Google Maps" in table and "Vimeo" not in table
    assert "VISITOR_INFO1_LIVE" in table and "NID" in table
    switches = [i["data-embed-allow"] for i in page(site, "").select("[data-embed-allow]")]
    assert switches == ["youtube", "google-maps"]
    everything = [i["data-embed-allow"] for i in page(embeds_site, "").select("[data-embed-allow]")]
    assert everything == ["youtube", "vimeo", "google-maps"]
    frames = next(
        d for d in headers_file(site)["Content-Security-Policy"].split("; ") if "frame-src" in d
    )
    assert frames.split()[1:] == [
        "'self'",
        "https://www.youtube-nocookie.com",
        "https://maps.google.com",
        "https://www.google.com",
    ]


def test_analytics_cookies_to_delete_come_from_the_inventory(site):
    script = page(site, "").find("script", attrs={"data-cookie": True})
    assert script["data-analytics-cookies"] == "_ga _ga_*"


def test_the_real_site_uses_a_video_and_a_map(site):
    news = page(site, "news/watch-the-recording-of-our-managed-kubernetes-webinar")
    assert (
        news.find("section", attrs={"data-embed": "youtube"})
        .find("img")["src"]
        .startswith("/images/")
    )
    assert page(site, "contact").find("section", attrs={"data-embed": "google-maps"})


# --- The privacy check refuses what it cannot account for --------------------------------

UNDECLARED = [
    '<script src="https://widgets.example/w.js"></script>',
    "<script type=module src=//widgets.example/m.js></script>",
    '<iframe src="https://forms.example/embed"></iframe>',
    '<frameset><frame src="https://frames.example/f"></frameset>',
    '<img src="https://partner.example/logo.png" alt="">',
    '<img src="/ok.png" srcset="/ok.png 1x, https://partner.example/logo@2x.png 2x" alt="">',
    '<picture><source srcset="https://partner.example/a.webp"><img src="/a.png" alt=""></picture>',
    '<video src="https://media.example/v.mp4" poster="/p.png"></video>',
    '<video src="/v.mp4" poster="https://media.example/poster.jpg"></video>',
    '<audio src="//media.example/a.mp3"></audio>',
    '<video><track src="https://media.example/captions.vtt"></video>',
    '<object data="https://media.example/movie.swf"></object>',
    '<embed src="https://media.example/e.swf">',
    '<input type="image" src="https://partner.example/button.png" alt="Go">',
    '<link rel="stylesheet" href="https://fonts.example/css?family=X">',
    '<link rel="preconnect" href="https://fonts.example">',
    '<link rel="dns-prefetch" href="//fonts.example">',
    '<link rel="icon" href="https://partner.example/favicon.ico">',
    '<link rel="apple-touch-icon" href="https://partner.example/icon.png">',
    '<link rel="manifest" href="https://partner.example/app.webmanifest">',
    '<link rel="preload" as="font" href="https://fonts.example/f.woff2">',
    '<link rel="modulepreload" href="https://widgets.example/m.js">',
    '<link rel="prefetch" href="https://widgets.example/next.html">',
    "<style>body { background: url('https://partner.example/bg.png') }</style>",
    '<style>@import "https://fonts.example/x.css";</style>',
    '<div style="background-image:url(//partner.example/bg.png)">x</div>',
    '<meta http-equiv="refresh" content="0; url=https://elsewhere.example/">',
    '<IMG SRC="HTTPS://PARTNER.EXAMPLE/LOUD.PNG">',
    '<img src="&#x2F;&#x2F;partner.example/encoded.png">',
    '<img src="https:\\\\partner.example/backslashes.png">',
    '<img src="///partner.example/three-slashes.png">',
    '<img src="https:partner.example/no-slashes.png">',
    '<noscript><img src="https://tracker.example/pixel.gif"></noscript>',
    '<pre><img src="https://partner.example/in-pre.png"></pre>',
]
ALLOWED = [
    '<a href="https://partner.example/">Our partner</a>',
    '<form action="https://forms.example/post"><button>Send</button></form>',
    '<p><code>&lt;img src="https://partner.example/x.png"&gt;</code></p>',
    '<pre><code>&lt;script src="https://widgets.example/w.js"&gt;&lt;/script&gt;</code></pre>',
    '<!-- <img src="https://partner.example/commented.png"> -->',
    '<script type="application/ld+json">{"logo": "https://partner.example/l.png"}</script>',
    "<script>const help = 'see https://partner.example/';</script>",
    '<textarea><img src="https://partner.example/text.png"></textarea>',
    '<link rel="canonical" href="https://elsewhere.example/">',
    '<link rel="alternate" type="application/atom+xml" href="https://feeds.example/a.atom">',
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="">',
    '<img src="https://www.cloud7.example/images/own.png" alt="">',
    '<img src="https://cdn.cloud7.example/logo.png" alt="">',
    "<p>Visit https://partner.example/ or //partner.example/ today.</p>",
]


def built(tmp_path, **consent):
    settings_ = {
        "CONSENT": {"measurement_id": "G-TEST1234", **consent},
        "OUTPUT_PATH": str(tmp_path),
        "SITENAME": "Cloud 7",
        "SITEURL": "https://www.cloud7.example",
    }
    build = Build(settings_)
    build.use_embeds({provider: [] for provider in BUILT_IN})  # as if all are used
    build.render({"CONSENT_REVISION": "2026-12-01", "POLICY_URL": "privacy-policy/"})
    return build


def page_with(markup: str) -> str:
    return f"<!DOCTYPE html><html><head><title>T</title></head><body>{markup}</body></html>"


@pytest.mark.parametrize("markup", UNDECLARED)
def test_each_way_to_load_from_an_undeclared_host_is_refused(tmp_path, markup):
    build = built(tmp_path)
    build.inject(page_with(markup), "campaign/index.html", "content/pages/campaign.md")
    assert len(build.refused) == 1, build.refused
    line = build.refused[0]
    assert line.startswith("campaign/index.html (from content/pages/campaign.md): <")
    assert re.search(
        r"from (partner|widgets|forms|frames|media|fonts|elsewhere|tracker)\.example", line
    )
    assert "self-host the file under content/" in line and "CONSENT['declared_hosts']" in line


@pytest.mark.parametrize("markup", ALLOWED)
def test_links_text_code_comments_and_declared_hosts_pass(tmp_path, markup):
    build = built(tmp_path, declared_hosts={"cdn.cloud7.example": "Our own CDN"})
    build.inject(page_with(markup), "t.html")
    assert build.refused == []


def test_a_page_with_an_undeclared_resource_fails_the_build_and_writes_nothing(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "pages/partners.md").write_text(
        "Title: Partners\n\nOur partners.\n\n"
        '<img src="https://partner.example/logo.png" alt="Partner">\n\n'
        '[Their site](https://partner.example/) and `<img src="https://partner.example/x">`\n'
    )
    message = build_fails(tmp_path / "out", content=content)
    assert (
        "partners/index.html (from content/pages/partners.md): <img src> loads "
        "https://partner.example/logo.png from partner.example before any consent" in message
    )
    assert "the privacy check refused 1 resource(s)" in message  # not the link, not the code
    assert not (tmp_path / "out").exists()


def test_a_declared_host_is_allowed_and_reaches_the_csp_and_the_audit(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "pages/partners.md").write_text(
        'Title: Partners\n\n<img src="https://cdn.cloud7.example/logo.png" alt="Logo">\n'
    )
    consent = {
        "measurement_id": "G-C7SITE2026",
        "declared_hosts": {"cdn.cloud7.example": "Cloud 7's own CDN, run by us"},
    }
    out = build_or_fail(tmp_path / "out", content=content, CONSENT=consent)
    csp = headers_file(out)["Content-Security-Policy"]
    assert "img-src 'self' https://*.google-analytics.com" in csp
    assert "https://cdn.cloud7.example" in csp.split("img-src")[1].split(";")[0]
    root = page(out, "partners").find(id="cb")
    assert root["data-declared-hosts"] == "cdn.cloud7.example"


@pytest.mark.parametrize(
    "consent, key",
    [
        ({"declared_hosts": {"cdn.example": ""}}, "declared_hosts.cdn.example"),
        ({"declared_hosts": {"https://cdn.example/": "x"}}, "declared_hosts.https://cdn.example/"),
        ({"declared_hosts": ["cdn.example"]}, "declared_hosts"),
        ({"providers": [{"id": "x"}]}, "providers[0]"),
        ({"providers": "vimeo"}, "providers"),
    ],
)
def test_bad_embed_settings_fail_naming_the_key(consent, key):
    with pytest.raises(ConsentConfigError, match=re.escape(f"'CONSENT' key: {key!r}")):
        check_config(consent)


ACME = {
    "id": "acme",
    "name": "Acme Video",
    "hosts": ["acme.example", "acmecdn.example"],
    "embeds": ["player.acme.example/embed/"],
    "policy_url": "https://acme.example/privacy",
    "verb": "Play video",
    "cookies": [
        {"name": "acme_session", "purpose": "Keeps the player's state.", "duration": "1 day"}
    ],
}


# The site's Dutch edition shows the provider's button and cookie in Dutch.
ACME_IN_DUTCH = {
    "nl": {
        "verbs": {"acme": "Video afspelen"},
        "cookies": {
            "acme_session": {"purpose": "Onthoudt de stand van de speler.", "duration": "1 dag"}
        },
    }
}


def test_a_configured_provider_gets_placeholders_table_rows_and_a_switch(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "pages/acme.md").write_text(
        'Title: Acme\n\n<iframe src="https://player.acme.example/embed/42" title="Demo"></iframe>\n'
    )
    out = build_or_fail(
        tmp_path / "out",
        content=content,
        CONSENT={"measurement_id": "G-C7SITE2026", "providers": [ACME], "texts": ACME_IN_DUTCH},
    )
    doc = page(out, "acme")
    placeholder = doc.find("section", attrs={"data-embed": "acme"})
    assert placeholder.find("button").get_text() == "Play video: Demo"
    assert (
        doc.select_one('[data-embed-allow="acme"]')["data-hosts"] == "acme.example acmecdn.example"
    )
    assert "acme_session" in doc.select_one("#cb-details table").get_text()
    assert "https://player.acme.example" in headers_file(out)["Content-Security-Policy"]


# --- Property-based: the scanner over arbitrary and malformed HTML -----------------------

noise = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="<>&"), max_size=20
)
decoy = st.sampled_from(ALLOWED[:8] + ["<p>", "</div>", "<br/>", "<!---->", "<a href=x>"])
filler = st.lists(st.one_of(noise, decoy), max_size=5).map("".join)


@settings(max_examples=200, deadline=None)
@given(before=filler, construct=st.sampled_from(UNDECLARED), after=filler, upper=st.booleans())
def test_the_scanner_finds_every_listed_construct_wherever_it_stands(
    before, construct, after, upper
):
    markup = construct.upper() if upper else construct
    found = foreign(resources(page_with(before + markup + after)), frozenset())
    assert len(found) == 1, (markup, found)


# Ways a browser still reads "//" (the quick look must send each to the scanner).
DISGUISED = [
    '<img src="/\n/partner.example/newline.png">',
    '<img src="/\t/partner.example/tab.png">',
    '<img src="/\r/partner.example/cr.png">',
    '<img src="&sol;&sol;partner.example/named.png">',
    '<img src="\\\\partner.example/backslashes.png">',
    '<img src="&bsol;&bsol;partner.example/named-backslashes.png">',
    '<img src="&#47;&#47;partner.example/decimal.png">',
    '<img src="/&#10;/partner.example/newline-reference.png">',
    '<img src="/&NewLine;/partner.example/named-newline.png">',
    '<img src="/&Tab;/partner.example/named-tab.png">',
    '<img src="https&colon;partner.example/named-colon.png">',
    '<img src="HTTP:/partner.example/one-slash.png">',
    '<img src="ht&#116;ps:partner.example/encoded-scheme.png">',
    '<img src="http&#115:partner.example/no-semicolon.png">',
]


@settings(max_examples=300, deadline=None)
@given(before=filler, construct=st.sampled_from(UNDECLARED + DISGUISED), after=filler)
def test_the_quick_look_never_spares_a_page_the_scanner_would_refuse(before, construct, after):
    page = page_with(before + construct + after)
    assert foreign(resources(page), frozenset())
    assert may_load_from_elsewhere(page, frozenset({"www.cloud7.example"}))


# Pieces of markup that make and break tags, attributes, schemes and authorities.
markup_pieces = st.sampled_from(
    ["<", ">", "/", "//", "///", '"', "'", "=", " ", "\n", "\t", "\\", "!", "<!--", "-->"]
    + ["<a ", "<A\n", "href=", "HREF=", "data-", "title=", "title=<a ", "<title>", "</title>"]
    + ["<img ", "src=", "srcset=", "<link ", "rel=icon ", "rel=stylesheet ", "style=", "url("]
    + ["<script>", "</script>", "<style>", "</style>", "xmlns=", "http:", "https:", "HTTP:"]
    + ["p:", "s:", ":", ")", "?", "#", "&#10;", "&Tab;", "&#47;", "&sol;", "&colon;", "x"]
    + ["&#116;", "&#115", "&#39;"]
    + ["partner.example", "www.cloud7.example"]
)


@settings(max_examples=1000, deadline=None)
@given(html=st.lists(markup_pieces, max_size=30).map("".join))
def test_the_quick_look_agrees_with_the_scanner_on_any_markup(html):
    if foreign(resources(html), frozenset({"www.cloud7.example"})):
        assert may_load_from_elsewhere(html, frozenset({"www.cloud7.example"}))


@pytest.mark.parametrize(
    "markup, spared",
    [
        ('<a href="https://partner.example/">Our partner</a>', True),
        ("<A class=more HREF=//partner.example/x>More</A>", True),
        ('<svg xmlns="http://www.w3.org/2000/svg"></svg>', True),
        ("<link rel=stylesheet title=<a href=//partner.example/x.css>", False),
        ("<link rel=stylesheet title='<a href=' href=//partner.example/x.css>", False),
        ('<link title="x>" rel=stylesheet t=<a href=//partner.example/x.css>', False),
        ('<a style="background:url(//partner.example/bg.png)" href="/">x</a>', False),
        ("<p>See https://partner.example/ today.</p>", False),  # to the scanner, which passes it
    ],
)
def test_the_quick_look_spares_only_pages_whose_other_hosts_are_links(markup, spared):
    page = page_with(markup)
    assert may_load_from_elsewhere(page, frozenset({"www.cloud7.example"})) is not spared


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.one_of(noise, st.sampled_from(ALLOWED[:10])), max_size=8))
def test_the_scanner_never_reports_links_text_code_or_comments(chunks):
    assert foreign(resources(page_with("".join(chunks))), frozenset()) == []


@settings(max_examples=300, deadline=None)
@given(html=st.text(max_size=200))
def test_the_scanner_survives_any_text(html):
    for resource in resources(html):
        assert resource.start <= resource.end


def test_every_built_page_passes_the_check(site):
    for built_page in html_pages(site):
        assert foreign(resources(built_page.read_text()), frozenset()) == [], built_page
