"""Every third party the site may contact after consent, declared once.

Google Analytics is the analytics provider; YouTube, Vimeo and Google Maps are built-in
embed providers, and ``CONSENT["providers"]`` adds more. From these declarations come
the banner's cookie table, the cookies deleted on withdrawal, the gating of Google
tags, the click-to-load placeholders, the Content-Security-Policy and what the cookie
audit allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

ANALYTICS_HOSTS = ("googletagmanager.com", "google-analytics.com", "analytics.google.com")
GTAG_URL = "https://www.googletagmanager.com/gtag/js"
# https://developers.google.com/tag-platform/security/guides/csp (GA4, no Signals)
ANALYTICS_CSP = {
    "script-src": ["https://*.googletagmanager.com"],
    "img-src": ["https://*.google-analytics.com", "https://*.googletagmanager.com"],
    "connect-src": [
        "https://*.google-analytics.com",
        "https://*.analytics.google.com",
        "https://*.googletagmanager.com",
    ],
}
GOOGLE_PRIVACY = "https://policies.google.com/privacy"


@dataclass(frozen=True)
class Provider:
    """A third party: who it is, which hosts it uses, what it sets, how it is embedded."""

    id: str
    name: str
    category: str  # "analytics" or "external-media"
    hosts: tuple[str, ...]  # every host it may contact once loaded (subdomains included)
    policy_url: str
    cookies: tuple[dict[str, str], ...] = ()
    # Embeds only: what an embed's src looks like ("host/path-prefix") and the button's verb.
    embeds: tuple[str, ...] = ()
    verb: str = "Load content"
    frames: tuple[str, ...] = ()  # the origins its placeholders load; default: its embeds'
    csp: dict[str, list[str]] = field(default_factory=dict)
    # The title its own embed code gives every embed: it names the player, not the content.
    generic_titles: tuple[str, ...] = ()
    # Where this build's content and templates embed it, for messages about it.
    embedded_in: tuple[str, ...] = ()

    def names_no_content(self, title: str) -> bool:
        """Whether an embed's title is the provider's generic one (or its bare name)."""
        generic = {self.name.casefold(), *(t.casefold() for t in self.generic_titles)}
        return title.strip().casefold() in generic

    def embeds_url(self, url: str) -> bool:
        """Whether an iframe with this src is one of this provider's embeds."""
        parts = urlsplit(url)
        where = f"{(parts.hostname or '').lower()}{parts.path}"
        return any(where.startswith(prefix) for prefix in self.embeds)

    @property
    def frame_origins(self) -> list[str]:
        return list(self.frames) or sorted({f"https://{e.split('/')[0]}" for e in self.embeds})

    @property
    def content_security_policy(self) -> dict[str, list[str]]:
        """The sources it needs in the Content-Security-Policy: an embed, its frames."""
        return self.csp or {"frame-src": self.frame_origins}


def within(host: str, domains) -> bool:
    """Whether a host is one of the domains or a subdomain of one."""
    return any(host == d or host.endswith(f".{d}") for d in domains)


def _cookies(provider: str, *rows: tuple[str, str, str]) -> tuple[dict[str, str], ...]:
    """An embed provider's cookies: (name, purpose, duration) each."""
    return tuple(
        {"name": n, "provider": provider, "purpose": p, "duration": d, "category": "external-media"}
        for n, p, d in rows
    )


BUILT_IN = {
    "youtube": Provider(
        id="youtube",
        name="YouTube",
        category="external-media",
        hosts=(
            "youtube-nocookie.com",
            "youtube.com",
            "youtu.be",
            "ytimg.com",
            "googlevideo.com",
            "ggpht.com",
            "google.com",
            "googleapis.com",
            "gstatic.com",
            "doubleclick.net",
        ),
        policy_url=GOOGLE_PRIVACY,
        cookies=_cookies(
            "YouTube",
            ("YSC", "Tells apart views of a video, against abuse.", "session"),
            ("VISITOR_INFO1_LIVE", "Estimates your bandwidth to pick the quality.", "6 months"),
            ("VISITOR_PRIVACY_METADATA", "Stores your cookie choice for YouTube.", "6 months"),
        ),
        embeds=(
            "www.youtube-nocookie.com/embed/",
            "youtube-nocookie.com/embed/",
            "www.youtube.com/embed/",
            "youtube.com/embed/",
            "m.youtube.com/embed/",
        ),
        verb="Load video",
        frames=("https://www.youtube-nocookie.com",),
        generic_titles=("YouTube video player",),
    ),
    "vimeo": Provider(
        id="vimeo",
        name="Vimeo",
        category="external-media",
        hosts=("vimeo.com", "vimeocdn.com", "akamaized.net"),
        policy_url="https://vimeo.com/privacy",
        cookies=_cookies(
            "Vimeo",
            ("vuid", "Counts views and tells viewers apart.", "2 years"),
            ("__cf_bm", "Tells people from bots (Cloudflare).", "30 minutes"),
        ),
        embeds=("player.vimeo.com/video/",),
        verb="Load video",
    ),
    "google-maps": Provider(
        id="google-maps",
        name="Google Maps",
        category="external-media",
        hosts=("google.com", "googleapis.com", "gstatic.com", "ggpht.com"),
        policy_url=GOOGLE_PRIVACY,
        cookies=_cookies(
            "Google Maps",
            ("NID", "Remembers your preferences on Google services.", "6 months"),
            ("AEC", "Detects spam and abuse.", "6 months"),
        ),
        embeds=("www.google.com/maps/embed", "maps.google.com/maps"),
        verb="Load map",
    ),
}


def analytics_provider(cookies: list[dict[str, str]]) -> Provider:
    """Google Analytics, with the analytics cookies the inventory declares."""
    return Provider(
        id="google-analytics",
        name="Google Analytics",
        category="analytics",
        hosts=ANALYTICS_HOSTS,
        policy_url=GOOGLE_PRIVACY,
        cookies=tuple(c for c in cookies if c["category"] == "analytics"),
        csp=ANALYTICS_CSP,
    )


def direct_link(provider: Provider, src: str) -> str:
    """Where the content lives on the provider's own site, for a visitor without JavaScript."""
    parts = urlsplit(src)
    if provider.id == "youtube":
        video = parts.path.removeprefix("/embed/").split("/")[0]
        playlist = parse_qs(parts.query).get("list", [""])[0]
        if video == "videoseries" and playlist:
            return f"https://www.youtube.com/playlist?list={playlist}"
        if re.fullmatch(r"[\w-]{6,20}", video):
            return f"https://www.youtube.com/watch?v={video}"
    if provider.id == "vimeo":
        video = parts.path.removeprefix("/video/").split("/")[0]
        secret = parse_qs(parts.query).get("h", [""])[0]
        if video.isdigit():
            return f"https://vimeo.com/{video}" + (f"/{secret}" if secret else "")
    return src


def load_url(provider: Provider, src: str) -> str:
    """The URL the placeholder loads: YouTube from its no-cookie host."""
    if provider.id == "youtube":
        parts = urlsplit(src)
        return f"https://www.youtube-nocookie.com{parts.path}" + (
            f"?{parts.query}" if parts.query else ""
        )
    return src if src.startswith("https:") else f"https:{src}" if src.startswith("//") else src
