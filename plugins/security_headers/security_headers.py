"""Write the HTTP headers a static host should send, as a Netlify/Cloudflare `_headers` file.

The Content-Security-Policy allows no inline code and no host but our own, except
Google Analytics' documented hosts, in the directives that need them, when the
CONSENT setting names a measurement ID.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pelican import signals

# https://developers.google.com/tag-platform/security/guides/csp (GA4, no Signals)
GOOGLE_ANALYTICS = {
    "script-src": ["https://*.googletagmanager.com"],
    "img-src": ["https://*.google-analytics.com", "https://*.googletagmanager.com"],
    "connect-src": [
        "https://*.google-analytics.com",
        "https://*.analytics.google.com",
        "https://*.googletagmanager.com",
    ],
}
FORM_SETTINGS = ("CONTACT_FORM_ACTION", "NEWSLETTER_FORM_ACTION")
ASSETS_PATH = "/consent/*"  # file names carry a content hash


def content_security_policy(settings: dict) -> str:
    policy = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    if (settings.get("CONSENT") or {}).get("measurement_id"):
        for directive, hosts in GOOGLE_ANALYTICS.items():
            policy[directive] += hosts
    for name in FORM_SETTINGS:  # forms may post to the configured handlers' origins
        action = urlsplit(settings.get(name) or "")
        origin = f"{action.scheme}://{action.netloc}"
        if action.netloc and origin not in policy["form-action"]:
            policy["form-action"].append(origin)
    return "; ".join(f"{directive} {' '.join(sources)}" for directive, sources in policy.items())


def security_headers(settings: dict) -> dict[str, str]:
    """Every page's headers."""
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": (
            "accelerometer=(), camera=(), geolocation=(), gyroscope=(), microphone=(), "
            "payment=(), usb=(), browsing-topics=()"
        ),
    }


def headers_file(settings: dict) -> str:
    lines = ["/*"]
    lines += [f"  {name}: {value}" for name, value in security_headers(settings).items()]
    lines += [ASSETS_PATH, "  Cache-Control: public, max-age=31536000, immutable"]
    return "\n".join(lines) + "\n"


def write_headers_file(pelican) -> None:
    path = Path(pelican.settings["OUTPUT_PATH"]) / "_headers"
    path.write_text(headers_file(pelican.settings), encoding="utf-8")


def register() -> None:
    signals.finalized.connect(write_headers_file)
