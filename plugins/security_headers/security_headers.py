"""Write the HTTP headers a static host should send, as a Netlify/Cloudflare `_headers` file.

The Content-Security-Policy allows no inline code and no host but our own, except
what the consent_banner plugin declares: each third party the site uses (Google
Analytics' documented hosts when a measurement ID is set, the frames of each embed
provider in the content), in the directives it needs, and the hosts declared in
``CONSENT["declared_hosts"]``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pelican import signals

# Where a declared host may serve from: every kind of subresource.
DECLARED_HOST_DIRECTIVES = (
    "script-src",
    "style-src",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "frame-src",
)
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
        "media-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    for provider in settings.get("CONSENT_PROVIDERS", []):
        for directive, sources in provider.content_security_policy.items():
            policy[directive] += [s for s in sources if s not in policy[directive]]
    for host in (settings.get("CONSENT") or {}).get("declared_hosts", {}):
        for directive in DECLARED_HOST_DIRECTIVES:
            policy[directive].append(f"https://{host}")
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
