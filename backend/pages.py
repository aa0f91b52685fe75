"""The few pages the backend itself answers with, in the visitor's language.

They use the site's own stylesheet and no script, and escape everything they show.
"""

from __future__ import annotations

from html import escape

from backend.words import PHONE, say, site_path

STYLESHEET = "/theme/css/site.css"


def page(lang: str, title: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(title)} · Cloud 7</title>\n"
        f'<link rel="stylesheet" href="{STYLESHEET}">\n</head>\n<body>\n'
        f'<main id="main" class="page"><article class="prose">\n<h1>{escape(title)}</h1>\n'
        f"{body}\n</article></main>\n</body>\n</html>\n"
    )


def refused(lang: str, message: str, back: str) -> str:
    body = (
        f'<p role="alert">{escape(message)}</p>\n'
        f'<p><a href="{escape(back)}">{escape(say(lang, "back"))}</a></p>'
    )
    return page(lang, say(lang, "refused_title"), body)


def send_again(lang: str, message: str, action: str, fields: dict[str, str]) -> str:
    """The post again with a fresh token: how a visitor without JavaScript gets one."""
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    body = (
        f'<p role="alert">{escape(message)}</p>\n'
        f'<form class="form" method="post" action="{escape(action)}">\n{hidden}\n'
        f'<button type="submit">{escape(say(lang, "send"))}</button>\n</form>\n'
        f'<p><a href="{escape(fields.get("page") or site_path(lang, "contact/"))}">'
        f"{escape(say(lang, 'back'))}</a></p>"
    )
    return page(lang, say(lang, "refused_title"), body)


def unavailable(lang: str) -> str:
    body = f'<p role="alert">{escape(say(lang, "unavailable", phone=PHONE))}</p>'
    return page(lang, say(lang, "unavailable_title"), body)
