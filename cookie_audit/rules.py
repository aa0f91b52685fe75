"""The consent rules: what each visitor state may leave behind, judged against the inventory.

Violations, any of which fails the audit:

- undeclared-cookie: a cookie the banner's table does not declare, whoever set it.
- cookie-without-consent: a declared cookie where the state allows none: any cookie in
  no-choice and gpc, any but the consent cookie in rejected and withdrawn.
- storage-without-consent: a localStorage or sessionStorage key, in any state but accepted.
- third-party-request: a request to another host: any in no-choice and gpc, any after
  the choice in rejected and withdrawn, any but to the analytics hosts the banner
  declares in accepted. Hosts the site declares for every visitor pass in every state.
- embed-undeclared-host, embed-undeclared-cookie: after a click on one placeholder, a
  host or cookie that its provider does not declare.
- cookie-lifetime: a cookie kept longer than declared (a day of slack; session cookies
  pass). Chromium keeps no cookie beyond 400 days, so the consent cookie's Max-Age is
  also read from each page's markup.

Warnings: unseen-cookie (declared but never set: a stale inventory?), inventory-mismatch
(a page's cookie table differs), no-consent-banner, unreadable-duration.

not-in-policy (in ``policy``): a cookie or third party the policy in force does not
declare; a violation with publishing settings, else a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from pelican.plugins.consent_banner.providers import within

from cookie_audit.crawl import ANALYTICS, BY_NAME, CONSENT_COOKIE, Cookie, ForeignRequest, Visit
from cookie_audit.durations import describe_duration
from cookie_audit.embeds import STATE as EMBED_STATE
from cookie_audit.embeds import EmbedClick
from cookie_audit.inventory import DeclaredCookie, PageDeclarations, find_declared

LIFETIME_SLACK = 86400.0  # a day: clocks, and the rounding in "6 months"
REFUSED = {name for name, state in BY_NAME.items() if state.allows == CONSENT_COOKIE}
CONSENTED = {name for name, state in BY_NAME.items() if state.allows == ANALYTICS}
VISITOR = {name: state.visitor for name, state in BY_NAME.items()}
Inventory = tuple[DeclaredCookie, ...]


@dataclass(frozen=True)
class Finding:
    """A violation or warning about one subject (cookie, URL, storage key) and where it showed."""

    rule: str
    state: str | None  # None: found in the markup, whatever the visitor does
    page: str
    subject: str
    detail: str


def judge(
    visits: list[Visit],
    declarations: dict[str, PageDeclarations],
    choice_page: str,
    clicks: list[EmbedClick] = (),
) -> tuple[list[Finding], list[Finding]]:
    """Violations and warnings for the whole site; the choice page's table is the inventory."""
    inventory = declarations[choice_page].cookies
    consent_cookie = declarations[choice_page].consent_cookie or ""
    violations, warnings = check_markup(declarations, choice_page)
    violations += check_visits(visits, declarations[choice_page], consent_cookie)
    violations += check_embeds(list(clicks), declarations[choice_page])
    # An embed provider's cookies come from its player, which the audit only stubs.
    embedded = {name for name, _ in declarations[choice_page].providers.values()}
    own = tuple(row for row in inventory if row.provider not in embedded)
    warnings += unseen_cookies(visits, own, choice_page)
    return violations, warnings


def check_visits(visits: list[Visit], site: PageDeclarations, consent_cookie: str) -> list[Finding]:
    """One finding per rule, state and subject, on the first page it showed."""
    inventory = site.cookies
    found: dict[tuple[str, str, str], Finding] = {}

    def add(rule: str, visit: Visit, page: str, subject: str, detail: str, key: str = "") -> None:
        finding = Finding(rule, visit.state, page, subject, detail)
        found.setdefault((rule, visit.state, key or subject), finding)

    for visit in visits:
        for cookie in visit.cookies:
            page = cookie.set_on or visit.page
            declared = find_declared(inventory, cookie.name)
            if declared is None:
                detail = f"not in the cookie inventory; {_who(cookie)}"
                add("undeclared-cookie", visit, page, cookie.name, detail)
            elif not _cookie_allowed(visit.state, cookie.name, consent_cookie):
                detail = f"set although the visitor {VISITOR[visit.state]}; {_who(cookie)}"
                add("cookie-without-consent", visit, page, cookie.name, detail)
            if declared and cookie.lifetime and _longer_than_declared(cookie.lifetime, declared):
                detail = (
                    f"kept for {describe_duration(cookie.lifetime)}; "
                    f"the inventory declares {declared.duration}"
                )
                add("cookie-lifetime", visit, page, cookie.name, detail)
        if visit.state not in CONSENTED:
            for key in [*visit.local_storage, *visit.session_storage]:
                detail = f"stored although the visitor {VISITOR[visit.state]}"
                add("storage-without-consent", visit, visit.page, key, detail)
        for request in visit.requests:
            if not _request_allowed(visit.state, request, site):
                reason = (
                    "not an analytics host the banner declares"
                    if visit.state in CONSENTED
                    else f"the visitor {VISITOR[visit.state]}"
                )
                detail = f"{request.resource_type} requested by {request.frame}; {reason}"
                without_query = request.url.split("?")[0]
                add("third-party-request", visit, visit.page, request.url, detail, without_query)
    return list(found.values())


def check_embeds(clicks: list[EmbedClick], declared: PageDeclarations) -> list[Finding]:
    """After each click: only its provider's hosts, only its provider's cookies."""
    found: dict[tuple[str, str, str], Finding] = {}
    for click in clicks:
        name, hosts = declared.providers.get(click.provider, (click.provider, ()))
        own = tuple(c for c in declared.cookies if c.provider == name)
        for host in click.hosts:
            if not within(host, (*hosts, *declared.declared_hosts)):
                declares = ", ".join(hosts)
                detail = (
                    f"contacted after a click on a {name} placeholder; {name} declares {declares}"
                )
                key = ("embed-undeclared-host", click.page, host)
                found.setdefault(key, Finding(key[0], EMBED_STATE, click.page, host, detail))
        for cookie in click.cookies:
            if find_declared(own, cookie.split(" ")[0]) is None:
                detail = f"set after a click on a {name} placeholder; not among {name}'s cookies"
                key = ("embed-undeclared-cookie", click.page, cookie)
                found.setdefault(key, Finding(key[0], EMBED_STATE, click.page, cookie, detail))
    return list(found.values())


def check_markup(
    declarations: dict[str, PageDeclarations], choice_page: str
) -> tuple[list[Finding], list[Finding]]:
    """What each page declares: its banner, its cookie table, its consent cookie's Max-Age."""
    inventory = declarations[choice_page].cookies
    violations, warnings = [], []
    for page, declared in declarations.items():
        if not declared.has_banner:
            detail = "no consent banner: a visitor cannot make or change a choice here"
            warnings.append(Finding("no-consent-banner", None, page, "", detail))
            continue
        if declared.cookies != inventory:
            detail = f"its cookie table differs from the one on {choice_page}"
            warnings.append(Finding("inventory-mismatch", None, page, "", detail))
        name, max_age = declared.consent_cookie or "", declared.consent_max_age
        row = find_declared(inventory, name)
        if row is None:
            detail = "the consent script sets it, but it is not in the cookie inventory"
            violations.append(Finding("undeclared-cookie", None, page, name, detail))
        elif max_age is not None and _longer_than_declared(max_age, row):
            detail = (
                f"the consent script keeps it for {describe_duration(max_age)} "
                f"(data-max-age={max_age}); the inventory declares {row.duration}"
            )
            violations.append(Finding("cookie-lifetime", None, page, name, detail))
    for row in inventory:
        if row.max_age is None:
            detail = f"cannot read the duration {row.duration!r}, so its lifetime is not checked"
            warnings.append(Finding("unreadable-duration", None, choice_page, row.name, detail))
    return violations, warnings


def unseen_cookies(visits: list[Visit], inventory: Inventory, choice_page: str) -> list[Finding]:
    """Declared cookies that no state ever set: the inventory may be stale."""
    seen = {find_declared(inventory, c.name) for visit in visits for c in visit.cookies}
    detail = "declared, but never set in any state: is the inventory stale?"
    return [
        Finding("unseen-cookie", None, choice_page, row.name, detail)
        for row in inventory
        if row not in seen
    ]


def _cookie_allowed(state: str, name: str, consent_cookie: str) -> bool:
    if state in CONSENTED:
        return True
    return state in REFUSED and name == consent_cookie


def _request_allowed(state: str, request: ForeignRequest, declared: PageDeclarations) -> bool:
    if within(request.host, declared.declared_hosts):
        return True
    if state in CONSENTED:
        return within(request.host, declared.analytics_hosts)
    return state in REFUSED and not request.after_choice


def _longer_than_declared(lifetime: float, declared: DeclaredCookie) -> bool:
    limit = declared.max_age
    return limit is not None and lifetime > limit + LIFETIME_SLACK


def _who(cookie: Cookie) -> str:
    if cookie.set_by == "script":
        return f"set by the script {cookie.source}"
    if cookie.set_by == "response":
        return f"set by a Set-Cookie header from {cookie.source}"
    return "set by an unknown source"
