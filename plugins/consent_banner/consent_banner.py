"""Inject the cookie-consent banner into every HTML page and gate Google tags.

Works on each HTML page as Pelican's writer renders it, so it needs nothing from
the theme, and with plain string operations, so it costs little on large sites.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import rcssmin
import rjsmin
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pelican import signals
from pelican.writers import Writer

from .config import ConsentConfigError, check_config, cookie_inventory, fill_texts
from .gate_google_tags import gate_google_tags, inline_file_name

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
SOURCES = HERE.parent.parent / "consent_js"
ASSET_DIR = "consent"  # under the output folder
SETTINGS_SLOT = "<!-- cookie-settings -->"
# What may hide a "</head>" or "<body>" that is not one: comments, CDATA, the text
# of script, style, title and textarea (unterminated, they run to the end), and the
# attribute values of any other tag.
TAG_REST = r"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+>"""  # possessive: no backtracking
MARKUP = re.compile(  # every branch starts with "<", which the regex engine seeks fast
    rf"<(?:!--.*?(?:-->|\Z)|!\[CDATA\[.*?(?:\]\]>|\Z)"
    rf"|(script|style|title|textarea)\b{TAG_REST}.*?(?:</\1\s*>|\Z)"
    rf"|(/head\s*>)|(body\b{TAG_REST})|[a-z][^\s/>]*{TAG_REST})",
    re.I | re.S,
)
SECONDS_PER_MONTH = 2_629_800  # 365.25 days / 12


class InjectionError(Exception):
    """A page the banner cannot be put into safely; the message names it."""


def insertion_points(page: str, where: str) -> tuple[int, int]:
    """Where </head> starts and where the <body> tag after it ends, skipping look-alikes."""
    head = None
    for match in MARKUP.finditer(page):
        if match.group(2) and head is None:
            head = match.start()
        elif match.group(3) and head is not None:
            return head, match.end()
    raise InjectionError(f"consent_banner: {where}: no </head> followed by <body>")


class Build:
    """What one build needs: checked settings, assets, rendered markup, gated tags."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.config = check_config(settings.get("CONSENT"))
        self.site_url = settings.get("SITEURL", "")
        self.output = Path(settings["OUTPUT_PATH"])
        self.assets = {
            ".js": rjsmin.jsmin((SOURCES / "consent.js").read_text(encoding="utf-8")),
            ".css": rcssmin.cssmin((SOURCES / "consent.css").read_text(encoding="utf-8")),
        }
        self.asset_names = {
            ext: f"consent.{hashlib.sha256(text.encode()).hexdigest()[:10]}{ext}"
            for ext, text in self.assets.items()
        }
        self.head = self.body = self.settings_button = ""
        self.inline_scripts: dict[str, str] = {}
        self.gated: list[tuple[str, str]] = []

    def url(self, path: str) -> str:
        return f"{self.site_url}/{path}"

    def render(self, context: dict) -> None:
        """Render the markup once per build; every page gets the same."""
        # The policy_versions plugin decides the revision and, by default, the policy URL.
        revision = context.get("CONSENT_REVISION")
        if not revision:
            raise ConsentConfigError(
                "consent_banner: no consent revision; enable the policy_versions plugin"
            )
        policy_url = self.config["policy_url"] or context["POLICY_URL"]
        env = Environment(loader=FileSystemLoader(HERE), autoescape=select_autoescape(["html"]))
        texts = fill_texts(self.config, self.settings.get("SITENAME", "this website"))
        self.body = env.get_template("banner.html").render(
            t=texts,
            cookies=self.settings["COOKIE_INVENTORY"],
            policy_url=policy_url if policy_url.startswith("https://") else self.url(policy_url),
        )
        self.head = env.get_template("head.html").render(
            css=self.url(f"{ASSET_DIR}/{self.asset_names['.css']}"),
            js=self.url(f"{ASSET_DIR}/{self.asset_names['.js']}"),
            cookie_name=self.config["cookie_name"],
            revision=revision,
            max_age=self.config["lifetime_months"] * SECONDS_PER_MONTH,
            measurement_id=self.config["measurement_id"],
            honour_gpc=self.config["honour_gpc"],
        )
        self.settings_button = env.get_template("settings_button.html").render(t=texts)

    def save_inline(self, code: str) -> str:
        name = inline_file_name(code)
        self.inline_scripts[name] = code
        return self.url(f"{ASSET_DIR}/{name}")

    def inject(self, page: str, where: str) -> str:
        """Banner markup after <body>, assets before </head>; exactly once."""
        if self.head in page:
            return page
        page, gated = gate_google_tags(page, self.save_inline)
        self.gated += [(where, tag) for tag in gated]
        banner = self.body
        if SETTINGS_SLOT in page:
            page = page.replace(SETTINGS_SLOT, self.settings_button, 1)
        else:  # a theme without the footer slot still gets the control
            banner += f'<p class="c7c-fallback">{self.settings_button}</p>'
        head, body = insertion_points(page, where)
        return page[:head] + self.head + page[head:body] + banner + page[body:]

    def write_assets(self) -> None:
        folder = self.output / ASSET_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for ext, text in self.assets.items():
            (folder / self.asset_names[ext]).write_text(text, encoding="utf-8")
        for name, code in self.inline_scripts.items():
            (folder / name).write_text(code, encoding="utf-8")


_build: Build | None = None


def initialized(pelican) -> None:
    """Check CONSENT at start-up and publish the cookie inventory to other plugins."""
    config = check_config(pelican.settings.get("CONSENT"))
    site = pelican.settings.get("SITENAME", "this website")
    pelican.settings["COOKIE_INVENTORY"] = cookie_inventory(config, site)


def all_generators_finalized(generators) -> None:
    """Start a build: every context is known now, and no page is written yet."""
    global _build
    _build = Build(generators[0].settings)
    _build.render(generators[0].context)


class InjectingTemplate:
    """A template whose rendered page carries the banner."""

    def __init__(self, template, where: str) -> None:
        self.template = template
        self.where = where

    def render(self, context: dict) -> str:
        return _build.inject(self.template.render(context), self.where)


class ConsentWriter(Writer):
    """Pelican's writer, injecting each HTML page in memory: no second read or write."""

    def write_file(self, name, template, context, *args, **kwargs):
        if _build is not None and name and name.endswith(".html"):
            template = InjectingTemplate(template, name)
        return super().write_file(name, template, context, *args, **kwargs)


def get_writer(pelican) -> type[Writer]:
    return ConsentWriter


def finalized(pelican) -> None:
    """Write the assets, report what was gated, and forget this build (autoreload)."""
    global _build
    if _build is None:
        return
    _build.write_assets()
    # A warning, so that it shows in every build log: whoever pasted the tag learns
    # that it now waits for consent.
    for where, tag in _build.gated:
        logger.warning("consent_banner: gated in %s: %s", where, tag)
    _build = None


def register() -> None:
    signals.initialized.connect(initialized)
    signals.all_generators_finalized.connect(all_generators_finalized)
    signals.get_writer.connect(get_writer)
    signals.finalized.connect(finalized)
