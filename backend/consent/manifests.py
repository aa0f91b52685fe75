"""Banner manifests: what each banner version showed, learnt from the build and the audit.

The build writes `output/consent/banner.json` (docs/consent-banner.md); `make audit` adds
screenshots and `evidence.json` beside a copy of it. `learn` stores both in the database,
keyed by the banner version, so a receipt can be checked against the banner it names and
a proof can show what the visitor saw.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.storage import Database, DatabaseUnavailable, Transaction, now

log = logging.getLogger("backend.consent")

VERSION = re.compile(r"[0-9a-f]{12}")
COOKIE_NAME = re.compile(r"[A-Za-z0-9_]+")
NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")  # JavaScript's (?<name>, not (?<= or (?<!
GROUPS = {"revision", "analytics", "time", "id", "seq", "embeds", "action", "lang", "banner"}
SHOT = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*-(?:banner|settings)-\d+\.png")


class ManifestError(Exception):
    """A manifest or evidence file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Manifest:
    banner_version: str
    revision: str
    policy: dict[str, str]  # version, url, sha256
    cookie_name: str
    max_age: int
    pattern: re.Pattern
    languages: frozenset[str]
    providers: frozenset[str]
    banner: dict[str, str]  # lang -> the banner and Cookie settings markup
    text: str  # the manifest as the build wrote it


def parse(text: str, source: str) -> Manifest:
    """A manifest from its JSON text; `source` names it in errors."""

    def fail(why: str) -> ManifestError:
        return ManifestError(f"{source}: {why}; rebuild the site (make build) to write it again")

    try:
        data = json.loads(text)
        cookie, policy = data["cookie"], data["policy"]
        version, revision = data["banner_version"], data["revision"]
        languages, providers, banner = data["languages"], data["providers"], data["banner"]
        max_age, name, source_pattern = cookie["max_age"], cookie["name"], cookie["pattern"]
        policy = {key: str(policy[key]) for key in ("version", "url", "sha256")}
    except json.JSONDecodeError as error:
        raise fail(f"not JSON ({error.msg}, line {error.lineno})") from None
    except (KeyError, TypeError) as error:
        raise fail(f"not a banner manifest (no {error})") from None
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise fail("banner_version is not 12 hex digits")
    if not isinstance(name, str) or not COOKIE_NAME.fullmatch(name):
        raise fail("cookie.name is not a cookie name")
    if not isinstance(max_age, int) or max_age <= 0:
        raise fail("cookie.max_age is not a positive number of seconds")
    if not all(isinstance(x, str) for x in [revision, *languages, *providers, *banner.values()]):
        raise fail("revision, languages, providers and banner must be text")
    if set(banner) != set(languages):
        raise fail("banner must hold the markup of each of its languages")
    try:
        pattern = re.compile(NAMED_GROUP.sub("(?P<", source_pattern), re.ASCII)
    except (re.error, TypeError):
        raise fail("cookie.pattern is not a regular expression") from None
    if not pattern.groupindex.keys() >= GROUPS:
        raise fail(f"cookie.pattern lacks a group of {', '.join(sorted(GROUPS))}")
    return Manifest(
        banner_version=version,
        revision=revision,
        policy=policy,
        cookie_name=name,
        max_age=max_age,
        pattern=pattern,
        languages=frozenset(languages),
        providers=frozenset(providers),
        banner=dict(banner),
        text=text,
    )


def read(path: Path) -> Manifest:
    try:
        text = path.read_bytes().decode("utf-8")  # as written: its SHA-256 is the file's
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path}: cannot be read ({error.__class__.__name__})") from None
    return parse(text, str(path))


@dataclass(frozen=True)
class Evidence:
    text: str  # evidence.json
    shots: dict[str, tuple[str, bytes]]  # file -> (sha256, png)


def read_evidence(folder: Path, manifest: Manifest) -> Evidence:
    """The audit's evidence of a banner version: `folder` is evidence/<version>/ or evidence/."""
    if (folder / manifest.banner_version).is_dir():
        folder = folder / manifest.banner_version
    path = folder / "evidence.json"
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        listed = [(s["file"], s["sha256"]) for s in data["shots"]]
        version = data["banner_version"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ManifestError(
            f"{path}: not the evidence of `make audit` ({error.__class__.__name__})"
        ) from None
    if version != manifest.banner_version:
        raise ManifestError(
            f"{path}: the evidence of banner {version}, not of {manifest.banner_version}"
        )
    if data.get("manifest_sha256") != hashlib.sha256(manifest.text.encode()).hexdigest():
        raise ManifestError(f"{path}: its manifest_sha256 is not the SHA-256 of the manifest")
    shots = {}
    for file, sha256 in listed:
        if not isinstance(file, str) or not SHOT.fullmatch(file):
            raise ManifestError(f"{path}: {file!r} is not a screenshot's name")
        try:
            png = (folder / file).read_bytes()
        except OSError:
            raise ManifestError(f"{folder / file}: listed in {path} but missing") from None
        if hashlib.sha256(png).hexdigest() != sha256:
            raise ManifestError(f"{folder / file}: its SHA-256 is not the one in {path}")
        shots[file] = (sha256, png)
    return Evidence(text=text, shots=shots)


def learn(db: Database, manifest: Manifest, evidence: Evidence | None = None) -> bool:
    """Store a manifest (and its evidence); True when it was new. Learning again is harmless."""
    with db.transaction() as tx:
        new = tx.execute(
            "INSERT INTO consent_banners (banner_version, manifest, manifest_sha256, learnt_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (banner_version) DO NOTHING",
            (
                manifest.banner_version,
                manifest.text,
                hashlib.sha256(manifest.text.encode()).hexdigest(),
                now(),
            ),
        )
        if evidence is not None:
            tx.execute(
                "UPDATE consent_banners SET evidence = ? WHERE banner_version = ?",
                (evidence.text, manifest.banner_version),
            )
            for file, (sha256, png) in evidence.shots.items():
                tx.execute(
                    "INSERT INTO consent_screenshots (banner_version, file, sha256, png_base64)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (banner_version, file) DO UPDATE"
                    " SET sha256 = excluded.sha256, png_base64 = excluded.png_base64",
                    (manifest.banner_version, file, sha256, base64.b64encode(png).decode()),
                )
    return new == 1


def learn_build(db: Database, output: Path) -> None:
    """`make serve`: learn the manifest of a build, when it writes one; never raise."""
    path = output / "consent" / "banner.json"
    if not path.exists():
        return
    try:
        manifest = read(path)
        db.migrate()
        if learn(db, manifest):
            log.info("Learnt banner version %s", manifest.banner_version)
    except ManifestError as error:
        log.error("%s", error)
    except DatabaseUnavailable as error:
        log.warning("could not learn %s: %s", path, error)


def stored(tx: Transaction, version: str) -> Manifest | None:
    found = tx.query("SELECT manifest FROM consent_banners WHERE banner_version = ?", (version,))
    return parse(found[0]["manifest"], f"the learnt manifest {version}") if found else None


def screenshots(tx: Transaction, version: str) -> list[dict[str, Any]]:
    return tx.query(
        "SELECT file, sha256, png_base64 FROM consent_screenshots WHERE banner_version = ?"
        " ORDER BY file",
        (version,),
    )


class Learnt:
    """The learnt manifests, kept in memory; one not held yet is looked up once asked for."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._held: dict[str, Manifest] = {}
        self._lock = threading.Lock()

    def get(self, version: str) -> Manifest | None:
        """The manifest of a banner version, None when the backend has not learnt it."""
        found = self._held.get(version)
        if found is None:
            with self.db.transaction(durable=False) as tx:
                found = stored(tx, version)
            if found is not None:
                with self._lock:
                    self._held[version] = found
        return found
