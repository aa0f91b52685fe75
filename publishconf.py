"""Pelican settings for the published site (`make publish`)."""

import os
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).parent))
from pelicanconf import *  # noqa: E402,F403

SITEURL = os.environ.get("SITEURL", "https://www.cloud7.example").rstrip("/")
RELATIVE_URLS = False
# Never publish what the privacy policy in force does not declare.
POLICY_VERSIONS = {**POLICY_VERSIONS, "site_check": "fail"}  # noqa: F405
LOAD_CONTENT_CACHE = False

FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "news/feed.atom"
CATEGORY_FEED_ATOM = "news/category/{slug}/feed.atom"

# Every text file also as .gz and .br beside it, for hosts that serve them as they are
# (nginx gzip_static and brotli_static); pelican-precompress runs after the build.
PLUGINS = [*PLUGINS, "pelican.plugins.precompress"]  # noqa: F405
PRECOMPRESS_GZIP = True
PRECOMPRESS_BROTLI = True
PRECOMPRESS_ZSTANDARD = False
PRECOMPRESS_TEXT_EXTENSIONS = {".atom", ".css", ".html", ".js", ".svg", ".txt", ".xml"}
