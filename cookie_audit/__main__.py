"""`python -m cookie_audit [SITE_DIR]`: exit 0 when clean, 1 on violations, 2 if it cannot run.

`python -m cookie_audit diff BASE_REPORT HEAD_REPORT` compares two reports (see `diff`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TextIO

from pelican.plugins.policy_versions.model import DEFAULT_COMMANDS, PolicyError
from pelican.plugins.policy_versions.policy_versions import read_config
from pelican.settings import read_settings

from cookie_audit.audit import Audit, AuditError, run_audit, run_engine_audit
from cookie_audit.cache import DEFAULT_CACHE
from cookie_audit.crawl import STATES
from cookie_audit.diff import main as diff_main
from cookie_audit.engines import ENGINES
from cookie_audit.evidence import MANIFEST
from cookie_audit.junit import write_junit
from cookie_audit.report import write_reports
from cookie_audit.sandbox import api_url


class Progress:
    """`done/total visits` on stderr: one line redrawn on a terminal, a line a quarter in a log."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.redraw = stream.isatty()
        self.quarters = 0

    def __call__(self, done: int, total: int) -> None:
        if self.redraw:
            end = "\r\033[K" if done == total else ""
            self.stream.write(f"\rcookie audit: {done}/{total} visits{end}")
        elif done * 4 >= total * (self.quarters + 1):
            self.quarters += 1
            self.stream.write(f"cookie audit: {done}/{total} visits\n")
        self.stream.flush()


def positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m cookie_audit",
        description="Audit a built site's cookies, storage and third-party requests in "
        "Chromium, in five visitor states, against the cookie table its banner declares.",
    )
    parser.add_argument(
        "site",
        nargs="?",
        type=Path,
        default=Path("output"),
        help="the built site (default: output)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=Path("audit-report"),
        help="where to write report.json and index.html (default: audit-report)",
    )
    parser.add_argument(
        "--workers",
        type=positive,
        default=len(STATES),
        help=f"visitor states walked at once, a browser context each (default: all "
        f"{len(STATES)}); fewer use less memory",
    )
    parser.add_argument(
        "--json-only",
        action="store_true",
        help="write report.json only: no HTML, no screenshots (so no evidence of the banner)",
    )
    parser.add_argument(
        "--exhaustive",
        action="store_true",
        help="visit every page in every state, not one page of each kind after a choice",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"reuse results of unchanged pages kept in this folder (default: {DEFAULT_CACHE})",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="audit every page afresh; keep nothing"
    )
    parser.add_argument(
        "--engine",
        choices=("chromium", *ENGINES),
        default="chromium",
        help="the browser engine (default: chromium, every state); firefox and webkit walk "
        "the first-visit state of every page, with the same rules and report",
    )
    parser.add_argument(
        "--junit", type=Path, help="also write JUnit XML: a test case per page and state"
    )
    parser.add_argument(
        "--settings",
        type=Path,
        help="the Pelican settings the site was built with: where they refuse to publish what "
        "the policy in force does not declare (publishconf.py), the audit fails on it too; "
        "otherwise it warns",
    )
    parser.add_argument(
        "--api",
        type=backend_url,
        metavar="URL",
        help="a running backend: every request under /api/ (a consent receipt, a form) is "
        "sent to it and its answer, Set-Cookie included, back to the browser, on the site's "
        "origin (default: none; such requests are refused, as by a static host)",
    )
    return parser.parse_args(argv)


def backend_url(text: str) -> str:
    try:
        api_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return text


def policy_config(settings_file: Path) -> dict:
    """The site's POLICY_VERSIONS: whether its build refuses what the policy in force does
    not declare (site_check "fail", as publishconf.py has it), and its commands."""
    try:
        return read_config(read_settings(str(settings_file)))
    except (OSError, SyntaxError, PolicyError) as error:
        raise AuditError(f"cannot read the settings {settings_file}: {error}") from error


def summary(audit: Audit) -> str:
    verdict = "PASS" if audit.passed else "FAIL"
    coverage = audit.coverage
    # Chromium's line stays as it always read: scripts and CI logs look for it.
    engine = "" if audit.engine == "Chromium" else f" in {audit.engine}"
    return (
        f"cookie audit: {verdict}{engine} — {len(audit.pages)} pages × {len(audit.states)} states "
        f"({coverage.fresh_visits} visits, {coverage.reused} from the cache), "
        f"{len(audit.violations)} violations, {len(audit.warnings)} warnings, "
        f"{audit.elapsed:.1f} s ({audit.visits_per_second:.1f} visits/s, "
        f"{audit.pages_per_second:.1f} pages covered/s)"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:
        return diff_main(argv[1:])
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        policy = policy_config(args.settings) if args.settings else None
        if args.engine != "chromium":
            audit = run_engine_audit(
                args.site, args.engine, progress=Progress(sys.stderr), api=args.api
            )
        else:
            audit = run_audit(
                args.site,
                workers=args.workers,
                screenshots=not args.json_only,
                progress=Progress(sys.stderr),
                exhaustive=args.exhaustive,
                cache=None if args.no_cache else args.cache,
                publishing=bool(policy) and policy["site_check"] == "fail",
                commands=policy["commands"] if policy else DEFAULT_COMMANDS,
                api=args.api,
            )
    except AuditError as error:
        print(f"cookie audit: cannot run: {error}", file=sys.stderr)
        return 2
    for kind, findings in (("violation", audit.violations), ("warning", audit.warnings)):
        for f in findings:
            print(f"  {kind}: [{f.state or 'markup'}] {f.page} {f.rule} {f.subject}: {f.detail}")
    written = write_reports(audit, args.report, html=not args.json_only)
    print(f"report: {written[-1]}")
    if audit.evidence:
        version = audit.evidence.manifest.banner_version
        print(f"evidence of banner version {version}: {args.report / audit.evidence.folder}")
    elif audit.manifest_missing:
        print(f"evidence: none; {args.site / MANIFEST} is missing (built before banner versions)")
    if args.junit:
        write_junit(audit, args.junit)
        print(f"JUnit: {args.junit}")
    print(audit.coverage.statement())
    print(summary(audit))
    return 0 if audit.passed else 1


if __name__ == "__main__":
    sys.exit(main())
