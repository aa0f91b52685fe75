"""Every page type in real Chromium: loads cleanly, stays on our host, passes axe."""

import pytest

from tests.conftest import CONTENTS, DUTCH_PAGES, OVERFLOWING, PAGE_TYPES, axe_violations, text


@pytest.mark.parametrize("path", [*PAGE_TYPES, *DUTCH_PAGES])
def test_page_loads_cleanly_from_our_host_only(visitor, path):
    response = visitor.open(path)
    assert response.ok, f"{path}: HTTP {response.status}"
    assert visitor.errors == []
    assert visitor.failed_requests == []
    assert visitor.foreign_requests == []
    assert visitor.google_requests == []


@pytest.mark.parametrize("path", [*PAGE_TYPES, *DUTCH_PAGES])
def test_page_has_no_accessibility_violation(visitor, path):
    visitor.open(path)
    assert axe_violations(visitor.page) == []


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/services/",
        "/contact/",
        "/news/",
        "/news/watch-the-recording-of-our-managed-kubernetes-webinar/",
        "/privacy-policy/",
        "/privacy-policy/2026-12-01/changes/",
        "/nl/",
        "/nl/contact/",
    ],
)
def test_dark_mode_has_no_accessibility_violation(new_visitor, path):
    visitor = new_visitor(color_scheme="dark")
    visitor.open(path)
    assert axe_violations(visitor.page) == []
    visitor.click(text("details", "nl" if path.startswith("/nl/") else "en"))
    assert axe_violations(visitor.page) == []


def test_pages_read_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url("/privacy-policy/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Privacy Policy"
    assert not page.locator("#cb-banner").is_visible()
    context.close()


@pytest.mark.parametrize("path", [*PAGE_TYPES, "/about/", *DUTCH_PAGES])
def test_nothing_is_wider_than_a_320_pixel_screen(new_visitor, path):
    visitor = new_visitor(viewport={"width": 320, "height": 640})
    visitor.open(path)
    assert visitor.page.evaluate("document.documentElement.scrollWidth") <= 320


WIDTHS = {"phone": 390, "desktop": 1280}
POLICY_PAGES = ["/privacy-policy/", "/privacy-policy/2026-12-01/", "/privacy-policy/2022-12-08/"]


@pytest.mark.parametrize("width", [320, *WIDTHS.values()])
@pytest.mark.parametrize("path", [*POLICY_PAGES, "/privacy-policy/2026-12-01/changes/"])
def test_the_policy_tables_fit_the_screen(new_visitor, path, width):
    visitor = new_visitor(viewport={"width": width, "height": 800})
    visitor.open(path)
    assert visitor.page.evaluate(OVERFLOWING) == []


# Each cell as a card shows it: its label (shown before it, or none) and its text.
CARD_CELLS = """r => [...r.cells].map(c => [
  getComputedStyle(c, '::before').content === 'none' ? '' : c.dataset.label,
  c.textContent.trim(),
])"""


def test_on_a_phone_each_table_row_reads_as_a_card(new_visitor):
    visitor = new_visitor(viewport={"width": 390, "height": 800})
    visitor.open("/privacy-policy/")
    page = visitor.page
    displays = page.eval_on_selector_all(
        ".table-scroll :is(tr, td)", "cells => cells.map(c => getComputedStyle(c).display)"
    )
    assert set(displays) == {"block"}
    # The column names stay for screen readers, out of sight.
    heads = page.eval_on_selector_all(".table-scroll thead", "hs => hs.map(h => h.offsetWidth)")
    assert heads == [1, 1]
    youtube = page.locator(".provider-table tbody tr", has_text="YouTube").evaluate(CARD_CELLS)
    assert youtube[0] == ["", "YouTube"]
    assert youtube[1] == ["Used for", "Videos and maps"]
    assert youtube[2][0] == "Contacted at"
    assert youtube[3] == ["", "The privacy policy of YouTube"]
    ga = page.locator(".cookie-table tbody tr").nth(1).evaluate(CARD_CELLS)
    assert ga == [
        ["", "_ga"],
        ["Set by", "Google Analytics"],
        ["", "Tells visits from different people apart, so we can count visitors."],
        ["Kept for", "2 years"],
    ]


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS)
def test_the_provider_table_names_categories_and_policies_in_words(new_visitor, width):
    visitor = new_visitor(viewport={"width": width, "height": 800})
    visitor.open("/privacy-policy/")
    table = visitor.page.locator(".provider-table")
    links = table.get_by_role("link").all_inner_texts()
    assert [" ".join(link.split()) for link in links] == [
        "The privacy policy of Google Analytics",
        "The privacy policy of YouTube",
        "The privacy policy of Google Maps",
    ]
    assert "https://" not in table.inner_text()
    assert "Videos and maps" in table.inner_text()


@pytest.mark.parametrize("path", POLICY_PAGES)
def test_a_policy_page_has_contents_that_work_without_javascript(browser, server, path):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url(path))
    contents = page.get_by_role("navigation", name="Contents")
    assert contents.is_visible()
    links = page.evaluate(CONTENTS)
    assert links and all(is_heading for _, is_heading in links), links
    # Every section of the text is listed, in order, then the check of the version.
    headings = page.eval_on_selector_all(
        ".policy-text h2", "hs => hs.map(h => h.textContent.trim())"
    )
    assert [name for name, _ in links] == headings
    contents.get_by_role("link", name=headings[5]).click()
    target = page.locator(f"h2:text-is({headings[5]!r})")
    assert page.url.endswith("#" + target.get_attribute("id"))
    assert target.is_visible() and target.bounding_box()["y"] < 100
    context.close()


HOME_SERVICES = """(() => {
  const cards = [...document.querySelectorAll('.home-services > li')]
    .map(li => li.getBoundingClientRect());
  const grid = document.querySelector('.home-services').getBoundingClientRect();
  const rows = {};
  cards.forEach(c => (rows[Math.round(c.top)] ||= []).push(c));
  const broken = [];
  for (const link of document.querySelectorAll('.home-services h3 a')) {
    const node = link.firstChild;
    let at = 0;
    for (const word of node.textContent.split(' ')) {
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + word.length);
      if (range.getClientRects().length > 1) broken.push(word);
      at += word.length + 1;
    }
  }
  return {
    perRow: Object.values(rows).map(r => r.length),
    rowsFull: Object.values(rows)
      .every(r => Math.abs(Math.max(...r.map(c => c.right)) - grid.right) < 1),
    broken,
  };
})()"""


@pytest.mark.parametrize("width", [390, 768, 1024, 1280])
@pytest.mark.parametrize("path", ["/", "/nl/"])
def test_the_home_services_fill_their_rows_and_break_no_word(new_visitor, path, width):
    visitor = new_visitor(viewport={"width": width, "height": 800})
    visitor.open(path)
    layout = visitor.page.evaluate(HOME_SERVICES)
    assert layout["broken"] == []
    assert layout["rowsFull"], layout
    if width >= 1024:
        assert min(layout["perRow"]) >= 2, layout


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS)
def test_the_webinar_poster_shows_above_the_placeholder_text(new_visitor, width):
    visitor = new_visitor(viewport={"width": width, "height": 800})
    visitor.open("/news/watch-the-recording-of-our-managed-kubernetes-webinar/")
    poster = visitor.page.locator(".cb-embed-poster").bounding_box()
    ask = visitor.page.locator(".cb-embed-ask").bounding_box()
    assert poster["height"] >= 100
    assert ask["y"] >= poster["y"] + poster["height"] - 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_map_placeholder_is_drawn_like_a_map_from_our_host(new_visitor, scheme):
    visitor = new_visitor(color_scheme=scheme)
    visitor.open("/contact/")
    backdrop = visitor.page.locator('.cb-embed[data-embed="google-maps"]').evaluate(
        "e => getComputedStyle(e).backgroundImage"
    )
    assert backdrop.count("gradient(") >= 4 and "url(" not in backdrop
    assert visitor.other_host_requests == []
