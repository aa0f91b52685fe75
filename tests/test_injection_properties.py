"""Property-based tests of the banner injection over arbitrary and malformed HTML."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pelican.plugins.consent_banner.build import Build
from pelican.plugins.consent_banner.markup import InjectionError

# Text that must never be mistaken for the end of <head> or the start of <body>.
DECOYS = [
    "<!-- </head><body> -->",
    "<script>document.write('</head><body>')</script>",
    "<SCRIPT type='text/x-template'></head></SCRIPT>",
    "<style>/* </head> <body> */</style>",
    "<title>What </head> and <body> mean</title>",
    # A bogus comment runs to the first ">". (So does "<![CDATA[" outside SVG: there
    # "<![CDATA[ </head> <body>" holds a real <body>, as Chromium reads it.)
    "<?xml </head <body x='1' ?>",
    "<meta name='x' content='</head>'>",
]
text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="<>"), max_size=30
)
chunk = st.one_of(text, st.sampled_from(DECOYS))
newline = st.sampled_from(["\n", "\r\n", ""])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings_ = {
        "CONSENT": {"measurement_id": "G-TEST1234"},
        "OUTPUT_PATH": str(tmp_path_factory.mktemp("out")),
        "SITENAME": "Cloud 7",
    }
    build = Build(settings_)
    build.use_embeds({})
    build.render({"CONSENT_REVISION": "2026-12-01", "POLICY_URL": "privacy-policy/"})
    return build


def injected_banner(built: Build) -> str:
    """The banner as a page without the footer slot gets it: cookie settings included."""
    markup = built.markup.banner_in("en")
    return markup.banner + f'<p class="cb-fallback">{markup.control}</p>'


def without_injection(built: Build, page: str) -> str:
    banner = injected_banner(built)
    return page.replace(built.markup.head, "", 1).replace(banner, "", 1)


@settings(max_examples=300, deadline=None)
@given(
    bom=st.sampled_from(["", "\ufeff"]),
    head=st.lists(chunk, max_size=6),
    head_tag=st.sampled_from(["</head>", "</HEAD>", "</head >"]),
    between=st.lists(chunk, max_size=3),
    body_tag=st.sampled_from(["<body>", "<BODY class='a>b'>", '<body data-x="</head>">']),
    rest=st.lists(chunk, max_size=6),
    eol=newline,
)
def test_injection_finds_the_real_head_and_body(
    built, bom, head, head_tag, between, body_tag, rest, eol
):
    before_head = f"{bom}<!DOCTYPE html>{eol}<html><head>{eol.join(head)}"
    up_to_body = f"{head_tag}{eol.join(between)}{body_tag}"
    after_body = f"{eol.join(rest)}</body></html>{eol}"
    page = before_head + up_to_body + after_body
    injected = built.inject(page, "page.html")
    banner = injected_banner(built)
    assert injected == before_head + built.markup.head + up_to_body + banner + after_body
    assert built.inject(injected, "page.html") == injected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), st.sampled_from([*DECOYS, "</head>", "<body>"]))))
def test_any_document_is_injected_faithfully_or_refused(built, parts):
    page = "".join(parts)
    try:
        injected = built.inject(page, "page.html")
    except InjectionError as error:
        assert "page.html" in str(error)
        return
    assert built.inject(injected, "page.html") == injected
    assert without_injection(built, injected) == page


def test_undecodable_bytes_and_line_endings_survive(built):
    # Pelican hands the writer text; bytes it could not decode arrive as surrogates.
    page = "<html><head>\udcff\udcfe</head>\r\n<body>\udc80 caf\udce9\r\n</body></html>"
    assert without_injection(built, built.inject(page, "page.html")) == page
