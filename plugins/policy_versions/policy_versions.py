"""Versioned policy documents: one folder per document, one Markdown file per version, kept forever.

Every folder under ``content/policies/`` (``privacy-policy``, say) is one document and
publishes /privacy-policy/ (the version in force), /privacy-policy/<date>/ for every
version with its record (text and declaration) and SHA-256, /privacy-policy/history/,
/privacy-policy/<date>/changes/ (a redline against the previous version),
/privacy-policy/versions.json and /privacy-policy/feed.atom. A version may have
translations (``2026-12-01.nl.md``, see reading.py), each at its own address
(/privacy-policy/2026-12-01/nl/) with its own redline. The build fails when a
version that took effect is not locked or changed, and when the site sets or contacts
something the version in force of the consent document does not declare. A version
not approved yet (checks.unapproved: not locked as it is, no Summary, no Reconsent
decision where one is needed) is a draft: a preview shows it, marked and with a
warning; a publishing build (see publishing()) refuses it.

Exposes to templates and other plugins, for the consent document: ``POLICY_IN_FORCE``,
``POLICY_URL``, ``POLICY_HISTORY_URL``, ``policy_versions`` and ``CONSENT_REVISION``;
and ``policy_documents``, every document.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, fields
from pathlib import Path
from zoneinfo import ZoneInfo

from pelican import signals
from pelican.generators import Generator

from .archive import atom_feed, versions_json
from .checks import check_document, check_site_against
from .declaration import site_declaration
from .model import (
    DEFAULT_COMMANDS,
    Commands,
    PolicyDocument,
    PolicyError,
    PolicyTranslation,
    PolicyVersion,
    consent_revision,
    logger,
)
from .reading import PolicyReader
from .redline import redline

DEFAULT_CONFIG = {
    "source": "policies",
    "consent_document": "privacy-policy",
    "today": None,
    # "fail": a publishing build (publishconf.py), which refuses a disagreement between the
    # site and the policy in force, and any draft; "warn": a preview (pelicanconf.py),
    # which shows both with a warning. See publishing().
    "site_check": "fail",
    # How the messages name each step (see model.Commands): a site sets its own.
    "commands": asdict(DEFAULT_COMMANDS),
}
SITE_CHECKS = ("fail", "warn")


def read_config(settings: dict) -> dict:
    config = {**DEFAULT_CONFIG, **settings.get("POLICY_VERSIONS", {})}
    unknown = set(config) - set(DEFAULT_CONFIG)
    if unknown:
        raise PolicyError(f"Invalid 'POLICY_VERSIONS' key: {sorted(unknown)[0]!r}")
    if config["site_check"] not in SITE_CHECKS:
        raise PolicyError(
            f"Invalid 'POLICY_VERSIONS' key: 'site_check': "
            f"{config['site_check']!r} is not one of {', '.join(SITE_CHECKS)}"
        )
    config["commands"] = read_commands(config["commands"])
    return config


def read_commands(given: object) -> Commands:
    """The site's commands over the plugin's own; each a string, `new` and `lock` with {day}."""
    steps = [step.name for step in fields(Commands)]
    if not isinstance(given, dict):
        raise PolicyError(f"POLICY_VERSIONS['commands'] must be a dict of {', '.join(steps)}")
    commands = {**asdict(DEFAULT_COMMANDS), **given}
    for step, command in commands.items():
        if step not in steps:
            raise PolicyError(
                f"POLICY_VERSIONS['commands']: unknown step {step!r}; the steps: {', '.join(steps)}"
            )
        try:
            if not isinstance(command, str):
                raise TypeError
            command.format(day="YYYY-MM-DD")
        except (TypeError, KeyError, IndexError, ValueError):
            raise PolicyError(
                f"POLICY_VERSIONS['commands'][{step!r}] must be a string with no braces "
                f"but {{day}}, not {command!r}"
            ) from None
    return Commands(**commands)


def publishing(config: dict) -> bool:
    """A build of the site as it goes live, which publishes nothing legal has not approved:
    publishconf.py sets site_check "fail" (the default), pelicanconf.py "warn"."""
    return config["site_check"] == "fail"


def build_date(config: dict, timezone: str) -> dt.date:
    """The day that decides which version is in force: pinned, or today where the site is."""
    if config["today"]:
        try:
            return dt.date.fromisoformat(str(config["today"]))
        except ValueError:
            raise PolicyError(
                f"'POLICY_VERSIONS' today is not a YYYY-MM-DD date: {config['today']!r}"
            ) from None
    zone = ZoneInfo(timezone)
    if epoch := os.environ.get("SOURCE_DATE_EPOCH"):
        try:
            return dt.datetime.fromtimestamp(int(epoch), zone).date()
        except ValueError:
            raise PolicyError(f"SOURCE_DATE_EPOCH is not a number of seconds: {epoch!r}") from None
    return dt.datetime.now(zone).date()


class PolicyVersionsGenerator(PolicyReader):
    """Reads every document's versions, checks them, and writes the policy pages."""

    def generate_context(self) -> None:
        config = read_config(self.settings)
        root = Path(self.path) / config["source"]
        today = build_date(config, self.settings.get("TIMEZONE") or "UTC")
        if not root.is_dir():
            raise PolicyError(f"policy folder not found: {root}")
        folders = sorted(p for p in root.iterdir() if p.is_dir())
        consent_slug = config["consent_document"]
        if consent_slug not in [folder.name for folder in folders]:
            raise PolicyError(
                f"'POLICY_VERSIONS' consent_document {consent_slug!r} is not a "
                f"folder of {root}; found: {', '.join(f.name for f in folders) or 'none'}"
            )
        site_name = self.settings.get("SITENAME", "")
        self.documents = []
        for folder in folders:
            document = self.read_document(
                folder, today, folder.name == consent_slug, config["commands"]
            )
            where, commands = self.where(folder), config["commands"]
            check_document(document, folder, where, site_name, publishing(config), commands)
            self.documents.append(document)
        self.today = today
        consent = next(d for d in self.documents if d.slug == consent_slug)
        try:
            check_site_against(
                consent, site_declaration(self.settings), self.settings, config["commands"]
            )
        except PolicyError as disagreement:
            if config["site_check"] == "fail":
                raise
            logger.warning(
                "%s (a preview: %s refuses this)", disagreement.reason, config["commands"].publish
            )
        self.context.update(
            policy_documents=self.documents,
            policy_versions=consent.newest_first,
            POLICY_IN_FORCE=consent.in_force,
            POLICY_URL=consent.url,
            POLICY_HISTORY_URL=consent.history_url,
            CONSENT_REVISION=consent_revision(consent.versions),
        )
        for document in self.documents:
            logger.info(
                "%s: %d versions, %d translations; in force on %s: %s",
                document.slug,
                len(document.versions),
                sum(len(v.translations) for v in document.versions),
                today,
                document.in_force.effective,
            )

    def generate_output(self, writer) -> None:
        for document in self.documents:
            self.write_document(writer, document)

    def write_document(self, writer, document: PolicyDocument) -> None:
        policy = self.get_template("policy")
        page = {"document": document, "upcoming": document.upcoming}
        writer.write_file(
            f"{document.url}index.html",
            policy,
            self.context,
            version=document.in_force,
            canonical_url=document.in_force.url,
            **page,
        )
        for text in document.texts:
            self.write_text(writer, text, page)
        writer.write_file(
            f"{document.history_url}index.html",
            self.get_template("policy_history"),
            self.context,
            **page,
        )
        site_url = self.settings.get("SITEURL", "")
        self.write_raw(document.json_url, versions_json(document, site_url).encode())
        site_name = self.settings.get("SITENAME", "")
        feed = atom_feed(document, site_url, site_name, self.timezone, self.today)
        self.write_raw(document.feed_url, feed)

    def write_text(
        self, writer, text: PolicyVersion | PolicyTranslation, page: dict[str, object]
    ) -> None:
        """A version or translation: its page, its changes (if not the first), its record."""
        writer.write_file(
            text.save_as, self.get_template("policy"), self.context, version=text, **page
        )
        if text.original.previous:
            # A translation whose previous version has none in its language gets the
            # page too, saying so: its address does not depend on what was translated.
            writer.write_file(
                text.changes_save_as,
                self.get_template("policy_changes"),
                self.context,
                version=text,
                redline=redline(text.previous.content, text.content) if text.previous else None,
                **page,
            )
        self.write_raw(text.url + text.record_name, text.record)

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.get("TIMEZONE") or "UTC")

    def write_raw(self, name: str, data: bytes) -> None:
        path = Path(self.output_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def get_generators(pelican) -> type[Generator]:
    return PolicyVersionsGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
