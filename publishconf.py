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
