"""Which Chromium the audit and the browser tests drive, and how it is started.

Run as ``python -m cookie_audit.chromium`` (``make browser`` does), it says which one
it found, or exits 1 so that ``make browser`` can install Debian's headless shell: when
it found none, or only Debian's full ``chromium`` (``--any`` accepts that one).
``--path`` prints the executable's path alone, whichever it is, for scripts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

# Chromium phones home at start-up unless told not to; nothing may reach a real host.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Debian's names, best first. The headless shell is Chromium without the browser's user
# interface, the build Playwright's own headless runs use: it does a page visit in about
# 60 % of the full browser's CPU time (docs/testing.md, "Which browser").
DEBIAN_BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")


def chromium_executable(playwright) -> str | None:
    """The executable to launch; None means Playwright's own browser.

    ``CHROMIUM_PATH`` when set; Playwright's own Chromium when it was downloaded (a
    developer's laptop); otherwise Debian's headless shell or ``chromium`` from the PATH.
    """
    if override := os.environ.get("CHROMIUM_PATH"):
        if not Path(override).exists():
            raise FileNotFoundError(f"CHROMIUM_PATH={override} does not exist")
        return override
    if Path(playwright.chromium.executable_path).exists():
        return None
    for name in DEBIAN_BROWSERS:
        if system := shutil.which(name):
            return system
    raise FileNotFoundError(
        "no Chromium: set CHROMIUM_PATH, install Debian's 'chromium-headless-shell' or "
        "'chromium', or run "
        "'.venv/bin/python -m playwright install chromium'"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cookie_audit.chromium",
        description="Say which Chromium the audit and the browser tests drive.",
    )
    parser.add_argument(
        "--any", action="store_true", help=f"accept a Chromium other than {DEBIAN_BROWSERS[0]}"
    )
    parser.add_argument(
        "--path", action="store_true", help="print the executable's path alone, whichever it is"
    )
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            found = chromium_executable(playwright)
            own = playwright.chromium.executable_path
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    if args.path:
        print(found or own)
        return 0
    override = os.environ.get("CHROMIUM_PATH")
    slower = found and not override and Path(found).name != DEBIAN_BROWSERS[0]
    if slower and not args.any:
        print(f"Browser: {found}; Debian's {DEBIAN_BROWSERS[0]} would be faster", file=sys.stderr)
        return 1
    print(f"Browser: {found or 'Playwright’s own Chromium'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
