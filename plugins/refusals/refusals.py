"""A refused build says why once, without a Python traceback.

Pelican's main logs whatever stops a build with its traceback, which repeats the
message and buries the file and the fix under twenty lines of frames. A plugin's own
exception class is raised on purpose, with a message that names the file and the fix:
that message is all a person needs. Any other exception is a bug and keeps its
traceback, and `--debug` keeps every traceback.

Each plugin works without the others (consent_banner and policy_versions are wheels of
their own), so they share no exception type; a refusal is recognised instead by where its
class is defined.
"""

from __future__ import annotations

import logging
import sys

# What Pelican's --fatal raises once an error it logged has stopped the build.
FATAL_LOGGED = "Warning or error encountered"


def defined_by_a_plugin(error: BaseException) -> bool:
    """Whether the error's class comes from a loaded plugin (a module with register())."""
    parts = type(error).__module__.split(".")
    prefixes = (".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return any(callable(getattr(sys.modules.get(name), "register", None)) for name in prefixes)


def refusal_message(error: BaseException) -> str | None:
    """The words a refused build prints in place of its traceback; None for a bug."""
    if defined_by_a_plugin(error):
        return str(error)
    if isinstance(error, RuntimeError) and str(error) == FATAL_LOGGED:
        # The logged error said what failed; the exception it was handling says why.
        cause = error.__context__
        why = f": {type(cause).__name__}: {cause}" if cause else ""
        return f"the build stopped at the error above (--fatal errors){why}"
    return None


class RefusalWithoutTraceback(logging.Filter):
    """Pelican's last words on a build: the refusal's message alone, once."""

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
            return True  # --debug: every traceback
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and (message := refusal_message(error)) is not None:
            record.msg, record.args = "%s", (message,)
            record.exc_info = record.exc_text = None
        return True


# Installed as this module loads, not in register(): Pelican loads every plugin before it
# registers any, and a plugin that fails to load stops the build in between.
logging.getLogger("pelican").addFilter(RefusalWithoutTraceback())


def register() -> None:
    """Nothing to connect: the filter is in place once the module is loaded."""
