"""The lock file: a SHA-256 of each version that may no longer change.

A version's record is its Markdown file followed by its declaration, byte for byte,
exactly what ``cat 2026-12-01.md 2026-12-01.toml | sha256sum`` reads; the site
publishes it so that anyone can check the hash. ``versions.lock`` beside the
versions holds one line per locked version: ``2026-12-01  <sha-256>  2027-02-01``, and
one per locked translation, whose record is its Markdown file alone:
``2026-12-01.nl  <sha-256>  2027-02-01``. The last column is the day it was locked,
that is approved and published (the feed dates it by that day); lines written before
it was recorded have none.
"""

from __future__ import annotations

import datetime as dt
import difflib
import subprocess
from pathlib import Path

from .model import Commands, Lock, PolicyError, sha256

LOCK_FILE = "versions.lock"
# Written once, when the file is created; locking again keeps the heading the file has.
LOCK_HEADING = """\
# SHA-256 of each locked version: its Markdown file followed by its declaration,
# as `cat DATE.md DATE.toml | sha256sum` prints it, and of each locked translation
# (DATE.nl: `sha256sum DATE.nl.md`), then the day it was locked. Written by
# {lock}; the build fails when a locked version or
# translation changes once its day has come.
"""
GIT_HISTORY_DEPTH = 200  # commits searched for the text a version had when it was locked


def declaration_path(markdown: Path) -> Path:
    return markdown.with_suffix(".toml")


def record_files(markdown: Path) -> list[Path]:
    declaration = declaration_path(markdown)
    return [markdown, declaration] if declaration.exists() else [markdown]


def record(markdown: Path) -> bytes:
    """The version as published: its text, then its declaration, if any."""
    return b"".join(path.read_bytes() for path in record_files(markdown))


def read_lock(folder: Path) -> dict[str, Lock]:
    path = folder / LOCK_FILE
    if not path.exists():
        return {}
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        try:
            if len(parts) not in (2, 3) or len(parts[1]) != 64:
                raise ValueError
            day = dt.date.fromisoformat(parts[2]) if len(parts) == 3 else None
        except ValueError:
            raise PolicyError(
                f"{path}: line {number} is not "
                f"'YYYY-MM-DD  <sha-256>  YYYY-MM-DD' (version, SHA-256, day locked): {line!r}"
            ) from None
        entries[parts[0]] = Lock(parts[1], day)
    return entries


def lock_heading(folder: Path, commands: Commands) -> str:
    """The comment the lock file starts with, byte for byte, so that locking changes no
    more than the lines it locks; the default heading for a new file."""
    path = folder / LOCK_FILE
    if not path.exists():
        return LOCK_HEADING.format(lock=commands.run("lock", "DATE"))
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.startswith("#"):
            break
        kept.append(line)
    return "".join(kept)


def write_lock(folder: Path, entries: dict[str, Lock], commands: Commands) -> None:
    lines = [lock.line(key) for key, lock in sorted(entries.items())]
    text = lock_heading(folder, commands) + "\n".join(lines) + "\n"
    (folder / LOCK_FILE).write_text(text, encoding="utf-8")


def in_git(folder: Path) -> bool:
    try:
        shown = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--git-dir"], capture_output=True, check=False
        )
    except OSError:  # no git on this machine
        return False
    return shown.returncode == 0


def _git_show(folder: Path, revision: str, path: Path) -> bytes | None:
    shown = subprocess.run(
        ["git", "-C", str(folder), "show", f"{revision}:./{path.name}"],
        capture_output=True,
        check=False,
    )
    return shown.stdout if shown.returncode == 0 else None


def locked_record(markdown: Path, digest: str) -> bytes | None:
    """The record that hashed to the lock, from git's index or history; None if not found."""
    folder = markdown.parent
    names = [p.name for p in (markdown, declaration_path(markdown))]
    try:
        listed = subprocess.run(
            ["git", "-C", str(folder), "log", f"-{GIT_HISTORY_DEPTH}", "--format=%H", "--", *names],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # no git on this machine
        return None
    for revision in ["", *listed.stdout.split()]:  # "" is the index: staged, not committed
        text = _git_show(folder, revision, markdown)
        if text is None:
            continue
        text += _git_show(folder, revision, declaration_path(markdown)) or b""
        if sha256(text) == digest:
            return text
    return None


def changed_lines(locked: bytes, now: bytes, name: str) -> str:
    """A unified diff of the locked record against the files as they are now."""
    diff = difflib.unified_diff(
        locked.decode("utf-8", "replace").splitlines(),
        now.decode("utf-8", "replace").splitlines(),
        fromfile=f"{name} as locked",
        tofile=f"{name} now",
        lineterm="",
    )
    return "\n".join(diff)
