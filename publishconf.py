"""Pelican settings for the published site (`make publish`)."""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: E402,F403

SITEURL = os.environ.get("SITEURL", "https://www.cloud7.example").rstrip("/")
RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = True
LOAD_CONTENT_CACHE = False

FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "news/feed.atom"
CATEGORY_FEED_ATOM = "news/category/{slug}/feed.atom"
