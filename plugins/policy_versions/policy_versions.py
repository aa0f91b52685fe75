"""Versioned privacy-policy pages: one Markdown file per version, each kept forever.

Publishes /privacy-policy/ (the version in force), /privacy-policy/<date>/ for every
version, /privacy-policy/history/ and /privacy-policy/<date>/changes/ (a redline
against the previous version). Exposes to templates and other plugins:
``POLICY_IN_FORCE``, ``POLICY_URL``, ``POLICY_HISTORY_URL``, ``policy_versions`` and
``CONSENT_REVISION``.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from pelican import signals
from pelican.contents import Page
from pelican.generators import Generator

from .redline import redline

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = {"source": "policies/privacy-policy", "url": "privacy-policy/", "today": None}
FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\w+$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RECONSENT_VALUES = {"yes": True, "no": False}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class PolicyError(Exception):
    """Bad policy input; the message names the file or the setting."""


@dataclass
class PolicyVersion:
    source_path: str
    title: str
    effective: dt.date
    summary: str
    reconsent: bool
    content: str
    url: str
    effective_until: dt.date | None = None
    status: str = "upcoming"
    previous: PolicyVersion | None = field(default=None, repr=False)

    @property
    def save_as(self) -> str:
        return f"{self.url}index.html"

    @property
    def changes_url(self) -> str:
        return f"{self.url}changes/"

    @property
    def changes_save_as(self) -> str:
        return f"{self.url}changes/index.html"

    @property
    def effective_text(self) -> str:
        return long_date(self.effective)

    @property
    def period(self) -> str:
        """E.g. "In force from 8 December 2022 to 30 November 2026"."""
        text = f"In force from {long_date(self.effective)}"
        if self.effective_until:
            text += f" to {long_date(self.effective_until)}"
        return text


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def read_config(settings: dict) -> dict:
    config = {**DEFAULT_CONFIG, **settings.get("POLICY_VERSIONS", {})}
    unknown = set(config) - set(DEFAULT_CONFIG)
    if unknown:
        raise PolicyError(f"policy_versions: Invalid 'POLICY_VERSIONS' key: {sorted(unknown)[0]!r}")
    if not config["url"].endswith("/") or config["url"].startswith("/"):
        raise PolicyError("policy_versions: 'POLICY_VERSIONS' url must look like 'privacy-policy/'")
    return config


def build_date(config: dict, timezone: str) -> dt.date:
    """The day that decides which version is in force: pinned, or today where the site is."""
    if config["today"]:
        try:
            return dt.date.fromisoformat(str(config["today"]))
        except ValueError:
            raise PolicyError(
                f"policy_versions: 'POLICY_VERSIONS' today is not a YYYY-MM-DD date: "
                f"{config['today']!r}"
            ) from None
    zone = ZoneInfo(timezone)
    if epoch := os.environ.get("SOURCE_DATE_EPOCH"):
        try:
            return dt.datetime.fromtimestamp(int(epoch), zone).date()
        except ValueError:
            raise PolicyError(
                f"policy_versions: SOURCE_DATE_EPOCH is not a number of seconds: {epoch!r}"
            ) from None
    return dt.datetime.now(zone).date()


def assign_periods(versions: list[PolicyVersion], today: dt.date) -> PolicyVersion:
    """Link versions, set their periods and statuses; return the one in force."""
    versions.sort(key=lambda v: v.effective)
    for earlier, later in zip(versions, versions[1:], strict=False):
        if earlier.effective == later.effective:
            raise PolicyError(
                f"policy_versions: {later.source_path}: two versions take effect on "
                f"{later.effective} (the other is {earlier.source_path})"
            )
        earlier.effective_until = later.effective - dt.timedelta(days=1)
        later.previous = earlier
    started = [v for v in versions if v.effective <= today]
    if not started:
        raise PolicyError(
            f"policy_versions: no policy version is in force on {today}; the earliest, "
            f"{versions[0].source_path}, takes effect on {versions[0].effective}"
        )
    in_force = started[-1]
    for version in started:
        version.status = "in force" if version is in_force else "superseded"
    return in_force


def consent_revision(versions: list[PolicyVersion]) -> str:
    """Effective date of the newest started version that asks for consent again."""
    started = [v for v in versions if v.status != "upcoming"]
    asking = [v for v in started if v.reconsent] or started[:1]
    return asking[-1].effective.isoformat()


class PolicyVersionsGenerator(Generator):
    """Reads every version, checks it, and writes the policy pages."""

    def generate_context(self) -> None:
        config = read_config(self.settings)
        self.source_dir = Path(self.path) / config["source"]
        today = build_date(config, self.settings.get("TIMEZONE") or "UTC")
        self.versions = [self.read_version(path, config) for path in self.source_files()]
        if not self.versions:
            raise PolicyError(f"policy_versions: no policy version found in {self.source_dir}")
        in_force = assign_periods(self.versions, today)
        for version in self.versions:
            version.content = self.fill_placeholders(version)
        self.context.update(
            policy_versions=sorted(self.versions, key=lambda v: v.effective, reverse=True),
            POLICY_IN_FORCE=in_force,
            POLICY_URL=config["url"],
            POLICY_HISTORY_URL=f"{config['url']}history/",
            CONSENT_REVISION=consent_revision(self.versions),
        )
        self.upcoming = [v for v in self.versions if v.status == "upcoming"]
        logger.info(
            "policy_versions: %d versions; in force on %s: %s",
            len(self.versions),
            today,
            in_force.effective,
        )

    def source_files(self) -> list[Path]:
        if not self.source_dir.is_dir():
            raise PolicyError(f"policy_versions: policy folder not found: {self.source_dir}")
        extensions = set(self.readers.extensions)
        return sorted(p for p in self.source_dir.iterdir() if p.suffix.lstrip(".") in extensions)

    def read_version(self, path: Path, config: dict) -> PolicyVersion:
        where = os.path.relpath(path, self.path)
        named = FILE_NAME.match(path.name)
        if not named:
            raise PolicyError(
                f"policy_versions: {where}: name the file by its effective date, like 2022-12-08.md"
            )
        try:
            page = self.readers.read_file(
                base_path=self.path, path=str(path), content_class=Page, context=self.context
            )
        except Exception as error:
            raise PolicyError(f"policy_versions: {where}: cannot read it: {error}") from error
        meta = page.metadata
        effective = str(meta.get("effective", "")).strip()
        if not effective:
            raise PolicyError(f"policy_versions: {where}: missing 'Effective: YYYY-MM-DD'")
        try:
            if not ISO_DATE.match(effective):
                raise ValueError
            effective_date = dt.date.fromisoformat(effective)
        except ValueError:
            raise PolicyError(
                f"policy_versions: {where}: 'Effective' must be a YYYY-MM-DD date, "
                f"not {effective!r}"
            ) from None
        if named.group(1) != effective:
            raise PolicyError(
                f"policy_versions: {where}: the file name says {named.group(1)} "
                f"but 'Effective' says {effective}"
            )
        reconsent = str(meta.get("reconsent", "no")).strip().lower()
        if reconsent not in RECONSENT_VALUES:
            raise PolicyError(
                f"policy_versions: {where}: 'Reconsent' must be yes or no, not {reconsent!r}"
            )
        url = f"{config['url']}{effective}/"
        page.override_url = url  # where {filename} links to this file should point
        self.add_source_path(page)
        return PolicyVersion(
            source_path=where,
            title=page.title,
            effective=effective_date,
            summary=meta.get("summary", ""),
            reconsent=RECONSENT_VALUES[reconsent],
            content=page.content,
            url=url,
        )

    def fill_placeholders(self, version: PolicyVersion) -> str:
        """Replace {contact_email} and {cookie_table} with values from the settings."""

        def fill(match: re.Match) -> str:
            name = match.group(1)
            if name == "contact_email":
                address = self.settings.get("CONTACT_EMAIL")
                if not address:
                    raise PolicyError(
                        f"policy_versions: {version.source_path}: {{contact_email}} "
                        "needs the CONTACT_EMAIL setting"
                    )
                address = html.escape(address)
                return f'<a href="mailto:{address}">{address}</a>'
            if name == "cookie_table":
                inventory = self.settings.get("COOKIE_INVENTORY")
                if not inventory:
                    raise PolicyError(
                        f"policy_versions: {version.source_path}: {{cookie_table}} needs "
                        "the cookie inventory of the consent_banner plugin"
                    )
                return self.get_template("_cookie_table").render(cookies=inventory)
            raise PolicyError(
                f"policy_versions: {version.source_path}: unknown placeholder {{{name}}}; "
                "known: {contact_email}, {cookie_table}"
            )

        # A placeholder alone in a paragraph stands for a block (the table).
        content = re.sub(r"<p>(\{cookie_table\})</p>", r"\1", version.content)
        return PLACEHOLDER.sub(fill, content)

    def generate_output(self, writer) -> None:
        policy = self.get_template("policy")
        in_force = self.context["POLICY_IN_FORCE"]
        writer.write_file(
            f"{self.context['POLICY_URL']}index.html",
            policy,
            self.context,
            version=in_force,
            canonical_url=in_force.url,
            upcoming=self.upcoming,
        )
        for version in self.versions:
            writer.write_file(
                version.save_as, policy, self.context, version=version, upcoming=self.upcoming
            )
            if version.previous:
                writer.write_file(
                    version.changes_save_as,
                    self.get_template("policy_changes"),
                    self.context,
                    version=version,
                    redline=redline(version.previous.content, version.content),
                )
        writer.write_file(
            f"{self.context['POLICY_HISTORY_URL']}index.html",
            self.get_template("policy_history"),
            self.context,
        )


def get_generators(pelican) -> type[Generator]:
    return PolicyVersionsGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
