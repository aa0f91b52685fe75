"""The manual: README.md and docs/*.md link only to what exists, and nothing is unreachable."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# The plugins' and the audit's READMEs, which hold their settings, are checked as well.
READMES = [*sorted(ROOT.glob("plugins/*/README.md")), ROOT / "cookie_audit/README.md"]
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *READMES]
PICTURES = sorted(p for p in DOCS.iterdir() if p.suffix in {".png", ".jpg", ".jpeg", ".svg"})

FENCE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
EXPLICIT_ID = re.compile(r"\s*\{#([\w-]+)\}$")


def prose(page: Path) -> str:
    """The page without its code blocks, where a link or a heading is only an example."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lower-cased, punctuation but hyphens
    dropped, spaces turned into hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(prose(page)):
        if explicit := EXPLICIT_ID.search(heading):
            found.add(explicit.group(1))
            continue
        base = slug(heading)
        name, n = base, 0
        while name in found:  # GitHub numbers a repeated heading: name, name-1, name-2
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def links(page: Path) -> list[str]:
    return LINK.findall(CODE_SPAN.sub("", prose(page)))


def local(target: str) -> bool:
    return not re.match(r"[a-z][a-z0-9+.-]*:", target, re.I)


# Other pages link to these by name.
MANUAL = [
    "README.md",
    "marketing.md",
    "legal.md",
    "consent-banner.md",
    "cookie-audit.md",
    "deploying.md",
    "testing.md",
    "performance.md",
    "design.md",
    "design-decisions.md",
]


def test_the_manual_has_its_pages():
    assert [name for name in MANUAL if not (DOCS / name).exists()] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_points_to_a_file_and_heading_that_exist(page):
    broken = []
    for target in filter(local, links(page)):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file.relative_to(ROOT)}")
        elif anchor and anchor not in anchors(file):
            broken.append(f"{target}: no heading '#{anchor}' in {file.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)} has broken links:\n" + "\n".join(broken)


def test_every_picture_in_docs_is_shown_on_a_page():
    shown = {
        (page.parent / target).resolve() for page in PAGES for target in filter(local, links(page))
    }
    assert PICTURES
    assert [p.name for p in PICTURES if p not in shown] == []


def test_no_docs_page_is_unlinked_from_the_readme_or_the_index():
    index = [ROOT / "README.md", DOCS / "README.md"]
    linked = {
        (page.parent / target.partition("#")[0]).resolve()
        for page in index
        for target in filter(local, links(page))
    }
    assert [p.name for p in DOCS.glob("*.md") if p not in linked] == []


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_every_docs_page_links_back_to_the_readme(page):
    first_paragraph = prose(page).split("\n\n")[1]
    assert "(../README.md)" in first_paragraph


def test_the_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_the_readme_lists_every_make_target():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:((?:.*\\\n)*.*)", makefile, re.M).group(1)
    targets = phony.replace("\\\n", " ").split()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [t for t in targets if f"| `make {t}" not in readme] == []


def test_the_slug_rule_is_githubs():
    assert slug("Cookie audit (`make audit`)") == "cookie-audit-make-audit"
    assert slug("The banner in the page's language") == "the-banner-in-the-pages-language"
    assert slug("Sitemap and search meta: plugins we compared") == (
        "sitemap-and-search-meta-plugins-we-compared"
    )
    assert slug("Publishing a page (marketing)") == "publishing-a-page-marketing"


def test_each_plugin_readme_describes_every_setting_once():
    from pelican.plugins.consent_banner.config import DEFAULTS as CONSENT
    from pelican.plugins.policy_versions.policy_versions import DEFAULT_CONFIG as POLICY_VERSIONS

    for readme, keys in (
        ("consent_banner/README.md", CONSENT),
        ("policy_versions/README.md", POLICY_VERSIONS),
    ):
        table = (ROOT / "plugins" / readme).read_text(encoding="utf-8")
        assert {key: table.count(f"| `{key}` |") for key in keys} == dict.fromkeys(keys, 1)
