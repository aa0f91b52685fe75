"""`make lighthouse`: Lighthouse's four scores for the published home, policy and news pages.

The site is built as `make publish` builds it, with SITEURL pointing at a local server
that sends the headers of the built `_headers` file (the CSP among them) and the
pre-compressed copies of each file, as the host would. Lighthouse runs its default
mobile profile in headless Chromium; every other host name fails to resolve. Each page
is audited LIGHTHOUSE_RUNS times (default 3) and the run with the median performance
score is kept, as Lighthouse's authors advise on a busy machine. Not a test: the
scores go to the terminal and to lighthouse-results.json, with every weighted audit
below a full score and every request that failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cookie_audit.sandbox import launch_options
from tests.conftest import ROOT, Server, build_or_fail, headers_file

LIGHTHOUSE = ROOT / ".lighthouse/node_modules/.bin/lighthouse"
PAGES = {
    "home": "/",
    "policy": "/privacy-policy/",
    "news article": "/news/managed-kubernetes-is-now-generally-available/",
}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
RESULTS = ROOT / "lighthouse-results.json"
RUNS = int(os.environ.get("LIGHTHOUSE_RUNS", "3"))


def chromium() -> tuple[str, list[str]]:
    """The browser and flags the tests use: Lighthouse starts it itself."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        options = launch_options(p)
        return options["executable_path"] or p.chromium.executable_path, options["args"]


def audit(url: str, report: Path, browser: tuple[str, list[str]]) -> dict:
    """One Lighthouse run; its scores, what fell short, and failed requests."""
    executable, args = browser
    flags = ["--headless=new", "--no-sandbox", *args]
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={' '.join(flags)}",
        ],
        check=True,
        env={**os.environ, "CHROME_PATH": executable},
    )
    result = json.loads(report.read_text())
    audits = result["audits"]
    shortfalls = sorted(
        {
            f"{ref['id']}: {audits[ref['id']]['title']}"
            for category in result["categories"].values()
            for ref in category["auditRefs"]
            if ref["weight"]
            and (audits[ref["id"]]["score"] or 0) < 1
            and audits[ref["id"]]["scoreDisplayMode"] in ("binary", "numeric", "metricSavings")
        }
    )
    requests = audits["network-requests"]["details"]["items"]
    return {
        "scores": {name: round(result["categories"][name]["score"] * 100) for name in CATEGORIES},
        "metrics": {
            name: audits[name]["displayValue"]
            for name in (
                "first-contentful-paint",
                "largest-contentful-paint",
                "total-blocking-time",
                "cumulative-layout-shift",
                "speed-index",
            )
        },
        "short_of_100": shortfalls,
        "failed_requests": [
            f"{r['url']} {r.get('statusCode')}" for r in requests if r.get("statusCode", 0) >= 400
        ],
    }


def main() -> None:
    if not LIGHTHOUSE.exists():
        sys.exit(f"no Lighthouse at {LIGHTHOUSE}: run `make lighthouse`, which installs it")
    browser = chromium()
    results = {}
    with tempfile.TemporaryDirectory() as work:
        site = Path(work) / "output"
        site.mkdir()
        headers: dict[str, str] = {}
        # Started first, as the build needs its address; serves the .br and .gz copies.
        server = Server(site, headers, precompressed=True)
        base = f"http://127.0.0.1:{server.port}"  # localhost counts as a secure origin
        os.environ["SITEURL"] = base
        build_or_fail(site, settings_file="publishconf.py")
        headers.update(headers_file(site))
        try:
            for label, path in PAGES.items():
                runs = [
                    audit(base + path, Path(work) / "report.json", browser) for _ in range(RUNS)
                ]
                runs.sort(key=lambda run: run["scores"]["performance"])
                results[label] = {
                    **runs[len(runs) // 2],
                    "performance_runs": [run["scores"]["performance"] for run in runs],
                }
        finally:
            server.close()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'page':<14}" + "".join(f"{name:>16}" for name in CATEGORIES) + "  performance runs")
    for label, result in results.items():
        scores = "".join(f"{result['scores'][n]:>16}" for n in CATEGORIES)
        print(f"{label:<14}{scores}  {result['performance_runs']}")
        print("    " + ", ".join(f"{name} {value}" for name, value in result["metrics"].items()))
        for line in result["short_of_100"] + result["failed_requests"]:
            print(f"    {line}")


if __name__ == "__main__":
    main()
