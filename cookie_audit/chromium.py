"""Which Chromium the audit and the browser tests drive, and how it is started.

Run as ``python -m cookie_audit.chromium`` (``make browser`` does), it says which one
it found, or exits 1 so that ``make browser`` can install Debian's.
"""

from __future__ import annotations

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


def chromium_executable(playwright) -> str | None:
    """The executable to launch; None means Playwright's own browser.

    ``CHROMIUM_PATH`` when set; Playwright's own Chromium when it was downloaded (a
    developer's laptop); otherwise Debian's ``chromium`` from the PATH.
    """
    if override := os.environ.get("CHROMIUM_PATH"):
        if not Path(override).exists():
            raise FileNotFoundError(f"CHROMIUM_PATH={override} does not exist")
        return override
    if Path(playwright.chromium.executable_path).exists():
        return None
    if system := shutil.which("chromium") or shutil.which("chromium-browser"):
        return system
    raise FileNotFoundError(
        "no Chromium: set CHROMIUM_PATH, install Debian's 'chromium', or run "
        "'.venv/bin/python -m playwright install chromium'"
    )


if __name__ == "__main__":
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            found = chromium_executable(playwright)
    except FileNotFoundError as error:
        sys.exit(str(error))
    print(f"Browser: {found or 'Playwright’s own Chromium'}")
