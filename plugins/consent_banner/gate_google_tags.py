"""Make Google tags in a page inert until the visitor accepts analytics.

A gated tag becomes ``<script type="text/plain" data-consent="analytics" data-src=…>``:
browsers neither fetch nor run it, and consent.js turns it back into a real script
after consent. Inline snippets move to a file of their own, so that a strict
Content-Security-Policy (no 'unsafe-inline') still lets them run.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable

from .providers import ANALYTICS_HOSTS
from .third_party import RUNNABLE_SCRIPT_TYPES, TAG_REST, attribute_map, raw_end, raw_text

# A script element as the tokeniser reads it: its start tag, its text, its end tag.
SCRIPT = re.compile(
    rf"<script(?=[\s/>])({TAG_REST})({raw_text('script')}){raw_end('script')}", re.I | re.S
)
GOOGLE_HOST = re.compile("|".join(re.escape(host) for host in ANALYTICS_HOSTS), re.I)
GOOGLE_CODE = re.compile(rf"\bgtag\s*\(|\bdataLayer\b|GoogleAnalyticsObject|{GOOGLE_HOST.pattern}")
NOSCRIPT_IFRAME = re.compile(
    r"<noscript\b[^>]*>\s*<iframe\b[^>]*googletagmanager\.com.*?</noscript\s*>", re.I | re.S
)
# Every tag gated is a <script> or a <noscript>; most pages have neither. Only the
# name ignores case: a pattern that starts with a plain "<" is searched twice as fast.
ANY_SCRIPT = re.compile(r"<(?=[sSnN])(?i:(?:no)?script)")


def _render(attrs: dict[str, str | None]) -> str:
    return "".join(f" {k}" if v is None else f' {k}="{html.escape(v)}"' for k, v in attrs.items())


def gate_google_tags(page: str, save_inline: Callable[[str], str]) -> tuple[str, list[str]]:
    """Return the page with every Google tag gated, and a description of each.

    ``save_inline(code)`` stores an inline snippet and returns the URL it is served at.
    """
    if not ANY_SCRIPT.search(page):
        return page, []
    gated: list[str] = []

    def gate(match: re.Match) -> str:
        attrs = attribute_map(match.group(1))
        code = match.group(2)
        if (attrs.get("type") or "").strip().lower() not in RUNNABLE_SCRIPT_TYPES:
            return match.group(0)  # data blocks, templates, already gated
        src = attrs.pop("src", None)
        if src is not None:
            if not GOOGLE_HOST.search(src):
                return match.group(0)
            gated.append(f"script {src}")
        elif GOOGLE_CODE.search(code):
            src = save_inline(code)
            gated.append(f"inline script moved to {src}")
        else:
            return match.group(0)
        module = attrs.pop("type", None) == "module"
        attrs = {
            "type": "text/plain",
            "data-consent": "analytics",
            "data-src": src,
            **({"data-module": None} if module else {}),
            **attrs,
        }
        return f"<script{_render(attrs)}></script>"

    page = SCRIPT.sub(gate, page)
    page, removed = NOSCRIPT_IFRAME.subn("", page)
    gated += ["Tag Manager <noscript> iframe removed"] * removed
    return page, gated


def inline_file_name(code: str) -> str:
    return f"gated-{hashlib.sha256(code.encode()).hexdigest()[:12]}.js"
