"""The audit as JUnit XML, so CI systems show it as tests: a test case per page and state.

Each page also has a test case for its markup (what it declares, whatever the visitor
does), and each click-to-load placeholder one for its click. A violation is a failure
of the case of its page and state; a page and state not visited in this run says which
page of its kind stood in for it.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from cookie_audit.audit import Audit
from cookie_audit.embeds import STATE as EMBED_STATE
from cookie_audit.rules import Finding

MARKUP = "markup"


def junit_xml(audit: Audit) -> ElementTree.Element:
    """One testsuite of len(pages) × (len(states) + 1) cases, and one per placeholder."""
    visited = {(visit.state, visit.page) for visit in audit.visits}
    stand_in = {page: kind[0] for kind in audit.coverage.kinds for page in kind}
    failures: dict[tuple[str, str], list] = {}
    for finding in audit.violations:
        failures.setdefault((finding.state or MARKUP, finding.page), []).append(finding)
    suite = ElementTree.Element(
        "testsuite",
        name="cookie audit",
        tests=str(len(audit.pages) * (len(audit.states) + 1) + len(audit.clicks)),
        failures=str(len(audit.violations)),
        errors="0",
        skipped="0",
        time=f"{audit.elapsed:.2f}",
    )
    for page in audit.pages:
        for state in (MARKUP, *audit.states):
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"cookie_audit.{state}", name=f"{page} [{state}]"
            )
            for finding in failures.get((state, page), []):
                _fail(case, finding)
            if state != MARKUP and (state, page) not in visited:
                out = ElementTree.SubElement(case, "system-out")
                out.text = f"covered by {stand_in[page]}, a page of the same kind"
    clicked = set()
    for click in audit.clicks:
        name = f"{click.page} [{EMBED_STATE}: {click.provider} #{click.index + 1}]"
        case = ElementTree.SubElement(
            suite, "testcase", classname=f"cookie_audit.{EMBED_STATE}", name=name
        )
        if click.page not in clicked:  # a page's embed findings go to its first click
            clicked.add(click.page)
            for finding in failures.get((EMBED_STATE, click.page), []):
                _fail(case, finding)
    return suite


def _fail(case: ElementTree.Element, finding: Finding) -> None:
    failure = ElementTree.SubElement(
        case, "failure", message=f"{finding.rule}: {finding.subject}", type=finding.rule
    )
    failure.text = finding.detail


def write_junit(audit: Audit, file: Path) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    tree = ElementTree.ElementTree(junit_xml(audit))
    ElementTree.indent(tree)
    tree.write(file, encoding="utf-8", xml_declaration=True)
