"""Pictures of the banner for the report: first layer and details, on a desktop and a phone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from playwright.async_api import Browser

from cookie_audit.sandbox import SiteServer, stub_google

VIEWPORTS = {"Desktop": (1280, 800), "Mobile": (375, 740)}


@dataclass
class Screenshot:
    label: str
    width: int
    height: int
    png: bytes


async def _shoot(browser: Browser, server: SiteServer, path: str, device: str) -> list[Screenshot]:
    width, height = VIEWPORTS[device]
    context = await browser.new_context(viewport={"width": width, "height": height})
    try:
        await stub_google(context)
        page = await context.new_page()
        await page.goto(server.url(path))
        banner = page.locator("#c7c-banner")
        await banner.wait_for()
        first_layer = await page.screenshot()
        await banner.locator("[data-consent-open]").click()
        await page.locator("#c7c-details").wait_for()
        details = await page.screenshot()
    finally:
        await context.close()
    return [
        Screenshot(f"{device}, first layer", width, height, first_layer),
        Screenshot(f"{device}, cookie details", width, height, details),
    ]


async def banner_screenshots(browser: Browser, server: SiteServer, path: str) -> list[Screenshot]:
    """The banner as a first-time visitor meets it, and with its details open."""
    shots = await asyncio.gather(*(_shoot(browser, server, path, d) for d in VIEWPORTS))
    return [shot for pair in shots for shot in pair]
