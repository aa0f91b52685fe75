"""The embed pass: every click-to-load placeholder clicked on its own, in a fresh visitor.

The five states already prove that no provider is contacted before a click; this pass
proves what a click brings: only the hosts its provider declares, and only its
declared cookies.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, Page

from cookie_audit.crawl import StateWalk
from cookie_audit.sandbox import SiteServer, stub_other_hosts

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
    at_once: asyncio.Semaphore,
) -> list[EmbedClick]:
    """Click each placeholder of each page, each in a fresh visitor, as many at once as
    `at_once` lets in beside the audit's other visitors."""

    async def click(path: str, index: int, provider: str) -> EmbedClick:
        async with at_once:
            return await _click(browser, server, path, provider, index)

    return await asyncio.gather(
        *(
            click(path, index, provider)
            for path, providers in placeholders.items()
            for index, provider in enumerate(providers)
        )
    )


async def _click(
    browser: Browser, server: SiteServer, path: str, provider: str, index: int
) -> EmbedClick:
    """A visitor who has chosen nothing loads one embed; the other hosts are stand-ins."""
    walk = await StateWalk.start(browser, server, STATE)
    try:
        await stub_other_hosts(walk.context, server.host)

        async def load(page: Page) -> None:
            placeholder = page.locator("section[data-embed][data-src]").nth(index)
            await placeholder.locator("[data-embed-load]").click()
            frame = await (await placeholder.locator("iframe").element_handle()).content_frame()
            await frame.wait_for_load_state("load")  # then the walk waits for what it started

        visit = await walk.visit_and(path, load)
    finally:
        await walk.context.close()
    hosts = [urlsplit(request.url).hostname or "" for request in visit.requests]
    cookies = [f"{cookie.name} ({cookie.domain})" for cookie in visit.cookies]
    return EmbedClick(path, provider, index, hosts, cookies)
