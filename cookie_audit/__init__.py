"""Audit a built site's cookies, storage and third-party requests in real Chromium.

`python -m cookie_audit` runs it; `cookie_audit.audit.run_audit` is the Python entry point.
"""
