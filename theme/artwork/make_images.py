"""Render the site's bitmap icons and link-preview card from their sources; run after editing them.

The favicon is drawn once, as SVG (content/extra/favicon.svg); browsers that need a
bitmap get PNGs rendered from it. The card is an HTML page (social-card.html) filled
with SITENAME, SITE_DESCRIPTION and the home page's `Trust:` signals. Chromium renders
both, so the build itself needs nothing but Python: the outputs are committed. Run:
`make images`.
"""

from __future__ import annotations

import html
import struct
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from cookie_audit.chromium import CHROMIUM_ARGS, chromium_executable
from pelicanconf import SITE_DESCRIPTION, SITENAME

ROOT = Path(__file__).resolve().parents[2]

FAVICON = ROOT / "content/extra/favicon.svg"
HOME = ROOT / "content/pages/home.md"
CARD_SOURCE = Path(__file__).with_name("social-card.html")
OUTPUTS = {
    "ico": ROOT / "content/extra/favicon.ico",
    "apple": ROOT / "content/extra/apple-touch-icon.png",
    "card": ROOT / "content/images/social-card.jpg",
}
ICO_SIZES = (16, 32, 48)
APPLE_SIZE = 180  # iOS draws its own rounded corners over a full square
CARD_SIZE = (1200, 630)  # what Open Graph and X's large card expect
CARD_QUALITY = 85  # a JPEG: its gradient would be ten times larger as a PNG


def render(page, markup: str, width: int, height: int, folder: Path, **shot) -> bytes:
    """A screenshot of `markup` at exactly width × height pixels (a PNG unless `shot` says)."""
    source = folder / "render.html"
    source.write_text(markup, encoding="utf-8")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(source.as_uri())
    page.wait_for_load_state("load")
    return page.screenshot(clip={"x": 0, "y": 0, "width": width, "height": height}, **shot)


def icon_markup(svg: str, size: int, square: bool = False) -> str:
    if square:  # no transparent corners: iOS masks the icon itself
        svg = svg.replace('rx="14"', 'rx="0"')
    style = f"margin:0;width:{size}px;height:{size}px;background:transparent"
    return f'<body style="{style}">{svg.replace("<svg ", f"<svg width={size} height={size} ")}'


def trust_signals() -> list[str]:
    """The home page's `Trust:` metadata, one item per `;`."""
    for line in HOME.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "trust":
            return [item.strip() for item in value.split(";") if item.strip()]
    return []


def ico(pngs: list[tuple[int, bytes]]) -> bytes:
    """A Windows icon holding PNG images, which every browser since IE 11 reads."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, images = b"", b""
    for size, data in pngs:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def main() -> None:
    svg = FAVICON.read_text(encoding="utf-8").strip()
    card = (
        CARD_SOURCE.read_text(encoding="utf-8")
        .replace("{site}", html.escape(SITENAME))
        .replace("{promise}", html.escape(SITE_DESCRIPTION))
        .replace("{trust}", "".join(f"<li>{html.escape(item)}</li>" for item in trust_signals()))
    )
    with sync_playwright() as p, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "favicon.svg").write_text(svg, encoding="utf-8")
        browser = p.chromium.launch(executable_path=chromium_executable(p), args=CHROMIUM_ARGS)
        page = browser.new_page()
        sizes = [
            (size, render(page, icon_markup(svg, size), size, size, folder, omit_background=True))
            for size in ICO_SIZES
        ]
        OUTPUTS["ico"].write_bytes(ico(sizes))
        apple = render(
            page, icon_markup(svg, APPLE_SIZE, square=True), APPLE_SIZE, APPLE_SIZE, folder
        )
        OUTPUTS["apple"].write_bytes(apple)
        shot = {"type": "jpeg", "quality": CARD_QUALITY}
        OUTPUTS["card"].write_bytes(render(page, card, *CARD_SIZE, folder, **shot))
        browser.close()
    for path in OUTPUTS.values():
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
