"""Check the image every page's link preview shows before anything is published.

Open Graph and X (Twitter) cards show SOCIAL_CARD["image"], or the image a page or
article names in its `Image:` metadata, described by `Image_alt:`. A preview image
that is not published with the site, or has no description, stops the build naming
the file: a crawler would otherwise get a 404 or a picture nobody can read.
"""

from __future__ import annotations

from pelican import signals
from pelican.generators import Generator

SETTING = "SOCIAL_CARD"
KEYS = ("image", "image_alt")
IMAGE_TYPES = (".png", ".jpg", ".jpeg")  # what every link-preview crawler reads


class SocialCardError(Exception):
    """A preview image that is missing, of the wrong type, or without alt text."""


def _check_config(settings: dict) -> dict:
    card = settings.get(SETTING)
    if not isinstance(card, dict):
        raise SocialCardError(f"social_cards: {SETTING!r} must be a dict with {KEYS}")
    for key in card:
        if key not in KEYS:
            raise SocialCardError(f"social_cards: Invalid {SETTING!r} key: {key!r}")
    for key in KEYS:
        if not str(card.get(key) or "").strip():
            raise SocialCardError(f"social_cards: {SETTING!r} key {key!r} must not be empty")
    return card


def _problem(image: str, alt: str, published: set[str], root: str) -> str | None:
    if not image.lower().endswith(IMAGE_TYPES):
        return f"{image!r} is not a PNG or JPEG"
    if image not in published:
        return f"{image!r} is not a file the site publishes (put it in {root}/images/)"
    if not alt.strip():
        return f"{image!r} has no description: add Image_alt:"
    return None


def check(generators: list[Generator]) -> None:
    """The default image and every page's own are published files with alt text."""
    context = generators[0].context
    root = context["PATH"].rstrip("/").rsplit("/", 1)[-1]
    published = set(context["static_content"])
    card = _check_config(context)
    problems = []
    if problem := _problem(card["image"], card["image_alt"], published, root):
        problems.append(f"{SETTING}: {problem}")
    for source, document in sorted(context["generated_content"].items()):
        if document is None:  # Pelican could not read it and has said so
            continue
        image = document.metadata.get("image")
        alt = document.metadata.get("image_alt", "")
        if image and (problem := _problem(image, alt, published, root)):
            problems.append(f"{root}/{source}: {problem}")
        elif alt and not image:
            problems.append(f"{root}/{source}: Image_alt: without Image:")
    if problems:
        raise SocialCardError("social_cards: " + "; ".join(problems))


def register() -> None:
    signals.all_generators_finalized.connect(check)
