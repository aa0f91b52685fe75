"""Audit a built site's cookies, storage and third-party requests in real Chromium.

`python -m cookie_audit` runs it; `cookie_audit.audit.run_audit` is the Python entry point.
"""

import sys
from pathlib import Path

# The audit judges what the consent_banner plugin writes, and reads it in the plugin's
# own units (its length of a month): the plugins folder is importable wherever it runs.
PLUGINS = str(Path(__file__).resolve().parent.parent / "plugins")
if PLUGINS not in sys.path:
    sys.path.append(PLUGINS)
