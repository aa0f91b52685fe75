"""The embed pass: every click-to-load placeholder clicked on its own, in a fresh visitor.

The five states already prove that no provider is contacted before a click; this pass
proves what a click brings: only the hosts its provider declares, and only its
declared cookies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser

from cookie_audit.sandbox import SiteServer, stub_google, stub_other_hosts

STATE = "embed"  # how the report names this pass


@dataclass
class EmbedClick:
    """What one click on one placeholder brought: requests to other hosts, cookies."""

    page: str
    provider: str
    index: int  # which placeholder of the page, from 0
    hosts: list[str] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)  # "name (domain)"


async def click_embeds(
    browser: Browser,
    server: SiteServer,
    placeholders: dict[str, tuple[str, ...]],
    on_click: Callable[[], None] = lambda: None,
) -> list[EmbedClick]:
    """Click each placeholder of each page, one per fresh context, and record what follows."""
    clicks = []
    for path, providers in placeholders.items():
        for index, provider in enumerate(providers):
            clicks.append(await _click(browser, server, path, provider, index))
            on_click()
    return clicks


async def _click(
    browser: Browser, server: SiteServer, path: str, provider: str, index: int
) -> EmbedClick:
    context = await browser.new_context()
    click = EmbedClick(path, provider, index)
    try:
        await stub_google(context)
        await stub_other_hosts(context, server.host)
        page = await context.new_page()

        def on_request(request) -> None:
            host = urlsplit(request.url).hostname or ""
            if request.url.startswith("http") and urlsplit(request.url).netloc != server.host:
                click.hosts.append(host)

        page.on("request", on_request)
        await page.goto(server.url(path))
        placeholder = page.locator("section[data-embed][data-src]").nth(index)
        await placeholder.locator("[data-embed-load]").click()
        frame = await (await placeholder.locator("iframe").element_handle()).content_frame()
        await frame.wait_for_load_state("networkidle")
        click.cookies = [f"{c['name']} ({c['domain']})" for c in await context.cookies()]
    finally:
        await context.close()
    return click
