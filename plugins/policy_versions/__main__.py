"""The plugin's command line: start a new policy version, or lock one.

    python -m pelican.plugins.policy_versions new 2027-03-01 [--document privacy-policy]
    python -m pelican.plugins.policy_versions lock 2027-03-01 [--document privacy-policy]

``new`` copies the newest version to the new date with the site's declaration of today
(cookies and third parties, from the settings) beside it: a draft, which previews show
and publishing refuses. Run again on an upcoming version, it rewrites that version's
declaration and leaves its text alone. ``lock`` approves a version: it records its
SHA-256 and the day in the document's lock file, and those of each of its translations
not locked yet (or changed before its day); it refuses a version whose questions are
open (no Summary, no Reconsent decision). A translation that comes later is locked with
the same command, which leaves the version's own line as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

from pelican import Pelican
from pelican.contents import Page
from pelican.generators import ArticlesGenerator, PagesGenerator
from pelican.readers import Readers
from pelican.settings import read_settings

from .checks import open_questions
from .declaration import additions, declaration_text, read_declaration, site_declaration
from .lock import LOCK_FILE, declaration_path, read_lock, record, write_lock
from .model import (
    DEFAULT_COMMANDS,
    ISO_DATE,
    Commands,
    Lock,
    PolicyError,
    date_of,
    plain_text,
    sha256,
)
from .policy_versions import build_date, read_config
from .reading import FILE_NAME

DECLARATION_HEADING = """\
What version {day} of this document declares: every cookie the website may set and
every third party it may contact while this version is in force. Written by
`{program}` on {today} from the site's settings; never recomputed. The
build fails if the site sets or contacts anything the version in force does not declare."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=DEFAULT_COMMANDS.program, description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", choices=["new", "lock"])
    parser.add_argument("day", metavar="DATE", help="YYYY-MM-DD")
    parser.add_argument(
        "--document",
        help="folder under content/policies/ (default: the one that drives the consent revision)",
    )
    parser.add_argument("--settings", default="pelicanconf.py")
    parser.add_argument("--content", help="the content folder (default: PATH in the settings)")
    parser.add_argument(
        "-e",
        "--extra-settings",
        nargs="*",
        default=[],
        metavar="KEY=JSON",
        help="settings to override, as pelican -e takes them",
    )
    args = parser.parse_args(argv)
    commands = DEFAULT_COMMANDS  # until the site's settings name its own
    try:
        override = {"PATH": str(Path(args.content).resolve())} if args.content else {}
        for pair in args.extra_settings:
            key, _, value = pair.partition("=")
            override[key] = json.loads(value)
        settings = read_site(read_settings(args.settings, override=override))
        config = read_config(settings)
        commands = config["commands"]
        message = run(args, settings, config)
    except PolicyError as error:
        print(f"{commands.program}: {error.reason}", file=sys.stderr)
        return 1
    print(message)
    return 0


def run(args: argparse.Namespace, settings: dict, config: dict) -> str:
    commands = config["commands"]
    example = commands.run(args.action, "2027-03-01")
    if not ISO_DATE.match(args.day):
        raise PolicyError(f"DATE must be YYYY-MM-DD, like {example}, not {args.day!r}")
    try:
        day = dt.date.fromisoformat(args.day)
    except ValueError as error:
        raise PolicyError(f"DATE {args.day}: {error}") from None
    document = args.document or config["consent_document"]
    folder = Path(settings["PATH"]) / config["source"] / document
    if not folder.is_dir():
        raise PolicyError(f"no document folder {folder}")
    today = build_date(config, settings.get("TIMEZONE") or "UTC")
    markdown = folder / f"{args.day}.md"
    if args.action == "lock":
        site_name = settings.get("SITENAME", "")
        return lock(folder, markdown, day, today, Readers(settings), site_name, commands)
    drives_consent = document == config["consent_document"]
    return new_version(folder, markdown, day, today, settings, drives_consent, commands)


def read_site(settings: dict) -> dict:
    """The settings once the articles and pages are read, as a build reads them: the
    consent_banner plugin then publishes the cookies and third parties of the content
    (its embeds), which make up today's declaration."""
    pelican = Pelican(settings)
    context = {
        **pelican.settings,
        "generated_content": {},
        "static_links": set(),
        "static_content": {},
        "localsiteurl": pelican.settings["SITEURL"],
    }
    for generator in (ArticlesGenerator, PagesGenerator):
        generator(
            context=context,
            settings=pelican.settings,
            path=pelican.path,
            theme=pelican.theme,
            output_path=pelican.output_path,
        ).generate_context()
    return pelican.settings


def lock(
    folder: Path,
    markdown: Path,
    day: dt.date,
    today: dt.date,
    readers: Readers,
    site_name: str,
    commands: Commands,
) -> str:
    if not markdown.exists():
        raise PolicyError(f"no version {markdown}")
    entries = read_lock(folder)
    key = day.isoformat()
    digest = sha256(record(markdown))
    if key in entries and entries[key].digest != digest and day <= today:
        raise PolicyError(
            f"version {key} took effect on {key} and was locked with another text; restore "
            "it (git checkout) and publish the change as a new version"
        )
    questions = questions_of(folder, markdown, readers, site_name)
    if questions:
        raise PolicyError(
            f"{markdown}: not locked, legal has still to answer: {'; '.join(questions)}. "
            f"Then lock it with {commands.run('lock', key)}."
        )
    said = []
    if key not in entries or entries[key].digest != digest:
        entries[key] = Lock(digest, today)
        said.append(f"Locked {markdown.name} ({digest})")
    for translation in translations_of(folder, key, set(readers.extensions)):
        lock_key = f"{key}.{FILE_NAME.match(translation.name).group(2)}"
        digest = sha256(record(translation))
        if lock_key in entries and entries[lock_key].digest == digest:
            continue
        page = readers.read_file(str(folder), translation.name, content_class=Page)
        published = max(day, date_of(page.metadata, "Translated", str(translation)))
        if lock_key in entries and published <= today:
            raise PolicyError(
                f"translation {translation} is published from {published} and was locked "
                "with another text; restore it (git checkout): a published translation "
                "never changes"
            )
        entries[lock_key] = Lock(digest, today)
        said.append(f"Locked {translation.name} ({digest})")
    if not said:
        return f"{markdown.name} and its translations are locked already in {folder / LOCK_FILE}."
    write_lock(folder, entries, commands)
    announced = f" {commands.publish} now announces it until {key}." if day > today else ""
    return f"{'; '.join(said)} in {folder / LOCK_FILE}; commit it.{announced}"


def questions_of(folder: Path, markdown: Path, readers: Readers, site_name: str) -> list[str]:
    """What the build asks of the version before it is approved (checks.open_questions),
    read from its files and from those of the version before it."""
    meta = readers.read_file(str(folder), markdown.name, content_class=Page).metadata
    earlier = [p for p in sorted(folder.glob("????-??-??.md")) if p.stem < markdown.stem]
    added = []
    if earlier:
        before, after = declaration_path(earlier[-1]), declaration_path(markdown)
        if before.exists() and after.exists():
            declared = [read_declaration(path, str(path)) for path in (before, after)]
            added = additions(*declared, site_name)
    summary = plain_text(str(meta.get("summary", "")))
    return open_questions(summary, "reconsent" in meta, added)


def translations_of(folder: Path, key: str, extensions: set[str]) -> list[Path]:
    """The translations of the version of that day: 2026-12-01.nl.md, …"""
    texts = [p for p in sorted(folder.glob(f"{key}.*")) if p.suffix.lstrip(".") in extensions]
    return [path for path in texts if (named := FILE_NAME.match(path.name)) and named.group(2)]


def new_version(
    folder: Path,
    markdown: Path,
    day: dt.date,
    today: dt.date,
    settings: dict,
    declares: bool,
    commands: Commands,
) -> str:
    if markdown.exists() and day <= today:
        raise PolicyError(f"version {day} has taken effect; its declaration is locked")
    if day < today:
        raise PolicyError(f"{day} is in the past; a version takes effect today or later")
    if markdown.exists():
        if not declares:
            raise PolicyError(f"version {day} exists already")
        write_declaration(markdown, day, today, settings, commands)
        return (
            f"Rewrote the declaration of the upcoming version {day} from today's settings: "
            f"{declaration_path(markdown)}. Until it is locked again the version is a draft: "
            f'{commands.preview} show it marked "Draft, not approved", {commands.publish} '
            f"refuses it. Review it, then {commands.run('lock', day)} once legal has approved it."
        )
    versions = sorted(folder.glob("????-??-??.md"))
    if not versions:
        raise PolicyError(f"no version in {folder} to start from")
    newest = versions[-1]
    if day <= dt.date.fromisoformat(newest.stem):
        raise PolicyError(f"the newest version is {newest.stem}; a new one takes effect later")
    text = newest.read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    kept = [line for line in head.splitlines() if not re.match(r"(?i)(reconsent|summary):", line)]
    head = "\n".join(
        f"Effective: {day}" if line.lower().startswith("effective:") else line for line in kept
    )
    markdown.write_text(f"{head}\nSummary: \n\n{body}", encoding="utf-8")
    if declares:
        write_declaration(markdown, day, today, settings, commands)
    return (
        f"Wrote {markdown}, a copy of {newest.name}"
        + (f", and its declaration {declaration_path(markdown).name}" if declares else "")
        + f". It is a draft until it is locked: {commands.preview} show it marked "
        f'"Draft, not approved", {commands.publish} refuses it. Now edit the text, say what '
        "changed in 'Summary:' (and, if it adds a third party or purpose, 'Reconsent: yes' or "
        f"'no'), and once legal has approved it, lock it with {commands.run('lock', day)}: "
        f"from then {commands.publish} announces it until its day."
    )


def write_declaration(
    markdown: Path, day: dt.date, today: dt.date, settings: dict, commands: Commands
) -> None:
    heading = DECLARATION_HEADING.format(day=day, today=today, program=commands.program)
    text = declaration_text(site_declaration(settings), heading)
    declaration_path(markdown).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
