"""Inject the cookie-consent banner into every HTML page, gate Google tags and embeds.

Works on each HTML page as Pelican's writer renders it, so it needs nothing from
the theme, and with plain string operations, so it costs little on large sites.
Every resource a page would load from another host is accounted for (``embeds``),
or the build fails naming it.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
from collections.abc import Callable
from functools import cached_property, partial
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import rcssmin
import rjsmin
from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, select_autoescape
from pelican import signals
from pelican.writers import Writer

from . import consent_js
from .config import (
    SECONDS_PER_MONTH,
    check_config,
    consent_cookie_purposes,
    consent_policy,
    cookie_inventory,
    embed_providers,
    texts_in_force,
    uses_analytics,
)
from .embeds import Embed, check_page
from .gate_google_tags import gate_google_tags, inline_file_name
from .languages import BUILT_IN as BUILT_IN_LANGUAGES
from .languages import LanguageError, Words, language_of, words_for
from .manifest import MANIFEST_NAME, Manifest, Policy, banner_manifest, record_pattern
from .providers import GTAG_URL, Provider, analytics_provider, direct_link, load_url
from .third_party import (
    BOGUS_COMMENT,
    COMMENT,
    TAG_REST,
    may_load_from_elsewhere,
    raw_end,
    raw_text,
)

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
# consent.js and consent.css: consent_js/ in the checkout, a folder of the plugin in its wheel.
SOURCES = resources.files(consent_js)
ASSET_DIR = "consent"  # under the output folder
SETTINGS_SLOT = "<!-- cookie-settings -->"
# Pages injected in one go. Between two of Pelican's renders, the check's patterns and
# the regex engine fall out of the processor's caches: a page at a time cost a third
# more (make bench). 64 waiting pages hold a few hundred KB.
BATCH = 64
# What may hide a "</head>" or "<body>" that is not one: comments and bogus comments,
# the text of script, style, title and textarea (unterminated, they run to the end),
# and the attribute values of any other tag, all read as third_party reads them. One
# match walks the page up to the <body> tag after the real </head>, all inside the
# regex engine: a page costs no Python loop.
BODY_TAG = rf"<body(?=[\s/>]){TAG_REST}"
# After a "<": a comment, or a raw-text element with its text. No capturing
# group: Python 3.11's regex engine mistakes spans of groups inside a possessive repeat.
NOT_MARKUP = f"{COMMENT}|{BOGUS_COMMENT}" + "".join(
    rf"|{raw}(?=[\s/>]){TAG_REST}{raw_text(raw)}{raw_end(raw)}"
    for raw in ("script", "style", "title", "textarea")
)
# The page's language, as its theme declares it; the banner speaks it.
HTML_LANG = r"""<html\b[^>]*?\slang\s*=\s*["']?(?P<lang>[A-Za-z0-9-]+)"""
# Each loop is unrolled ("text, then (markup, text)*") and possessive, with the tags
# that can be nothing else tried first: a third faster than a loop of alternatives.
# It looks ahead first for the <html> tag that starts most pages, and its lang.
HEAD_AND_BODY = re.compile(
    rf"(?:(?=(?:<!doctype\b[^>]*+>\s*+)?{HTML_LANG})|)"
    rf"[^<]*+(?:<(?:(?![stb!/])[a-z][^\s/>]*{TAG_REST}|{NOT_MARKUP}|body(?=[\s/>]){TAG_REST}"
    rf"|[a-z][^\s/>]*{TAG_REST}|(?!/head\s*>))[^<]*+)*+"
    rf"(?P<head></head\s*>)"
    rf"[^<]*+(?:(?!{BODY_TAG})<(?:{NOT_MARKUP}|/head\s*>|[a-z][^\s/>]*{TAG_REST}|)[^<]*+)*+"
    rf"{BODY_TAG}",
    re.I | re.S,
)
# The <html> tag after a comment or other text: found, rarely, by a search of its own.
LATER_HTML_LANG = re.compile(HTML_LANG, re.I)
WIDE = re.compile(r"[^\x00-\xff]")
IFRAME_SRC = re.compile(r"""<iframe\b[^>]*?\bsrc\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""", re.I)
FRAME_ATTRIBUTES = ("allow", "allowfullscreen", "referrerpolicy")
# What the shared context holds once the pages are read (translations hang off each).
CONTENT_READ = ("articles", "drafts", "hidden_articles", "pages", "hidden_pages", "draft_pages")
# Pelican's lists of content, and policy_versions' versions: checked before any write.
CONTENT_LISTS = (
    "articles",
    "translations",
    "drafts",
    "drafts_translations",
    "hidden_articles",
    "hidden_translations",
    "pages",
    "hidden_pages",
    "draft_pages",
    "draft_translations",
    "versions",
)


class PrivacyCheckError(Exception):
    """Pages that would load something from another host before consent; one line each."""


class InjectionError(Exception):
    """A page the banner cannot be put into safely; the message names it."""


def one_byte(markup: str) -> str:
    """Markup with every character above U+00FF as a reference ("’" as "&#8217;"). A
    page of one-byte characters then stays one: injected, it is copied, not widened."""
    return WIDE.sub(lambda m: f"&#{ord(m.group())};", markup)


def insertion_points(page: str, where: str) -> tuple[int, int, str | None]:
    """Where </head> starts and where the <body> tag after it ends, skipping look-alikes;
    the lang of the page's <html> tag."""
    if found := HEAD_AND_BODY.match(page):
        lang = found.group("lang")
        if not lang and (later := LATER_HTML_LANG.search(page, 0, 4096)):
            lang = later.group("lang")
        return found.start("head"), found.end(), lang
    raise InjectionError(f"consent_banner: {where}: no </head> followed by <body>")


class Build:
    """What one build needs: checked settings, assets, rendered markup, gated tags."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.config = check_config(settings.get("CONSENT"))
        self.site_url = settings.get("SITEURL", "")
        self.output = Path(settings["OUTPUT_PATH"])
        self.script = (SOURCES / "consent.js").read_text(encoding="utf-8")
        self.assets = {
            ".js": rjsmin.jsmin(self.script),
            ".css": rcssmin.cssmin((SOURCES / "consent.css").read_text(encoding="utf-8")),
        }
        self.asset_names = {
            ext: f"consent.{hashlib.sha256(text.encode()).hexdigest()[:10]}{ext}"
            for ext, text in self.assets.items()
        }
        self.head = ""
        self.manifest: Manifest | None = None  # once seal() has the banner version
        self.published_languages: list[str] = []
        self.default_lang = settings.get("DEFAULT_LANG", "en")
        self.languages = {*BUILT_IN_LANGUAGES, *self.config["texts"]}
        self.page_languages: dict[str | None, str] = {}
        self.words: dict[str, Words] = {}
        self.markup: dict[str, tuple[str, str]] = {}  # language: (banner, settings control)
        self.inline_scripts: dict[str, str] = {}
        self.gated: list[tuple[str, str]] = []
        # Embeds that content_read found are in the banner; any other fails the check.
        used = {p["id"] for p in settings.get("CONSENT_PROVIDERS", [])}
        known = embed_providers(self.config)
        self.embed_providers = [p for p in known if p.id in used]
        self.unknown_embeds = [p for p in known if p.id not in used]
        self.known_embeds = [*self.embed_providers, *self.unknown_embeds]
        self.own_hosts = frozenset({urlsplit(self.site_url).hostname or ""} - {""})
        self.declared_hosts = frozenset(self.config["declared_hosts"])
        self.refused: list[str] = []
        self.waiting: list[tuple] = []  # (opener, page, output page, source)

    def url(self, path: str) -> str:
        return f"{self.site_url}/{path}"

    def render(self, context: dict) -> None:
        """Prepare the markup every page shares; each language's banner comes on first use."""
        policy = consent_policy(self.config, context)
        revision, policy_url = policy.revision, policy.url
        self.policy_url = policy_url if policy_url.startswith("https://") else self.url(policy_url)
        self.env = Environment(
            loader=FileSystemLoader(HERE),
            autoescape=select_autoescape(["html"]),
            bytecode_cache=template_cache(self.settings),
        )
        self.embed_template = self.env.get_template("embed.html")
        self.revision = revision
        self.max_age = round(self.config["lifetime_months"] * SECONDS_PER_MONTH)
        self.follow(context.get("POLICY_IN_FORCE"))
        self.head = self.head_tag(banner="")  # seal() adds the banner version

    def follow(self, in_force) -> None:
        """Do what the policy version in force declares: keep consent records (send
        receipts) only if it declares them, and describe the consent cookie in its words.
        Settings that a later version declares so take effect on that version's day. Without
        policy_versions (no version in force), the settings alone decide."""
        declared = in_force.declaration if in_force else None
        self.receipts = self.config["receipts_url"]
        self.texts = self.config["texts"]
        if declared is None:
            return
        if not declared.consent_records:
            self.receipts = ""
        name = self.config["cookie_name"]
        purpose = next((c["purpose"] for c in declared.cookies if c["name"] == name), None)
        if purpose is not None:
            site = self.settings.get("SITENAME", "this website")
            self.texts = texts_in_force(self.texts, purpose, self.default_lang, site)

    def head_tag(self, banner: str) -> str:
        """The stylesheet and the script with its settings; receipts only with a version."""
        inventory = self.settings["COOKIE_INVENTORY"]
        receipts = self.receipts
        return self.env.get_template("head.html").render(
            css=self.url(f"{ASSET_DIR}/{self.asset_names['.css']}"),
            js=self.url(f"{ASSET_DIR}/{self.asset_names['.js']}"),
            cookie_name=self.config["cookie_name"],
            revision=self.revision,
            max_age=self.max_age,
            measurement_id=self.config["measurement_id"],
            gtag=GTAG_URL,
            analytics_cookies=[c["name"] for c in inventory if c["category"] == "analytics"],
            honour_gpc=self.config["honour_gpc"],
            receipts=receipts and self.url(receipts.removeprefix("/")),
            banner=banner,
        )

    def seal(self, context: dict) -> None:
        """The banner version, from every language the site publishes (prepare() has
        rendered each), and the head tag that names it: before the first page is written."""
        in_force = context.get("POLICY_IN_FORCE")  # the policy_versions plugin's, if enabled
        self.manifest = banner_manifest(
            site_url=self.site_url,
            revision=self.revision,
            policy=Policy(
                version=in_force.effective.isoformat(),
                url=self.url(in_force.url),
                sha256=in_force.sha256,
            )
            if in_force
            else None,
            cookie={
                "name": self.config["cookie_name"],
                "max_age": self.max_age,
                "pattern": record_pattern(self.script),
            },
            providers=[p.id for p in self.embed_providers],
            shipped={
                "consent.js": self.assets[".js"],
                "consent.css": self.assets[".css"],
                "head": self.head,
            },
            markup={lang: self.markup_in(lang) for lang in self.published_languages},
        )
        self.head = self.head_tag(banner=self.manifest.version)

    def language(self, tag: str | None) -> str:
        """The banner's language for a page's `lang`: the site's own when it has none."""
        if tag not in self.page_languages:  # a handful of tags, asked once per page
            found = tag and (language_of(tag, self.languages) or tag.lower())
            self.page_languages[tag] = found or self.default_lang
        return self.page_languages[tag]

    def words_in(self, lang: str) -> Words:
        if lang not in self.words:
            self.words[lang] = words_for(
                lang,
                configured=self.texts,
                site=self.settings.get("SITENAME", "this website"),
                months=self.config["lifetime_months"],
                declared_in=self.default_lang,
                policy_lang=self.default_lang,  # policy_versions publishes in the site's language
                providers=self.embed_providers,
                cookies=[
                    c for c in self.settings["COOKIE_INVENTORY"] if not self.is_consent_cookie(c)
                ],
            )
        return self.words[lang]

    def is_consent_cookie(self, cookie: dict[str, str]) -> bool:
        """The row of the consent cookie: described by the banner's own words."""
        return cookie["name"] == self.config["cookie_name"]

    def markup_in(self, lang: str) -> tuple[str, str]:
        """The banner and the cookie-settings control in one language, rendered once."""
        if lang not in self.markup:
            words = self.words_in(lang)
            texts = words.texts
            own = {"purpose": texts["consent_cookie_purpose"], "duration": texts["lifetime"]}
            # Each row in this language; the declared duration stays for the audit to read.
            cookies = [
                {
                    **c,
                    **(own if self.is_consent_cookie(c) else words.cookies[c["name"]]),
                    "declared_duration": c["duration"],
                }
                for c in self.settings["COOKIE_INVENTORY"]
            ]
            banner = self.env.get_template("banner.html").render(
                t=texts,
                lang=lang,
                policy_lang=self.default_lang,
                cookies=cookies,
                categories={
                    "necessary": texts["necessary_title"],
                    "analytics": texts["analytics_title"],
                    "external-media": texts["external_title"],
                },
                analytics=analytics_provider(cookies) if uses_analytics(self.config) else None,
                embeds=self.embed_providers,
                declared_hosts=sorted(self.declared_hosts),
                policy_url=self.policy_url,
            )
            button = self.env.get_template("settings_button.html").render(t=texts)
            self.markup[lang] = (one_byte(banner), one_byte(button))
        return self.markup[lang]

    def prepare(self, items: list) -> None:
        """Every language the site publishes, checked before a page is written: LANGUAGES
        where the site names its editions (the editions plugin refuses pages in any
        other), else the language of every page."""
        sources: dict[str, list[str]] = {self.default_lang: []}
        for lang in self.settings.get("LANGUAGES", ()):
            sources.setdefault(self.language(lang), [])
        for item in items:
            lang = self.language(getattr(item, "lang", None))
            if lang in sources or "LANGUAGES" not in self.settings:
                sources.setdefault(lang, []).append(item.source_path)
        errors = []
        for lang, files in sorted(sources.items()):
            try:
                self.markup_in(lang)
            except LanguageError as error:
                files = sorted(self.source_file(file) for file in files)
                example = f" (such as {', '.join(files[:3])})" if files else ""
                errors.append(
                    str(error).replace(f"pages in {lang!r}", f"pages in {lang!r}{example}", 1)
                )
        if errors:
            raise LanguageError("\n".join(errors))
        self.published_languages = sorted(sources)

    def save_inline(self, code: str) -> str:
        name = inline_file_name(code)
        self.inline_scripts[name] = code
        return self.url(f"{ASSET_DIR}/{name}")

    def inject(self, page: str, where: str, source: str = "") -> str:
        """Banner markup after <body>, assets before </head>; exactly once."""
        head, body, declared = insertion_points(page, where)
        if page.endswith(self.head, 0, head):
            return page  # injected already
        lang = self.language(declared)
        checked, gated, refused = self.privacy_check(page, lang, lambda: self.named(where, source))
        self.gated += [(where, tag) for tag in gated]
        self.refused += refused
        if checked is not page:  # a tag gated or an embed replaced: the points moved
            page = checked
            head, body, _ = insertion_points(page, where)
        banner, button = self.markup_in(lang)
        slot = page.rfind(SETTINGS_SLOT, body)  # the footer's: the last, near the end
        after = slot + len(SETTINGS_SLOT)
        if slot == -1:  # a theme without the footer slot still gets the control
            banner += f'<p class="cb-fallback">{button}</p>'
            slot = after = len(page)
            button = ""
        # One copy of the page, however many pieces go in.
        parts = (page[:head], self.head, page[head:body], banner, page[body:slot], button)
        return "".join((*parts, page[after:]))

    def queue(self, open_file: Callable, page: str, where: str, source: str) -> None:
        """Keep a rendered page until BATCH are waiting, then inject and write them. A
        plugin listening for content_written reads each page as it is written: then
        no page waits."""
        self.waiting.append((open_file, page, where, source))
        if len(self.waiting) >= (1 if signals.content_written.receivers else BATCH):
            self.flush()

    def flush(self) -> None:
        """Inject the waiting pages one after another, then write them: in one tight
        loop the patterns stay in the processor's caches (see BATCH)."""
        waiting, self.waiting = self.waiting, []
        pages = [self.inject(page, where, source) for _, page, where, source in waiting]
        for (open_file, *_), page in zip(waiting, pages, strict=True):
            with open_file() as file:
                file.write(page)

    def named(self, where: str, source: str) -> str:
        """An output page as a build message names it: with its source file when known."""
        source = self.source_file(source)
        return f"{where} (from {source})" if source else where

    def privacy_check(
        self, page: str, lang: str, name: Callable[[], str], placeholders: bool = True
    ) -> tuple[str, list[str], list[str]]:
        """The page with Google tags gated and embeds made click-to-load; what was gated
        or taken out, and a line for each resource refused, on the page that name() names.

        Without `placeholders`, embeds are taken out, not rendered: for a check whose
        page is not written."""
        page, gated = gate_google_tags(page, self.save_inline)
        if not may_load_from_elsewhere(page, self.own_hosts):
            return page, gated, []
        count = itertools.count(1)
        checked = check_page(
            page,
            self.own_hosts,
            self.declared_hosts,
            self.known_embeds,
            lambda embed: self.placeholder(embed, next(count), lang) if placeholders else "",
        )
        if not placeholders:  # the pass over the content: each Markdown file once
            self.advise_on_titles(checked.embeds, name)
        unknown = [e for e in checked.embeds if e.provider in self.unknown_embeds]
        lines = []
        if unknown or checked.refused:  # name the page only when there is something to say
            where = name()
            lines = [
                f"{where}: a {e.provider.name} embed that no article, page or template holds, "
                "so the banner does not offer it; put the embed in one of those"
                for e in unknown
            ]
            lines += [
                f"{where}: {r.describe()} loads {r.url} from {r.host} before any consent; "
                "self-host the file under content/, or declare the host with a reason in "
                "CONSENT['declared_hosts']"
                for r in checked.refused
            ]
        gated += [
            f"{provider.name}'s script {r.url} removed: the placeholder loads the player"
            for r, provider in checked.dropped
        ]
        return checked.page, gated, lines

    def advise_on_titles(self, embeds: list[Embed], name: Callable[[], str]) -> None:
        """A warning for each embed whose title names the player, not the content: the
        placeholder's heading and button show it ("Load video: YouTube video player")."""
        for embed in embeds:
            title, provider = embed.attributes.get("title") or "", embed.provider
            if title and provider.names_no_content(title):
                logger.warning(
                    "consent_banner: %s: the %s embed's title is %r, so its placeholder "
                    'reads "%s: %s"; name the content in the iframe\'s title, like '
                    'title="Managed Kubernetes webinar"',
                    name(),
                    provider.name,
                    title,
                    provider.verb,
                    title,
                )

    def check_content(self, generators) -> None:
        """Refuse pasted other-host resources before a single page is written."""
        items = [
            item
            for generator in generators
            for kind in CONTENT_LISTS
            for item in getattr(generator, kind, [])
        ]
        self.prepare(items)
        refused = []
        for item in items:
            # The HTML as read: Pelican fills in its links only as it writes.
            html = getattr(item, "_content", None) or item.content
            if not may_load_from_elsewhere(html, self.own_hosts):
                continue  # gating Google's tags only takes fetches away
            lang = self.language(getattr(item, "lang", None))
            # Pelican works save_as out anew on every read: only a refusal asks for it.
            name = lambda item=item: self.named(item.save_as, item.source_path)  # noqa: E731
            refused += self.privacy_check(html, lang, name, placeholders=False)[2]
        if refused:
            raise PrivacyCheckError(_refusal_message(refused))

    def source_file(self, path: str) -> str:
        return source_file(self.settings, path)

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

    def write_assets(self) -> None:
        folder = self.output / ASSET_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for ext, text in self.assets.items():
            (folder / self.asset_names[ext]).write_text(text, encoding="utf-8")
        for name, code in self.inline_scripts.items():
            (folder / name).write_text(code, encoding="utf-8")
        if self.manifest:
            (folder / MANIFEST_NAME).write_text(self.manifest.text(), encoding="utf-8")


def template_cache(settings: dict) -> FileSystemBytecodeCache | None:
    """The banner's templates compiled once, kept in Pelican's cache folder: compiling
    them takes 30 ms of every build, loading them 2 ms. Jinja checks each against its
    source. None (compile every time) where the folder cannot be made."""
    folder = Path(settings.get("CACHE_PATH") or "cache") / "consent_banner"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        logger.debug("consent_banner: templates not cached: %s", error)
        return None
    return FileSystemBytecodeCache(str(folder))


def _refusal_message(refused: list[str]) -> str:
    return (
        f"consent_banner: the privacy check refused {len(refused)} resource(s) from other "
        "hosts; nothing was published:\n  " + "\n  ".join(refused)
    )


_build: Build | None = None


def embedding_places(
    settings: dict, items: list, providers: list[Provider]
) -> dict[str, list[str]]:
    """Where the content read and the theme's templates embed each provider, by its id: a
    page as its output file and Markdown file, a template by its file."""
    texts = [
        (getattr(item, "_content", None) or "", lambda item=item: _named_item(settings, item))
        for item in items
    ]
    for base, _, names in os.walk(Path(settings.get("THEME", "")) / "templates"):
        for name in names:
            path = Path(base, name)
            where = partial(source_file, settings, str(path.absolute()))
            texts.append((path.read_text(encoding="utf-8"), where))
    found: dict[str, list[str]] = {}
    for text, where in texts:
        for match in IFRAME_SRC.finditer(text):
            url = match.group(1)
            url = f"https:{url}" if url.startswith("//") else url
            for provider in providers:
                if provider.embeds_url(url) and where() not in found.get(provider.id, []):
                    found.setdefault(provider.id, []).append(where())
    return {p.id: found[p.id] for p in providers if p.id in found}


def _named_item(settings: dict, item) -> str:
    source = source_file(settings, item.source_path)
    return f"{item.save_as} (from {source})" if source else item.save_as


def source_file(settings: dict, path: str) -> str:
    """A content file or template as a path from the project: content/news/x.md."""
    root = settings.get("PATH")
    if not (path and root):
        return path
    return os.path.relpath(os.path.join(root, path), os.path.dirname(root))


def consent_providers(
    config: dict,
    inventory: list[dict],
    embedded: list[Provider],
    places: dict[str, list[str]] | None = None,
) -> list[dict]:
    """The third parties, as the ``CONSENT_PROVIDERS`` setting tells other plugins; an
    embed provider with where it is embedded (`places`), for messages about it."""
    analytics = [analytics_provider(inventory)] if uses_analytics(config) else []
    return [
        {
            "id": p.id,
            "name": p.name,
            "category": p.category,
            "hosts": list(p.hosts),
            "policy_url": p.policy_url,
            "csp": p.csp or {"frame-src": p.frame_origins},
            "embedded_in": (places or {}).get(p.id, []),
        }
        for p in [*analytics, *embedded]
    ]


def initialized(pelican) -> None:
    """Check CONSENT at start-up, before any content is read."""
    check_config(pelican.settings.get("CONSENT"))


def content_read(generator) -> None:
    """Articles and pages are read (the policy_versions generator, next, compares the
    site with the policy in force): publish the cookie inventory, the third parties,
    whether consent records are kept, and the consent cookie's name with the purposes
    the banner can describe it by (policy_versions' held_to)."""
    settings = generator.settings
    config = check_config(settings.get("CONSENT"))
    originals = [item for key in CONTENT_READ for item in generator.context.get(key, [])]
    items = [*originals, *(t for item in originals for t in getattr(item, "translations", []))]
    providers = embed_providers(config)
    places = embedding_places(settings, items, providers)
    embedded = [p for p in providers if p.id in places]
    site = settings.get("SITENAME", "this website")
    lang = settings.get("DEFAULT_LANG", "en")
    inventory = cookie_inventory(config, site, embedded, lang)
    settings["COOKIE_INVENTORY"] = inventory
    settings["CONSENT_PROVIDERS"] = consent_providers(config, inventory, embedded, places)
    settings["CONSENT_RECORDS"] = bool(config["receipts_url"])
    settings["CONSENT_COOKIE"] = {
        "name": config["cookie_name"],
        "purposes": consent_cookie_purposes(config["texts"], lang, site),
    }


def all_generators_finalized(generators) -> None:
    """Start a build: every context is known now, and no page is written yet."""
    global _build
    _build = Build(generators[0].settings)
    _build.render(generators[0].context)
    _build.check_content(generators)
    _build.seal(generators[0].context)


class PageFile:
    """Where Pelican writes an HTML page: the page waits for its batch, and its file is
    opened only then (a build that fails leaves the file as it was)."""

    def __init__(self, open_file: Callable, where: str, source: str) -> None:
        self.open_file, self.where, self.source = open_file, where, source

    def __enter__(self) -> PageFile:
        return self

    def __exit__(self, *error) -> None:
        pass

    def write(self, page: str) -> None:
        _build.queue(self.open_file, page, self.where, self.source)


class ConsentWriter(Writer):
    """Pelican's writer: each HTML page gets the banner in memory before it is written,
    so no page is read or written twice."""

    source = ""  # the content file or template of the page being written

    def write_file(self, name, template, context, *args, **kwargs):
        content = kwargs.get("article") or kwargs.get("page") or kwargs.get("version")
        self.source = getattr(content, "source_path", "") or getattr(template, "filename", "")
        return super().write_file(name, template, context, *args, **kwargs)

    def _open_w(self, filename, encoding, override=False):
        if _build is None or not filename.endswith(".html"):
            return super()._open_w(filename, encoding, override)
        open_file = partial(super()._open_w, filename, encoding, override)
        return PageFile(open_file, filename.removeprefix(self.root), self.source)

    @cached_property
    def root(self) -> str:
        return os.path.join(os.path.abspath(self.output_path), "")


def get_writer(pelican) -> type[Writer]:
    return ConsentWriter


def finalized(pelican) -> None:
    """Write the last pages and the assets, report what was gated, and forget this build
    (autoreload), whatever happens."""
    global _build
    if _build is None:
        return
    build, _build = _build, None
    build.flush()
    if build.refused:
        raise PrivacyCheckError(_refusal_message(build.refused))
    build.write_assets()
    # A warning, so that it shows in every build log: whoever pasted the tag learns
    # that it now waits for consent.
    for where, tag in build.gated:
        logger.warning("consent_banner: gated in %s: %s", where, tag)


def register() -> None:
    signals.initialized.connect(initialized)
    signals.page_generator_finalized.connect(content_read)
    signals.all_generators_finalized.connect(all_generators_finalized)
    signals.get_writer.connect(get_writer)
    signals.finalized.connect(finalized)
