"""The banner's markup: its assets, its head tag, its banner and settings control in each
language, the embeds' placeholders, and where they go in a page.

Found with plain string operations and one regular expression, so a page costs little.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import rcssmin
import rjsmin
from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, select_autoescape

from . import consent_js
from .config import uses_analytics
from .embeds import Embed
from .languages import Words, words_for
from .manifest import BannerMarkup
from .providers import GTAG_URL, Provider, analytics_provider, direct_link, load_url
from .third_party import BOGUS_COMMENT, COMMENT, TAG_REST, raw_end, raw_text

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
# consent.js and consent.css: consent_js/ in the checkout, a folder of the plugin in its wheel.
SOURCES = resources.files(consent_js)
ASSET_DIR = "consent"  # under the output folder
SETTINGS_SLOT = "<!-- cookie-settings -->"
# What may hide a "</head>" or "<body>" that is not one: comments and bogus comments,
# the text of script, style, title and textarea (unterminated, they run to the end),
# and the attribute values of any other tag, all read as third_party reads them. One
# match walks the page up to the <body> tag after the real </head>, all inside the
# regex engine: a page costs no Python loop.
# A tag as themes write it: attributes apart, each name="value", name='value', name=value
# or a bare name, no stray quote or "=". Its end is where the tokeniser's is; any other
# tag fails it, and TAG_REST reads it. Tried first: a turn per attribute, not three.
PLAIN_TAG_REST = r"""(?:\s++[^\s"'/>=]++(?:="[^"]*+"|='[^']*+'|=[^\s"'=<>`]++)?)*+\s*+/?>"""
REST = f"(?:{PLAIN_TAG_REST}|{TAG_REST})"
BODY_TAG = rf"<body(?=[\s/>]){REST}"
# After a "<": a comment, or a raw-text element with its text. No capturing
# group: Python 3.11's regex engine mistakes spans of groups inside a possessive repeat.
NOT_MARKUP = f"{COMMENT}|{BOGUS_COMMENT}" + "".join(
    rf"|{raw}(?=[\s/>]){REST}{raw_text(raw)}{raw_end(raw)}"
    for raw in ("script", "style", "title", "textarea")
)
# The page's language, as its theme declares it; the banner speaks it.
HTML_LANG = r"""<html\b[^>]*?\slang\s*=\s*["']?(?P<lang>[A-Za-z0-9-]+)"""
# Each loop is unrolled ("text, then (markup, text)*") and possessive, with the tags
# that can be nothing else tried first (make bench measures it).
# It looks ahead first for the <html> tag that starts most pages, and its lang.
HEAD_AND_BODY = re.compile(
    rf"(?:(?=(?:<!doctype\b[^>]*+>\s*+)?{HTML_LANG})|)"
    rf"[^<]*+(?:<(?:(?![stb!/])[a-z][^\s/>]*+{REST}|{NOT_MARKUP}|body(?=[\s/>]){REST}"
    rf"|[a-z][^\s/>]*+{REST}|(?!/head\s*>))[^<]*+)*+"
    rf"(?P<head></head\s*>)"
    rf"[^<]*+(?:(?!{BODY_TAG})<(?:{NOT_MARKUP}|/head\s*>|[a-z][^\s/>]*+{REST}|)[^<]*+)*+"
    rf"{BODY_TAG}",
    re.I | re.S,
)
# The <html> tag after a comment or other text: found, rarely, by a search of its own.
LATER_HTML_LANG = re.compile(HTML_LANG, re.I)
WIDE = re.compile(r"[^\x00-\xff]")
FRAME_ATTRIBUTES = ("allow", "allowfullscreen", "referrerpolicy")


class InjectionError(Exception):
    """A page the banner cannot be put into safely; the message names it."""


@dataclass(frozen=True)
class InsertionPoints:
    """Where the banner's pieces go in one page."""

    head: int  # where </head> starts: the head tag goes before it
    body: int  # where the <body> tag after it ends: the banner goes after it
    lang: str | None  # the lang of the page's <html> tag


def insertion_points(page: str, where: str) -> InsertionPoints:
    """Where </head> starts and where the <body> tag after it ends, skipping look-alikes;
    the lang of the page's <html> tag."""
    if found := HEAD_AND_BODY.match(page):
        lang = found.group("lang")
        if not lang and (later := LATER_HTML_LANG.search(page, 0, 4096)):
            lang = later.group("lang")
        return InsertionPoints(found.start("head"), found.end(), lang)
    raise InjectionError(f"consent_banner: {where}: no </head> followed by <body>")


def one_byte(markup: str) -> str:
    """Markup with every character above U+00FF as a reference ("’" as "&#8217;"). A
    page of one-byte characters then stays one: injected, it is copied, not widened."""
    return WIDE.sub(lambda m: f"&#{ord(m.group())};", markup)


def put_in(page: str, points: InsertionPoints, head: str, markup: BannerMarkup) -> str:
    """The page with the head tag before </head>, the banner after <body> and the control
    in the footer's slot (after the banner, for a theme without the slot)."""
    banner, control = markup.banner, markup.control
    slot = page.rfind(SETTINGS_SLOT, points.body)  # the footer's: the last, near the end
    after = slot + len(SETTINGS_SLOT)
    if slot == -1:  # a theme without the footer slot still gets the control
        banner += f'<p class="cb-fallback">{control}</p>'
        slot = after = len(page)
        control = ""
    # One copy of the page, however many pieces go in.
    parts = (page[: points.head], head, page[points.head : points.body], banner)
    return "".join((*parts, page[points.body : slot], control, page[after:]))


@dataclass(frozen=True)
class Assets:
    """consent.js and consent.css, minified, under names made from their content."""

    script: str  # consent.js as written, for the manifest's record pattern
    files: dict[str, str]  # extension: minified text

    @classmethod
    def read(cls) -> Assets:
        script = (SOURCES / "consent.js").read_text(encoding="utf-8")
        css = (SOURCES / "consent.css").read_text(encoding="utf-8")
        return cls(script, {".js": rjsmin.jsmin(script), ".css": rcssmin.cssmin(css)})

    def name(self, ext: str) -> str:
        return f"consent.{hashlib.sha256(self.files[ext].encode()).hexdigest()[:10]}{ext}"


def template_cache(settings: dict) -> FileSystemBytecodeCache | None:
    """The banner's templates compiled once, kept in Pelican's cache folder: Jinja checks
    each against its source. None (compile every time) where the folder cannot be made."""
    folder = Path(settings.get("CACHE_PATH") or "cache") / "consent_banner"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        logger.debug("consent_banner: templates not cached: %s", error)
        return None
    return FileSystemBytecodeCache(str(folder))


@dataclass(frozen=True)
class Site:
    """What the markup says of the site and its banner, settled when a build starts."""

    url: str
    name: str
    default_lang: str
    config: dict[str, Any]  # CONSENT, checked
    texts: dict  # CONSENT["texts"] as they apply under the policy version in force
    receipts: str  # where consent.js sends receipts; "": none
    revision: str
    policy_url: str
    inventory: list[dict[str, str]]
    embeds: list[Provider]  # the embed providers the site uses
    max_age: int

    def url_of(self, path: str) -> str:
        return f"{self.url}/{path}"

    def is_consent_cookie(self, cookie: dict[str, str]) -> bool:
        """The row of the consent cookie: described by the banner's own words."""
        return cookie["name"] == self.config["cookie_name"]


class Markup:
    """The head tag, and in each language (rendered on first use) the banner, the settings
    control and the embeds' placeholders."""

    def __init__(self, site: Site, assets: Assets, settings: dict) -> None:
        self.site = site
        self.assets = assets
        self.env = Environment(
            loader=FileSystemLoader(HERE),
            autoescape=select_autoescape(["html"]),
            bytecode_cache=template_cache(settings),
        )
        self.embed_template = self.env.get_template("embed.html")
        self.words: dict[str, Words] = {}
        self.banners: dict[str, BannerMarkup] = {}
        self.head = self.head_tag(banner="")  # the banner version comes once it is known

    def head_tag(self, banner: str) -> str:
        """The stylesheet and the script with its settings; receipts only with a version."""
        site, config = self.site, self.site.config
        return self.env.get_template("head.html").render(
            css=site.url_of(f"{ASSET_DIR}/{self.assets.name('.css')}"),
            js=site.url_of(f"{ASSET_DIR}/{self.assets.name('.js')}"),
            cookie_name=config["cookie_name"],
            revision=site.revision,
            max_age=site.max_age,
            measurement_id=config["measurement_id"],
            gtag=GTAG_URL,
            analytics_cookies=[c["name"] for c in site.inventory if c["category"] == "analytics"],
            honour_gpc=config["honour_gpc"],
            receipts=site.receipts and site.url_of(site.receipts.removeprefix("/")),
            banner=banner,
        )

    def words_in(self, lang: str) -> Words:
        if lang not in self.words:
            site = self.site
            self.words[lang] = words_for(
                lang,
                configured=site.texts,
                site=site.name,
                months=site.config["lifetime_months"],
                declared_in=site.default_lang,
                policy_lang=site.default_lang,  # policy_versions publishes in the site's language
                providers=site.embeds,
                cookies=[c for c in site.inventory if not site.is_consent_cookie(c)],
            )
        return self.words[lang]

    def banner_in(self, lang: str) -> BannerMarkup:
        """The banner and the cookie-settings control in one language, rendered once."""
        if lang not in self.banners:
            site = self.site
            words = self.words_in(lang)
            texts = words.texts
            own = {"purpose": texts["consent_cookie_purpose"], "duration": texts["lifetime"]}
            # Each row in this language; the declared duration stays for the audit to read.
            cookies = [
                {
                    **c,
                    **(own if site.is_consent_cookie(c) else words.cookies[c["name"]]),
                    "declared_duration": c["duration"],
                }
                for c in site.inventory
            ]
            banner = self.env.get_template("banner.html").render(
                t=texts,
                lang=lang,
                policy_lang=site.default_lang,
                cookies=cookies,
                categories={
                    "necessary": texts["necessary_title"],
                    "analytics": texts["analytics_title"],
                    "external-media": texts["external_title"],
                },
                analytics=analytics_provider(cookies) if uses_analytics(site.config) else None,
                embeds=site.embeds,
                declared_hosts=sorted(site.config["declared_hosts"]),
                policy_url=site.policy_url,
            )
            control = self.env.get_template("settings_button.html").render(t=texts)
            self.banners[lang] = BannerMarkup(one_byte(banner), one_byte(control))
        return self.banners[lang]

    def placeholder(self, embed: Embed, number: int, lang: str) -> str:
        """The click-to-load markup for one pasted embed, in the page's language."""
        provider, attrs = embed.provider, embed.attributes
        src = attrs.get("src") or ""
        title = (attrs.get("title") or "").strip() or provider.name
        words = self.words_in(lang)
        texts = {k: v.replace("{provider}", provider.name) for k, v in words.texts.items()}
        return self.embed_template.render(
            n=number,
            provider=provider,
            verb=words.verbs.get(provider.id, provider.verb),
            t=texts,
            src=load_url(provider, src),
            link=direct_link(provider, src),
            title=title,
            frame=[(name, attrs[name]) for name in FRAME_ATTRIBUTES if name in attrs],
            width=f"{embed.ratio[0]:g}",
            height=f"{embed.ratio[1]:g}",
            poster=attrs.get("data-poster"),
        )
