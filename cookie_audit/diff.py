"""`python -m cookie_audit diff BASE_REPORT HEAD_REPORT`: what a change did to privacy.

Prints Markdown fit for a pull-request comment: the cookies, storage keys, other hosts
and providers that appeared or disappeared (with their pages and states), the pages
added or removed, and the head's violations. Exit 0 when nothing undeclared appeared
(no violation the base did not have, no undeclared cookie), 1 otherwise, 2 when a
report cannot be read. A report is a report.json or the folder holding one.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SHOWN_PAGES = 5  # pages listed per row before "and N more"


class ReportError(Exception):
    """A report that cannot be read."""


@dataclass
class Seen:
    """Where one cookie, key, host or provider showed: states and pages."""

    states: set[str] = field(default_factory=set)
    pages: set[str] = field(default_factory=set)


Sightings = dict[str, dict[str, Seen]]  # by what (cookie, storage key, ...), then by name


def load(path: Path) -> dict[str, Any]:
    file = path / "report.json" if path.is_dir() else path
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReportError(f"cannot read {file}: {error}") from error
    if not isinstance(report, dict) or report.get("schema") != 1 or "results" not in report:
        raise ReportError(f"{file} is not a cookie audit report (schema 1)")
    return report


def sightings(report: dict[str, Any]) -> Sightings:
    """Every cookie, storage key, other host and provider, with where it showed."""
    found: Sightings = {"cookie": {}, "storage key": {}, "host": {}, "provider": {}}
    providers = {row["name"]: row["provider"] for row in report["cookies"]["declared"]}
    declared_as = {c["name"]: c["declared_as"] for c in report["cookies"]["observed"]}

    def saw(what: str, name: str, result: dict[str, Any]) -> None:
        seen = found[what].setdefault(name, Seen())
        seen.states.add(result["state"])
        seen.pages.add(result["page"])

    for result in report["results"]:
        for cookie in result["cookies"]:
            saw("cookie", cookie["name"], result)
            provider = providers.get(declared_as.get(cookie["name"]) or "")
            saw("provider", provider or "undeclared", result)
        for key in [*result["local_storage"], *result["session_storage"]]:
            saw("storage key", key, result)
        for request in result["requests"]:
            saw("host", urlsplit(request["url"]).hostname or request["url"], result)
    return found


def pages(report: dict[str, Any]) -> set[str]:
    return {result["page"] for result in report["results"]}


def _finding_key(finding: dict[str, Any]) -> tuple:
    return finding["rule"], finding["state"], finding["subject"]


def new_violations(base: dict[str, Any], head: dict[str, Any]) -> list[dict[str, Any]]:
    before = {_finding_key(f) for f in base["violations"]}
    return [f for f in head["violations"] if _finding_key(f) not in before]


def undeclared_cookies(head: dict[str, Any]) -> set[str]:
    return {c["name"] for c in head["cookies"]["observed"] if c["declared_as"] is None}


def markdown(base: dict[str, Any], head: dict[str, Any]) -> str:
    """The pull-request comment."""
    before, after = sightings(base), sightings(head)
    undeclared = undeclared_cookies(head) | undeclared_cookies(base)
    fresh = new_violations(base, head)
    lines = [
        "## Cookie audit: privacy diff",
        "",
        f"Verdict: **{base['verdict'].upper()}** → **{head['verdict'].upper()}** · "
        f"{head['pages']} pages (base {base['pages']}) · "
        f"{len(head['violations'])} violations ({len(fresh)} new)",
        "",
    ]
    for title, older, newer in (("Appeared", before, after), ("Disappeared", after, before)):
        rows = [
            (what, name, seen)
            for what in newer
            for name, seen in sorted(newer[what].items())
            if name not in older[what]
        ]
        lines += [f"### {title}", ""]
        if not rows:
            lines += ["Nothing.", ""]
            continue
        lines += ["| What | Name | States | Pages |", "| --- | --- | --- | --- |"]
        for what, name, seen in rows:
            label = f"`{_cell(name)}`" + (" (undeclared)" if name in undeclared else "")
            states = ", ".join(s for s in head["states"] if s in seen.states)
            lines.append(f"| {what} | {label} | {states} | {_pages(seen.pages)} |")
        lines.append("")
    added, removed = pages(head) - pages(base), pages(base) - pages(head)
    lines += ["### Pages", ""]
    lines += [f"- Added: {_pages(added)}" if added else "- Added: none"]
    lines += [f"- Removed: {_pages(removed)}" if removed else "- Removed: none", ""]
    lines += ["### Violations", ""]
    if not head["violations"]:
        lines += ["None.", ""]
    else:
        lines += ["| Rule | State | Page | Subject | Details | New |"]
        lines += ["| --- | --- | --- | --- | --- | --- |"]
        for f in head["violations"]:
            new = "**new**" if f in fresh else ""
            lines.append(
                f"| {f['rule']} | {f['state'] or 'markup'} | {_cell(f['page'])} | "
                f"`{_cell(f['subject'])}` | {_cell(f['detail'])} | {new} |"
            )
        lines.append("")
    return "\n".join(lines)


def _pages(found: set[str]) -> str:
    shown = sorted(found)[:SHOWN_PAGES]
    more = len(found) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cookie_audit diff",
        description="Compare two audit reports: Markdown for a pull request on stdout.",
    )
    parser.add_argument("base", type=Path, help="the base's report.json, or its folder")
    parser.add_argument("head", type=Path, help="the change's report.json, or its folder")
    args = parser.parse_args(argv)
    try:
        base, head = load(args.base), load(args.head)
    except ReportError as error:
        print(f"cookie audit diff: cannot run: {error}", file=sys.stderr)
        return 2
    print(markdown(base, head))
    appeared = undeclared_cookies(head) - undeclared_cookies(base)
    return 1 if new_violations(base, head) or appeared else 0
