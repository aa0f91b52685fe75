"""One build of the banner: the state that the plugin's signals fill in, in their order.

Made once when Pelican starts (``initialized``): ``CONSENT`` checked, the assets read.
When the content is read: the embed providers it uses and the cookie inventory. Before
the first page is written: the markup, the privacy check of the content, the banner
version. Then each HTML page as it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

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
from .gate_google_tags import inline_file_name
from .languages import BUILT_IN as BUILT_IN_LANGUAGES
from .languages import LanguageError, language_of
from .manifest import MANIFEST_NAME, Manifest, Policy, banner_manifest, record_pattern
from .markup import ASSET_DIR, Assets, Markup, Site, insertion_points, put_in
from .privacy_check import (
    PrivacyCheck,
    PrivacyCheckError,
    embedding_places,
    named,
    refusal_message,
    source_file,
)
from .providers import Provider, analytics_provider
from .third_party import may_load_from_elsewhere

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


@dataclass(frozen=True)
class Gated:
    """A tag gated or a provider's script taken out of a page, for the build's log."""

    page: str
    what: str


@dataclass(frozen=True)
class PolicyTerms:
    """What the policy version in force lets the banner do and say."""

    receipts_url: str  # "" when it does not declare consent records
    texts: dict  # the banner's texts, the consent cookie in the policy's words


class Build:
    """What one build of the banner knows, from the settings to the last page. Every
    part of it is named here; the signals fill them in, in Pelican's order."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.config = check_config(settings.get("CONSENT"))
        self.assets = Assets.read()
        self.site_url = settings.get("SITEURL", "")
        self.site_name = settings.get("SITENAME", "this website")
        self.default_lang = settings.get("DEFAULT_LANG", "en")
        self.languages = {*BUILT_IN_LANGUAGES, *self.config["texts"]}
        self.page_languages: dict[str | None, str] = {}
        self.known_embeds = embed_providers(self.config)
        # When the content is read (use_embeds):
        self.embeds: list[Provider] = []  # the known providers the site embeds
        self.inventory: list[dict[str, str]] = []  # every cookie, the consent cookie first
        self.providers: list[Provider] = []  # analytics, if used, and the embeds
        self.check: PrivacyCheck | None = None
        # Before the first page is written (render, check_content, seal), anew each run:
        self.markup: Markup | None = None
        self.published_languages: list[str] = []
        self.manifest: Manifest | None = None
        # As pages are written (inject):
        self.inline_scripts: dict[str, str] = {}  # file name: a Google tag's inline code
        self.gated: list[Gated] = []
        self.refused: list[str] = []  # a line for each resource refused, naming its page

    def url(self, path: str) -> str:
        return f"{self.site_url}/{path}"

    def read_content(self, items: list) -> None:
        """The content is read: the embed providers it and the theme use."""
        self.use_embeds(embedding_places(self.settings, items, self.known_embeds))

    def use_embeds(self, places: dict[str, list[str]]) -> None:
        """The embed providers embedded in `places` (by id) are the banner's; any other
        embed fails the check. Tells policy_versions and security_headers, in the
        settings, the cookies, the third parties and whether consent records are kept,
        and the consent cookie's name with the purposes the banner can describe it by
        (policy_versions' held_to)."""
        config, lang = self.config, self.default_lang
        self.embeds = [
            replace(p, embedded_in=tuple(places[p.id])) for p in self.known_embeds if p.id in places
        ]
        self.inventory = cookie_inventory(config, self.site_name, self.embeds, lang)
        self.check = PrivacyCheck(
            own_hosts=frozenset({urlsplit(self.site_url).hostname or ""} - {""}),
            declared_hosts=frozenset(config["declared_hosts"]),
            embeds=self.embeds,
            unused_embeds=[p for p in self.known_embeds if p.id not in places],
            save_inline=self.save_inline,
        )
        analytics = [analytics_provider(self.inventory)] if uses_analytics(config) else []
        self.providers = [*analytics, *self.embeds]
        self.settings["COOKIE_INVENTORY"] = self.inventory
        self.settings["CONSENT_PROVIDERS"] = self.providers
        self.settings["CONSENT_RECORDS"] = bool(config["receipts_url"])
        self.settings["CONSENT_COOKIE"] = {
            "name": config["cookie_name"],
            "purposes": consent_cookie_purposes(config["texts"], lang, self.site_name),
        }

    def render(self, context: dict) -> None:
        """Prepare the markup every page shares; each language's banner comes on first use."""
        policy = consent_policy(self.config, context)
        revision, policy_url = policy.revision, policy.url
        terms = self.follow(context.get("POLICY_IN_FORCE"))
        site = Site(
            url=self.site_url,
            name=self.site_name,
            default_lang=self.default_lang,
            config=self.config,
            texts=terms.texts,
            receipts=terms.receipts_url,
            revision=revision,
            policy_url=policy_url if policy_url.startswith("https://") else self.url(policy_url),
            inventory=self.inventory,
            embeds=self.embeds,
            max_age=round(self.config["lifetime_months"] * SECONDS_PER_MONTH),
        )
        self.markup = Markup(site, self.assets, self.settings)
        self.published_languages, self.manifest = [], None
        self.inline_scripts, self.gated, self.refused = {}, [], []

    def follow(self, in_force) -> PolicyTerms:
        """Where receipts go and the banner's texts, as the policy version in force
        declares: receipts (consent records) only if it declares them, the consent cookie
        in its words. Settings that a later version declares so take effect on that
        version's day. Without policy_versions (no version in force), the settings alone
        decide."""
        declared = in_force.declaration if in_force else None
        receipts, texts = self.config["receipts_url"], self.config["texts"]
        if declared is None:
            return PolicyTerms(receipts, texts)
        if not declared.consent_records:
            receipts = ""
        name = self.config["cookie_name"]
        purpose = next((c["purpose"] for c in declared.cookies if c["name"] == name), None)
        if purpose is not None:
            texts = texts_in_force(texts, purpose, self.default_lang, self.site_name)
        return PolicyTerms(receipts, texts)

    def check_content(self, generators) -> None:
        """Every language checked, and pasted other-host resources refused, before a
        single page is written."""
        items = [
            item
            for generator in generators
            for kind in CONTENT_LISTS
            for item in getattr(generator, kind, [])
        ]
        self.check_languages(items)
        refused = []
        for item in items:
            # The HTML as read: Pelican fills in its links only as it writes.
            html = getattr(item, "_content", None) or item.content
            if not may_load_from_elsewhere(html, self.check.own_hosts):
                continue  # gating Google's tags only takes fetches away
            # Pelican works save_as out anew on every read: only a refusal asks for it.
            name = lambda item=item: named(self.settings, item.save_as, item.source_path)  # noqa: E731
            refused += self.check.page(html, name, placeholder=None).refused
        if refused:
            raise PrivacyCheckError(refusal_message(refused))

    def check_languages(self, items: list) -> None:
        """Every language the site publishes has the banner's words: LANGUAGES where the
        site names its editions (the editions plugin refuses pages in any other), else
        the language of every page."""
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
                self.markup.banner_in(lang)
            except LanguageError as error:
                files = sorted(source_file(self.settings, file) for file in files)
                example = f" (such as {', '.join(files[:3])})" if files else ""
                errors.append(
                    str(error).replace(f"pages in {lang!r}", f"pages in {lang!r}{example}", 1)
                )
        if errors:
            raise LanguageError("\n".join(errors))
        self.published_languages = sorted(sources)

    def seal(self, context: dict) -> None:
        """The banner version, from every language the site publishes (check_languages()
        has rendered each), and the head tag that names it: before the first page is
        written."""
        in_force = context.get("POLICY_IN_FORCE")  # the policy_versions plugin's, if enabled
        site, files = self.markup.site, self.assets.files
        self.manifest = banner_manifest(
            site_url=self.site_url,
            revision=site.revision,
            policy=Policy(
                version=in_force.effective.isoformat(),
                url=self.url(in_force.url),
                sha256=in_force.sha256,
            )
            if in_force
            else None,
            cookie={
                "name": self.config["cookie_name"],
                "max_age": site.max_age,
                "pattern": record_pattern(self.assets.script),
            },
            providers=[p.id for p in self.embeds],
            shipped={
                "consent.js": files[".js"],
                "consent.css": files[".css"],
                "head": self.markup.head,
            },
            markup={lang: self.markup.banner_in(lang) for lang in self.published_languages},
        )
        self.markup.head = self.markup.head_tag(banner=self.manifest.version)

    def language(self, tag: str | None) -> str:
        """The banner's language for a page's `lang`: the site's own when it has none."""
        if tag not in self.page_languages:  # a handful of tags, asked once per page
            found = tag and (language_of(tag, self.languages) or tag.lower())
            self.page_languages[tag] = found or self.default_lang
        return self.page_languages[tag]

    def save_inline(self, code: str) -> str:
        name = inline_file_name(code)
        self.inline_scripts[name] = code
        return self.url(f"{ASSET_DIR}/{name}")

    def inject(self, page: str, where: str, source: str = "") -> str:
        """Banner markup after <body>, assets before </head>; exactly once. `where` is the
        output page, `source` the content file or template it comes from."""
        points = insertion_points(page, where)
        head = self.markup.head
        if page.endswith(head, 0, points.head):
            return page  # injected already
        lang = self.language(points.lang)
        checked = self.check.page(
            page,
            lambda: named(self.settings, where, source),
            lambda embed, number: self.markup.placeholder(embed, number, lang),
        )
        self.gated += [Gated(where, what) for what in checked.gated]
        self.refused += checked.refused
        if checked.page is not page:  # a tag gated or an embed replaced: the points moved
            page = checked.page
            points = insertion_points(page, where)
        return put_in(page, points, head, self.markup.banner_in(lang))

    def write_assets(self) -> None:
        folder = Path(self.settings["OUTPUT_PATH"]) / ASSET_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for ext, text in self.assets.files.items():
            (folder / self.assets.name(ext)).write_text(text, encoding="utf-8")
        for name, code in self.inline_scripts.items():
            (folder / name).write_text(code, encoding="utf-8")
        if self.manifest:
            (folder / MANIFEST_NAME).write_text(self.manifest.text(), encoding="utf-8")
