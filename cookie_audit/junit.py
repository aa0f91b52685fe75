"""The audit as JUnit XML, so CI systems show it as tests: a test case per page and state.

Each page also has a test case for its markup (what it declares, whatever the visitor
does). A violation is a failure of the case of its page and state; a page and state
not visited in this run says which page of its kind stood in for it.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from cookie_audit.audit import Audit

MARKUP = "markup"


def junit_xml(audit: Audit) -> ElementTree.Element:
    """One testsuite of len(pages) × (len(states) + 1) cases."""
    visited = {(visit.state, visit.page) for visit in audit.visits}
    stand_in = {page: kind[0] for kind in audit.coverage.kinds for page in kind}
    failures: dict[tuple[str, str], list] = {}
    for finding in audit.violations:
        failures.setdefault((finding.state or MARKUP, finding.page), []).append(finding)
    suite = ElementTree.Element(
        "testsuite",
        name="cookie audit",
        tests=str(len(audit.pages) * (len(audit.states) + 1)),
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
                failure = ElementTree.SubElement(
                    case, "failure", message=f"{finding.rule}: {finding.subject}", type=finding.rule
                )
                failure.text = finding.detail
            if state != MARKUP and (state, page) not in visited:
                out = ElementTree.SubElement(case, "system-out")
                out.text = f"covered by {stand_in[page]}, a page of the same kind"
    return suite


def write_junit(audit: Audit, file: Path) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    tree = ElementTree.ElementTree(junit_xml(audit))
    ElementTree.indent(tree)
    tree.write(file, encoding="utf-8", xml_declaration=True)
