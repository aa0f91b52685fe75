"""`make screenshots`: every page type in Chromium at a phone's and a desktop's width.

Light and dark, with the cookie banner open (a first visit) and closed (a visitor who
chose). Everything goes to screenshots/ (not committed) for a designer to look through;
the few docs/design.md shows are written to docs/ as well. `make screenshots`, or
`.venv/bin/python -m tests.screenshots /services/ /contact/` for some pages only.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from cookie_audit.sandbox import launch_options
from tests.conftest import PAGE_TYPES, ROOT, Server, build_or_fail

WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}
SCHEMES = ("light", "dark")
BANNER = ("open", "closed")
EVERYTHING = ROOT / "screenshots"
# The pictures docs/design.md shows: (page, width, scheme, banner) -> file in docs/.
FOR_README = {
    ("/", "desktop", "light", "closed"): "home-desktop-light.jpg",
    ("/", "phone", "dark", "open"): "home-phone-dark-banner.jpg",
    ("/services/", "desktop", "dark", "closed"): "services-desktop-dark.jpg",
    ("/contact/", "phone", "light", "closed"): "contact-phone-light.jpg",
    ("/news/managed-kubernetes-is-now-generally-available/", "desktop", "light", "open"): (
        "article-desktop-light-banner.jpg"
    ),
}
README_QUALITY = 70  # JPEG: a tenth of a PNG's size for a photo-like page


def name(path: str, width: str, scheme: str, banner: str) -> str:
    page = path.strip("/").replace("/", "-").removesuffix(".html") or "home"
    return f"{page}-{width}-{scheme}-banner-{banner}"


def shoot(browser, server: Server, paths: list[str]) -> None:
    EVERYTHING.mkdir(exist_ok=True)
    for width, (w, h) in WIDTHS.items():
        for scheme in SCHEMES:
            context = browser.new_context(viewport={"width": w, "height": h}, color_scheme=scheme)
            page = context.new_page()
            for banner in BANNER:
                if banner == "closed":  # choose once; later pages show no banner
                    page.goto(server.url("/"))
                    page.get_by_role("button", name="Reject analytics cookies").click()
                for path in paths:
                    page.goto(server.url(path))
                    page.wait_for_load_state("load")
                    label = name(path, width, scheme, banner)
                    page.screenshot(path=EVERYTHING / f"{label}.png", full_page=True)
                    if readme := FOR_README.get((path, width, scheme, banner)):
                        page.screenshot(
                            path=ROOT / "docs" / readme, type="jpeg", quality=README_QUALITY
                        )
            context.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    paths = sys.argv[1:] or [*PAGE_TYPES, "/about/"]  # or only the pages named
    with tempfile.TemporaryDirectory() as work:
        site = build_or_fail(Path(work) / "output")
        server = Server(site)
        with sync_playwright() as p:
            browser = p.chromium.launch(**launch_options(p))
            shoot(browser, server, paths)
            browser.close()
        server.close()
    print(f"{len(list(EVERYTHING.glob('*.png')))} screenshots in {EVERYTHING.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
