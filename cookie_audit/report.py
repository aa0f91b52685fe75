"""The audit's two reports: JSON for machines, one self-contained HTML page for people.

JSON schema 1 (``report.json``); keys are only ever added, never renamed:

- ``schema``: 1; ``site``: the audited folder; ``verdict``: "pass" or "fail";
  ``pages``: how many pages; ``states``: the visitor states, in order;
  ``engine``: the browser engine and its version (Chromium walks every state, Firefox
  and WebKit the first);
  ``elapsed``: seconds the audit took
- ``violations``, ``warnings``: lists of ``{rule, state, page, subject, detail}``;
  ``state`` is null for findings in the markup, whatever a visitor does
- ``cookies``: ``{declared: [{name, provider, purpose, duration, max_age}],
  observed: [{name, domain, declared_as, states, set_by, source, writers,
  longest_lifetime}]}``; ``set_by`` ("script", "response" or "unknown") and ``source``
  name its first writer, ``writers`` (``[{set_by, source}]``) every script and
  Set-Cookie response that set it, in the order the audit learnt of them
- ``results``: one record per page and state, the choice page first:
  ``{state, page, step, cookies: [{name, domain, path, expires, lifetime, secure,
  same_site, set_by, source, set_on, writers}], local_storage, session_storage,
  requests: [{url, resource_type, frame, after_choice}]}``; ``step`` is "choice" for
  the page the choice was made on, "visit" for the rest; a page and state not among
  them is covered by the first page of its kind
- ``coverage``: ``{exhaustive, statement, kinds: [[pages, the one walked in every
  state first]], visited: {state: [pages visited in this run]}, reused, visits_per_second,
  pages_per_second}``; ``reused`` counts the results taken from the cache
- ``embeds``: one record per click-to-load placeholder clicked, each in a fresh visitor:
  ``{page, provider, index, hosts, cookies}``: the other hosts contacted and the cookies
  (``"name (domain)"``) present after the click
- ``evidence``: what ``evidence/<banner_version>/evidence.json`` holds (``{banner_version,
  manifest_sha256, taken_at, shots: [{file, lang, layer, width, sha256}]}``, the files in
  that folder), or null: no screenshots asked for, or a build without a banner manifest
"""

from __future__ import annotations

import json
from dataclasses import asdict
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from cookie_audit.audit import Audit
from cookie_audit.crawl import BY_NAME, Visit
from cookie_audit.durations import describe_duration
from cookie_audit.embeds import STATE as EMBED_STATE
from cookie_audit.evidence import LAYERS, MANIFEST, write_evidence
from cookie_audit.inventory import find_declared
from cookie_audit.rules import Finding

SCHEMA = 1
STATE_MEANINGS = {name: state.how for name, state in BY_NAME.items()}


def write_reports(audit: Audit, folder: Path, html: bool = True) -> list[Path]:
    """Write report.json, the evidence and, unless told not to, index.html; return the
    reports' paths."""
    folder.mkdir(parents=True, exist_ok=True)
    if audit.evidence:
        write_evidence(audit.evidence, folder)
    data = report_data(audit)
    json_report = folder / "report.json"
    json_report.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not html:
        return [json_report]
    html_report = folder / "index.html"
    html_report.write_text(render_html(audit, data), encoding="utf-8")
    return [json_report, html_report]


def report_data(audit: Audit) -> dict[str, Any]:
    """The JSON report, as documented at the top of this module."""
    return {
        "schema": SCHEMA,
        "site": str(audit.site.resolve()),
        "verdict": "pass" if audit.passed else "fail",
        "pages": len(audit.pages),
        "states": list(audit.states),
        "engine": audit.engine,
        "elapsed": round(audit.elapsed, 2),
        "violations": [asdict(finding) for finding in audit.violations],
        "warnings": [asdict(finding) for finding in audit.warnings],
        "cookies": {"declared": _declared(audit), "observed": _observed(audit)},
        "results": [_result(visit) for visit in audit.visits],
        "coverage": {
            **asdict(audit.coverage),
            "statement": audit.coverage.statement(),
            "visits_per_second": round(audit.visits_per_second, 2),
            "pages_per_second": round(audit.pages_per_second, 2),
        },
        "embeds": [asdict(click) for click in audit.clicks],
        "evidence": audit.evidence.record() if audit.evidence else None,
    }


def _declared(audit: Audit) -> list[dict[str, Any]]:
    return [{**asdict(row), "max_age": row.max_age} for row in audit.inventory]


def _observed(audit: Audit) -> list[dict[str, Any]]:
    observed: dict[tuple[str, str], dict[str, Any]] = {}
    for visit in audit.visits:
        for cookie in visit.cookies:
            declared = find_declared(audit.inventory, cookie.name)
            entry = observed.setdefault(
                (cookie.name, cookie.domain),
                {
                    "name": cookie.name,
                    "domain": cookie.domain,
                    "declared_as": declared.name if declared else None,
                    "states": [],
                    "set_by": cookie.set_by,
                    "source": cookie.source,
                    "writers": [],
                    "longest_lifetime": None,
                },
            )
            for writer in map(asdict, cookie.writers):
                if writer not in entry["writers"]:
                    entry["writers"].append(writer)
            if visit.state not in entry["states"]:
                entry["states"].append(visit.state)
            if cookie.lifetime is not None:
                longest = max(entry["longest_lifetime"] or 0, round(cookie.lifetime))
                entry["longest_lifetime"] = longest
    return list(observed.values())


def _result(visit: Visit) -> dict[str, Any]:
    result = asdict(visit)
    for cookie in result["cookies"]:
        cookie["lifetime"] = None if cookie["lifetime"] is None else round(cookie["lifetime"])
    return result


def render_html(audit: Audit, data: dict[str, Any]) -> str:
    """One page a person can read: verdict, findings, inventory, states, the banner's evidence."""
    environment = Environment(
        loader=PackageLoader("cookie_audit"), autoescape=select_autoescape(), trim_blocks=True
    )
    environment.filters["duration"] = lambda seconds: (
        describe_duration(seconds) if seconds else "session"
    )
    return environment.get_template("report.html").render(
        audit=audit,
        data=data,
        meanings=STATE_MEANINGS,
        violation_groups=_violation_groups(audit),
        inventory=_inventory_rows(audit, data),
        states=_state_rows(audit),
        clicks=_click_rows(audit),
        evidence=audit.evidence,
        layers=LAYERS,
        manifest_file=MANIFEST,
    )


def _violation_groups(audit: Audit) -> list[tuple[str, list[Finding]]]:
    """Violations in the markup first, then state by state in the order they are walked."""
    groups = [("In the markup, whatever the visitor does", None)]
    groups += [(f"In the state “{state}”", state) for state in audit.states]
    groups += [("After a click on a placeholder", EMBED_STATE)]
    return [
        (title, found)
        for title, state in groups
        if (found := [f for f in audit.violations if f.state == state])
    ]


def _inventory_rows(audit: Audit, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Declared cookies with what was seen of them and what broke, then undeclared ones seen.

    A row's colour is the verdict's: red for a violation, amber for a warning, green when
    seen as declared. An embed provider's cookie is set by its player, which the audit
    stubs: unseen, it is neither (the summary counts no warning for it)."""
    observed = data["cookies"]["observed"]
    clicked = [c.split(" ")[0] for click in audit.clicks for c in click.cookies]
    rows = []
    for row in data["cookies"]["declared"]:
        seen = [cookie for cookie in observed if cookie["declared_as"] == row["name"]]
        names = {row["name"], *(cookie["name"] for cookie in seen)}
        broken = sorted({f.rule for f in audit.violations if f.subject in names})
        warned = sorted({f.rule for f in audit.warnings if f.subject in names})
        if broken:
            status, style = ", ".join(broken), "bad"
        elif warned:
            status = ", ".join("never seen" if r == "unseen-cookie" else r for r in warned)
            style = "warn"
        elif seen:
            status, style = "as declared", "ok"
        elif any(fnmatchcase(name, row["name"]) for name in clicked):
            status, style = "as declared, after a click", "ok"
        else:
            status = "set by its player after a click; the audit's stand-in sets none"
            style = "empty"
        rows.append({**row, "seen": seen, "status": status, "status_class": style})
    for cookie in observed:
        if cookie["declared_as"] is None:
            rows.append(
                {
                    "name": cookie["name"],
                    "provider": "",
                    "duration": "not declared",
                    "seen": [cookie],
                    "status": "undeclared",
                    "status_class": "bad",
                }
            )
    for row in rows:
        row["states"] = {state for cookie in row["seen"] for state in cookie["states"]}
        row["writers"] = []
        for writer in (w for cookie in row["seen"] for w in cookie["writers"]):
            if writer not in row["writers"]:
                row["writers"].append(writer)
        lifetimes = [c["longest_lifetime"] for c in row["seen"] if c["longest_lifetime"]]
        row["longest"] = max(lifetimes, default=None)
    return rows


def _click_rows(audit: Audit) -> list[dict[str, Any]]:
    """Each placeholder clicked: what the click brought, and the violations on its page."""
    rows = []
    for click in audit.clicks:
        brought = {*click.hosts, *click.cookies}
        broken = [
            f
            for f in audit.violations
            if f.state == EMBED_STATE and f.page == click.page and f.subject in brought
        ]
        rows.append({**asdict(click), "violations": broken})
    return rows


def _hosts(visits: list[Visit]) -> list[tuple[str, bool]]:
    """Other hosts requested, each with whether every request to it came before the choice."""
    after: dict[str, bool] = {}
    for request in (r for visit in visits for r in visit.requests):
        after[request.host] = after.get(request.host, False) or request.after_choice
    chose = any(visit.step == "choice" for visit in visits)
    return [(host, chose and not after[host]) for host in sorted(after)]


def _state_rows(audit: Audit) -> list[dict[str, Any]]:
    """Per state: the cookies, storage keys and other hosts seen, and how many violations."""
    rows = []
    for state in audit.states:
        visits = [visit for visit in audit.visits if visit.state == state]
        rows.append(
            {
                "state": state,
                "cookies": sorted({c.name for v in visits for c in v.cookies}),
                "storage": sorted(
                    {k for v in visits for k in [*v.local_storage, *v.session_storage]}
                ),
                "hosts": _hosts(visits),
                "violations": sum(f.state == state for f in audit.violations),
            }
        )
    return rows
