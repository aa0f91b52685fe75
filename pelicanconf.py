"""Pelican settings for local development (`make build`, `make serve`)."""

from pathlib import Path as _Path

SITENAME = "Cloud 7"
SITEURL = ""
SITE_DESCRIPTION = "Cloud hosting, managed Kubernetes and backup, with people who answer the phone."
AUTHOR = "Cloud 7"
DEFAULT_LANG = "en"
TIMEZONE = "Europe/Amsterdam"
# The site's editions, the default first, each named in its own language (the header's
# language switch shows the name). Another edition needs a catalog of the theme's words
# in theme/translations/<code>/; see docs/marketing.md, "Translating the site".
LANGUAGES = {"en": "English", "nl": "Nederlands"}
# The theme's words through gettext (plugin editions installs the catalogs).
JINJA_ENVIRONMENT = {"extensions": ["jinja2.ext.i18n"]}

PATH = "content"
THEME = "theme"
PAGE_PATHS = ["pages"]
ARTICLE_PATHS = ["news"]


def heading_id(title: str, separator: str = "-") -> str:
    """A heading's id, from its words: `24/7 customer service` is `24-7-customer-service`.

    Links point at these ids (the policy's contents, the home's service cards), so they
    stay as they are; a translation keeps the original's with `## Titel {#id}`.
    """
    import re
    import unicodedata

    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", separator, ascii_title.lower()).strip(separator)


# Aligned table columns as classes, not style attributes, which the CSP forbids; every
# heading gets an id (toc) for the links to it.
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight"},
        "markdown.extensions.extra": {"tables": {"use_align_attribute": True}},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {"slugify": heading_id},
    },
    "output_format": "html5",
}

# The plugins in plugins/, installed with the site as Pelican's namespace plugins
# (pyproject.toml). refusals first: a plugin that refuses the build says why without a
# traceback. Then editions: which languages the site publishes is checked before anything
# uses them.
PLUGINS = [
    "pelican.plugins.refusals",
    "pelican.plugins.editions",
    "pelican.plugins.consent_banner",
    "pelican.plugins.policy_versions",
    "pelican.plugins.security_headers",
    "pelican.plugins.social_cards",
    "pelican.plugins.unpublished_content",
]

# Images, and the icons browsers and crawlers look for at the site's root. The PNG and
# ICO icons and the card are rendered from favicon.svg and theme/artwork/ (make images).
STATIC_PATHS = ["images", "extra"]
EXTRA_PATH_METADATA = {
    f"extra/{name}": {"path": name}
    for name in ("favicon.svg", "favicon.ico", "apple-touch-icon.png")
}

# The link-preview image (Open Graph, X) of every page that does not name its own with
# `Image:` and `Image_alt:` metadata.
SOCIAL_CARD = {
    "image": "images/social-card.jpg",
    "image_alt": (
        "Cloud 7: cloud hosting, managed Kubernetes and backup, with people who answer "
        "the phone. ISO 27001 certified, 24/7 customer service, data-centre regions including "
        "Frankfurt."
    ),
}

# Who to write to about personal data; the privacy policy and the contact page show it.
CONTACT_EMAIL = "privacy@cloud7.example"
CONTACT_PHONE = "+31 20 555 0107"
# Where the callback/quotation and newsletter forms post to: the site's own backend
# (backend/, docs/backend.md) on the same origin. With none set, the pages show how to
# reach Cloud 7 instead of a form that goes nowhere.
CONTACT_FORM_ACTION = "/api/contact"
NEWSLETTER_FORM_ACTION = "/api/newsletter"
# The words a sign-up agrees to; the backend stores the same file's words as its proof of
# opt-in (backend/words.py).
NEWSLETTER_CONSENT = (
    (_Path(__file__).resolve().parent / "theme" / "newsletter_consent.txt")
    .read_text(encoding="utf-8")
    .strip()
)

# URLs: stable, folder-style, never changed once published.
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
PAGE_LANG_URL = "{lang}/{slug}/"
PAGE_LANG_SAVE_AS = "{lang}/{slug}/index.html"
ARTICLE_URL = "news/{slug}/"
ARTICLE_SAVE_AS = "news/{slug}/index.html"
ARTICLE_LANG_URL = "{lang}/news/{slug}/"
ARTICLE_LANG_SAVE_AS = "{lang}/news/{slug}/index.html"
INDEX_SAVE_AS = "news/index.html"
INDEX_URL = "news/"
CATEGORY_URL = "news/category/{slug}/"
CATEGORY_SAVE_AS = "news/category/{slug}/index.html"
CATEGORIES_SAVE_AS = ""
TAG_URL = "news/tag/{slug}/"
TAG_SAVE_AS = "news/tag/{slug}/index.html"
TAGS_SAVE_AS = ""
ARCHIVES_URL = "news/archives/"
ARCHIVES_SAVE_AS = "news/archives/index.html"
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
DIRECT_TEMPLATES = ["index", "archives", "sitemap", "robots"]
SITEMAP_SAVE_AS = "sitemap.xml"
ROBOTS_SAVE_AS = "robots.txt"

DEFAULT_PAGINATION = 5
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)


def by_order_metadata(page) -> int:
    """Header navigation order: a page's `Order:` metadata, lowest first."""
    return int(page.metadata.get("order", 999))


PAGE_ORDER_BY = by_order_metadata


def sections(html: str) -> list[dict]:
    """A page's text cut at its `##` headings, so the theme can lay them out as cards.

    The first section is the text before the first heading, with an empty `title`; each
    has a `slug` for links to it and its `html` without the heading.
    """
    from bs4 import BeautifulSoup
    from markupsafe import Markup

    found = [{"title": "", "slug": "", "html": ""}]
    for node in BeautifulSoup(html, "html.parser").contents:
        if node.name == "h2":
            title = node.get_text(" ", strip=True)
            slug = node.get("id") or heading_id(title)
            found.append({"title": title, "slug": slug, "html": ""})
        else:
            found[-1]["html"] += str(node)
    for section in found:
        section["html"] = Markup(section["html"].strip())
    return found


JINJA_FILTERS = {"sections": sections}
SUMMARY_MAX_LENGTH = 40

# Feeds are switched on in publishconf.py.
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

# A local build previews what waits for an upcoming policy version (an embed its
# declaration adds) with a warning; publishconf.py refuses to publish it. Its messages
# name this site's make targets.
POLICY_VERSIONS = {
    "site_check": "warn",
    "commands": {
        "new": "`make policy-version DATE={day}`",
        "lock": "`make policy-version LOCK={day}`",
        "publish": "`make publish`",
        "preview": "`make build` and `make serve`",
    },
}

# Rebuilds (make serve) read unchanged content from the cache in cache/.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True

CONSENT = {
    # Cloud 7's Google Analytics 4 property.
    "measurement_id": "G-C7SITE2026",
    # Kept as it was, so that visitors keep their choice.
    "cookie_name": "cloud7_consent",
    "lifetime_months": 6,
    "honour_gpc": True,
    # The backend's (backend/), which records each choice.
    "receipts_url": "/api/consent",
    # The cookies the site may set besides the consent cookie itself. This list
    # feeds the banner's details, the policy's cookie table and the checks.
    "cookies": [
        {
            "name": "_ga",
            "provider": "Google Analytics",
            "purpose": "Tells visits from different people apart, so we can count visitors.",
            "duration": "2 years",
            "category": "analytics",
        },
        {
            "name": "_ga_*",
            "provider": "Google Analytics",
            "purpose": "Keeps the state of your visit, so pages you view count as one visit.",
            "duration": "2 years",
            "category": "analytics",
        },
    ],
    # The banner's words are built in for English, Dutch, German and French; the
    # cookies above are described in English, so each other language the site
    # publishes describes them here. The consent cookie's words are shown only while
    # the privacy-policy version in force declares them (from 2027-01-02, with the
    # consent records); until then the built-in ones.
    "texts": {
        "en": {
            "consent_cookie_purpose": "Remembers your cookie choices, with a random consent "
            "ID that links them to our records of your consent.",
        },
        "nl": {
            "consent_cookie_purpose": "Onthoudt uw cookiekeuzes, met een willekeurig "
            "toestemmings-ID dat ze koppelt aan onze registratie van uw toestemming.",
            "cookies": {
                "_ga": {
                    "purpose": "Onderscheidt bezoeken van verschillende mensen, zodat we "
                    "bezoekers kunnen tellen.",
                    "duration": "2 jaar",
                },
                "_ga_*": {
                    "purpose": "Houdt de stand van uw bezoek bij, zodat de pagina’s die u "
                    "bekijkt als één bezoek tellen.",
                    "duration": "2 jaar",
                },
            },
        },
    },
}
