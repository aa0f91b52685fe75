"""Fail the build on a content file that nothing publishes, instead of leaving it out silently.

Pelican reads pages only from PAGE_PATHS and news only from ARTICLE_PATHS; a Markdown file
saved anywhere else in content/ would otherwise never appear on the site, without a word.
"""

from __future__ import annotations

import os

from pelican import signals
from pelican.generators import Generator
from pelican.utils import posixize_path


class UnpublishedContentError(Exception):
    """Source files that no generator read; the message names them."""


def unread_sources(generator: Generator) -> list[str]:
    """Readable files under PATH (Markdown and the like) that no generator published."""
    context = generator.context
    read = context["generated_content"].keys() | context["static_content"].keys()
    found = (posixize_path(os.path.normpath(path)) for path in generator.get_files([""]))
    return sorted(path for path in found if path not in read)


def check(generators: list[Generator]) -> None:
    generator = generators[0]
    unread = unread_sources(generator)
    if unread:
        root = os.path.basename(generator.path)
        pages, news = (generator.settings[key][0] for key in ("PAGE_PATHS", "ARTICLE_PATHS"))
        raise UnpublishedContentError(
            f"unpublished_content: nothing on the site is made from "
            f"{', '.join(f'{root}/{path}' for path in unread)}; "
            f"move pages to {root}/{pages}/ and news to {root}/{news}/"
        )


def register() -> None:
    signals.all_generators_finalized.connect(check)
