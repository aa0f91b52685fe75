"""The few pages the backend itself answers with, in the visitor's language.

They use the site's own stylesheet and no script, and escape everything they show.
"""

from __future__ import annotations

from html import escape

from backend.words import PHONE, say

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


def send_again(
    lang: str, message: str, action: str, fields: dict[str, str], form: str, back: str
) -> str:
    """The post again with a fresh token: how a visitor without JavaScript gets one.

    `back` is a checked path on this site, never the posted `page` field as it came.
    """
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    body = (
        f'<p role="alert">{escape(message)}</p>\n'
        f'<form class="form" method="post" action="{escape(action)}">\n{hidden}\n'
        f'<button type="submit">{escape(say(lang, f"send_{form}"))}</button>\n</form>\n'
        f'<p><a href="{escape(back)}">'
        f"{escape(say(lang, 'back'))}</a></p>"
    )
    return page(lang, say(lang, "refused_title"), body)


def unavailable(lang: str) -> str:
    body = f'<p role="alert">{escape(say(lang, "unavailable", phone=PHONE))}</p>'
    return page(lang, say(lang, "unavailable_title"), body)


def notice(lang: str, title_key: str, text_key: str) -> str:
    return page(lang, say(lang, title_key), f"<p>{escape(say(lang, text_key))}</p>")


def button(lang: str, title_key: str, text_key: str, button_key: str, action: str) -> str:
    """A page whose one button posts: mail scanners that open links change nothing."""
    body = (
        f"<p>{escape(say(lang, text_key))}</p>\n"
        f'<form class="form" method="post" action="{escape(action)}">\n'
        f'<button type="submit">{escape(say(lang, button_key))}</button>\n</form>'
    )
    return page(lang, say(lang, title_key), body)
