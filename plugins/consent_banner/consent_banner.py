"""Inject the cookie-consent banner into every HTML page, gate Google tags and embeds.

Works on each HTML page as Pelican's writer renders it, so it needs nothing from the
theme. Every resource a page would load from another host is accounted for (``embeds``),
or the build fails naming it. The signals, in Pelican's order, fill in one ``Build``:

- ``initialized``: ``CONSENT`` checked, the assets read (build.py);
- ``page_generator_finalized``: the embed providers the content uses, the cookies;
- ``all_generators_finalized``: the markup (markup.py), the privacy check of the
  content (privacy_check.py), the banner version (manifest.py);
- ``get_writer``: each HTML page gets the banner as it is rendered, before it is written;
- ``finalized``: the assets written, what was gated logged.
"""

from __future__ import annotations

import logging

from pelican import signals
from pelican.writers import Writer

from .build import Build
from .privacy_check import PrivacyCheckError, refusal_message

logger = logging.getLogger(__name__)

# What the shared context holds once the pages are read (translations hang off each).
CONTENT_READ = ("articles", "drafts", "hidden_articles", "pages", "hidden_pages", "draft_pages")

_build: Build | None = None


def initialized(pelican) -> None:
    """Check CONSENT at start-up, before any content is read."""
    global _build
    _build = Build(pelican.settings)


def content_read(generator) -> None:
    """Articles and pages are read (the policy_versions generator, next, compares the
    site with the policy in force, from what this tells it in the settings)."""
    originals = [item for key in CONTENT_READ for item in generator.context.get(key, [])]
    _build.read_content(
        [*originals, *(t for item in originals for t in getattr(item, "translations", []))]
    )


def all_generators_finalized(generators) -> None:
    """Every context is known now, and no page is written yet."""
    context = generators[0].context
    _build.render(context)
    _build.check_content(generators)
    _build.seal(context)


class WithBanner:
    """A page template whose HTML pages come out with the banner in them."""

    def __init__(self, template, source: str) -> None:
        self.template, self.source = template, source

    def render(self, context: dict) -> str:
        page = self.template.render(context)
        where = context["output_file"]  # Pelican's: the page's path in the output
        return _build.inject(page, where, self.source) if where.endswith(".html") else page


class ConsentWriter(Writer):
    """Pelican's writer: each HTML page gets the banner in memory before it is written,
    so no page is read or written twice, and a plugin reading it at content_written
    finds the banner in it."""

    def write_file(self, name, template, context, *args, **kwargs):
        # The content file the page is made from (any keyword with a source_path, as
        # Pelican's articles and pages have), else its template.
        source = next(
            (v.source_path for v in kwargs.values() if getattr(v, "source_path", None)),
            getattr(template, "filename", None) or "",
        )
        template = WithBanner(template, source)
        return super().write_file(name, template, context, *args, **kwargs)


def get_writer(pelican) -> type[Writer]:
    return ConsentWriter


def finalized(pelican) -> None:
    """Refuse what the privacy check found in the pages, or write the assets and report
    what was gated."""
    if _build.refused:
        raise PrivacyCheckError(refusal_message(_build.refused))
    _build.write_assets()
    # A warning, so that it shows in every build log: whoever pasted the tag learns
    # that it now waits for consent.
    for gated in _build.gated:
        logger.warning("consent_banner: gated in %s: %s", gated.page, gated.what)


def register() -> None:
    signals.initialized.connect(initialized)
    signals.page_generator_finalized.connect(content_read)
    signals.all_generators_finalized.connect(all_generators_finalized)
    signals.get_writer.connect(get_writer)
    signals.finalized.connect(finalized)
