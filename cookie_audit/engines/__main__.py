"""`python -m cookie_audit.engines`: which engines besides Chromium are here, in one line.

Exits 1 when one is missing, so that `make engines` can install it; `--any` exits 0
whatever is found (the tests of a missing engine are skipped, saying what to install).
"""

from __future__ import annotations

import sys

from cookie_audit.engines import ENGINES, missing


def main(argv: list[str]) -> int:
    reasons = {engine: missing(engine) for engine in ENGINES}
    found = [engine for engine, reason in reasons.items() if reason is None]
    absent = [f"{engine} skipped ({reason})" for engine, reason in reasons.items() if reason]
    print("Engines: " + "; ".join([*(f"{engine} found" for engine in found), *absent]))
    return 0 if not absent or "--any" in argv else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
