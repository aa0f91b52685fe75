"""The audit's first-visit state walked in another engine: the same Visit records the
Chromium walk makes, so the same rules judge them and the same report shows them."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from cookie_audit.crawl import FRAMES_AND_A_TASK, Cookie, ForeignRequest, Visit
from cookie_audit.engines import Engine, JarCookie, settled_cookies

STORAGE = "[Object.keys(localStorage), Object.keys(sessionStorage)]"


def walk_first_visit(
    visitor: Engine, state: str, pages: list[str], on_visit: Callable[[], None]
) -> list[Visit]:
    """Every page in turn as one visitor who never answers the banner."""
    visits = []
    for page in pages:
        start = len(visitor.requests())
        visitor.goto(page)
        # Scripts that run after load have had their turn, as in the Chromium walk.
        visitor.evaluate(FRAMES_AND_A_TASK)
        local, session = visitor.evaluate(STORAGE)
        now = time.time()
        visits.append(
            Visit(
                state,
                page,
                cookies=[_cookie(c, now) for c in settled_cookies(visitor)],
                local_storage=local,
                session_storage=session,
                requests=[
                    ForeignRequest(
                        r.url,
                        "document" if r.document else "other",
                        urlsplit(r.referer).path or page,
                        after_choice=False,
                    )
                    for r in visitor.requests()[start:]
                ],
            )
        )
        on_visit()
    return visits


def _cookie(cookie: JarCookie, now: float) -> Cookie:
    return Cookie(
        name=cookie.name,
        domain=cookie.domain,
        path=cookie.path,
        expires=cookie.expires,
        lifetime=None if cookie.expires is None else cookie.expires - now,
        secure=cookie.secure,
        same_site=cookie.same_site,
        set_by="unknown",  # only Chromium's walk watches who writes a cookie
        source="",
        set_on="",
    )
