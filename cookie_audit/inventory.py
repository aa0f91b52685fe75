"""What a page declares: the cookie table in its banner, its consent cookie's Max-Age,
the hosts of each third party, and its click-to-load embeds.

The audit judges a built folder, so it reads the inventory from the markup the visitor
gets, not from the settings that should have produced it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from bs4 import BeautifulSoup

from cookie_audit.durations import parse_duration

# The banner's details dialog and the consent script's tag: all a page declares.
DECLARING_PARTS = re.compile(
    r"<dialog\b[^>]*\bid=\"cb-details\".*?</dialog\s*>"
    r"|<script\b[^>]*\bdata-cookie\b[^>]*>.*?</script\s*>"
    r"|<div\b[^>]*\bid=\"cb\"[^>]*>"  # the banner's root: the declared hosts
    r"|<section\b[^>]*\bdata-embed=[^>]*>",  # each click-to-load placeholder
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class DeclaredCookie:
    """One row of the banner's cookie table; the name may hold `*` wildcards."""

    name: str
    provider: str
    purpose: str = field(compare=False)  # in the page's language: pages may differ in it
    duration: str = ""  # as declared, in the site's own language, whatever the page's

    @property
    def max_age(self) -> float | None:
        return parse_duration(self.duration)

    def matches(self, cookie_name: str) -> bool:
        pattern = ".*".join(re.escape(part) for part in self.name.split("*"))
        return re.fullmatch(pattern, cookie_name) is not None


@dataclass(frozen=True)
class PageDeclarations:
    """The banner's cookie table and consent script settings, as one page has them."""

    cookies: tuple[DeclaredCookie, ...]
    consent_cookie: str | None
    consent_max_age: int | None
    analytics_hosts: tuple[str, ...] = ()  # where analytics may go once accepted
    declared_hosts: tuple[str, ...] = ()  # other hosts every visitor may load from
    # Each embed provider by id: its name (as in the cookie table) and its hosts.
    providers: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    embeds: tuple[str, ...] = ()  # the provider of each placeholder on the page, in order

    @property
    def has_banner(self) -> bool:
        return self.consent_cookie is not None


def read_declarations(html: str) -> PageDeclarations:
    """The cookie table (columns: cookie, set by, purpose, kept for) and the consent script."""
    return _parse_declarations("".join(DECLARING_PARTS.findall(html)))


# Thousands of pages carry the same banner: parse each distinct one once.
@lru_cache(maxsize=64)
def _parse_declarations(html: str) -> PageDeclarations:
    soup = BeautifulSoup(html, "html.parser")
    # find() and find_all(), not CSS selectors: compiling those costs a fifth of a second.
    details = soup.find(id="cb-details") or BeautifulSoup("", "html.parser")
    cookies = []
    for row in (row for body in details.find_all("tbody") for row in body.find_all("tr")):
        cells = [cell.get_text(" ", strip=True) for cell in row.find_all("td")]
        if len(cells) >= 4:
            # The row's data attributes are language-free; older banners have only the text.
            name, duration = row.get("data-cookie", cells[0]), row.get("data-duration", cells[3])
            cookies.append(DeclaredCookie(str(name), cells[1], cells[2], str(duration)))
    script = soup.find("script", attrs={"data-cookie": True})
    max_age = script.get("data-max-age", "") if script else ""
    analytics = soup.find(id="cb-analytics", attrs={"data-hosts": True})
    root = soup.find(id="cb", attrs={"data-declared-hosts": True})
    allows = details.find_all(attrs={"data-embed-allow": True, "data-hosts": True})
    placeholders = soup.find_all("section", attrs={"data-embed": True, "data-src": True})
    return PageDeclarations(
        cookies=tuple(cookies),
        consent_cookie=str(script["data-cookie"]) if script else None,
        consent_max_age=int(max_age) if str(max_age).isdigit() else None,
        analytics_hosts=tuple(analytics["data-hosts"].split()) if analytics else (),
        declared_hosts=tuple(root["data-declared-hosts"].split()) if root else (),
        providers={
            str(box["data-embed-allow"]): (
                str(box["data-provider"]),
                tuple(box["data-hosts"].split()),
            )
            for box in allows
        },
        embeds=tuple(str(s["data-embed"]) for s in placeholders),
    )


def find_declared(inventory: tuple[DeclaredCookie, ...], name: str) -> DeclaredCookie | None:
    """The row that declares a cookie: an exact name first, then a wildcard."""
    exact = next((cookie for cookie in inventory if cookie.name == name), None)
    return exact or next((cookie for cookie in inventory if cookie.matches(name)), None)
