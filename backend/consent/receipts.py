"""Consent receipts: a visitor's choice, checked against its banner's manifest, stored once.

consent.js posts `{"cookie", "path", "gpc"}` after every choice (docs/consent-banner.md);
a receipt is the cookie's value with a `p` part naming the action, the page's language and
the banner version. Nothing of a refused receipt is stored or echoed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from typing import Literal

from backend.consent.manifests import Learnt, Manifest
from backend.storage import Transaction, at, now

BANNER = re.compile(r"_([0-9a-f]{12})\Z")  # where a receipt names its banner version
MAX_BODY = 2048
FUTURE_SECONDS = 86400  # a visitor's clock may run a day ahead
MAX_PATH = 512


@dataclass(frozen=True)
class Refused:
    status: int
    reason: str  # one of a few fixed words: never the input


@dataclass(frozen=True)
class Receipt:
    consent_id: str
    seq: int
    action: str
    analytics: str
    embeds: str
    revision: str
    banner: str
    lang: str
    path: str
    gpc: bool
    client_time: str
    time: int  # the client's Unix seconds
    cookie: str  # the value without the p part, for Set-Cookie
    manifest: Manifest

    def max_age(self, moment: float) -> int:
        """What is left of the cookie's lifetime, counted from the visitor's choice."""
        return max(0, min(self.manifest.max_age, self.manifest.max_age - int(moment - self.time)))

    def row(self) -> tuple:
        return (
            self.consent_id,
            self.seq,
            self.action,
            self.analytics,
            self.embeds,
            self.revision,
            self.banner,
            self.lang,
            self.path,
            int(self.gpc),
            self.client_time,
        )


def parse(body: bytes, learnt: Learnt, moment: float | None = None) -> Receipt | Refused:
    """A receipt from a request body, or why it is refused."""
    moment = time.time() if moment is None else moment
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Refused(400, "json")
    if not isinstance(data, dict) or set(data) != {"cookie", "path", "gpc"}:
        return Refused(400, "fields")
    cookie, path, gpc = data["cookie"], data["path"], data["gpc"]
    if not isinstance(cookie, str) or not isinstance(path, str) or not isinstance(gpc, bool):
        return Refused(400, "fields")
    if not path.startswith("/") or "?" in path or "#" in path or len(path) > MAX_PATH:
        return Refused(400, "path")
    named = BANNER.search(cookie)
    if named is None:
        return Refused(400, "cookie")
    manifest = learnt.get(named.group(1))
    if manifest is None:
        return Refused(422, "banner")
    match = manifest.pattern.fullmatch(cookie)
    if match is None or match["action"] is None:
        return Refused(400, "cookie")
    if match["revision"] != manifest.revision:
        return Refused(422, "revision")
    embeds = match["embeds"] or ""
    if match["lang"] not in manifest.languages:
        return Refused(400, "lang")
    if not set(embeds.split("+")) - {""} <= manifest.providers:
        return Refused(400, "embeds")
    chosen = int(match["time"])
    if not moment - manifest.max_age <= chosen <= moment + FUTURE_SECONDS:
        return Refused(400, "time")
    return Receipt(
        consent_id=match["id"],
        seq=int(match["seq"]),
        action=match["action"],
        analytics=match["analytics"],
        embeds=embeds,
        revision=match["revision"],
        banner=match["banner"],
        lang=match["lang"],
        path=path,
        gpc=gpc,
        client_time=at(dt.datetime.fromtimestamp(chosen, dt.UTC)),
        time=chosen,
        cookie=cookie[: match.start("action") - 2],  # without ".p<action>_<lang>_<banner>"
        manifest=manifest,
    )


COLUMNS = (
    "consent_id, seq, action, analytics, embeds, revision, banner, lang, path, gpc, client_time"
)
Stored = Literal["stored", "recorded", "order"]


def store(tx: Transaction, receipt: Receipt) -> Stored:
    """Add a receipt unless its ID has it ("recorded") or a later choice ("order")."""
    # One statement in the common case: the ID has no choice numbered this or higher.
    added = tx.execute(
        f"INSERT INTO consent_receipts ({COLUMNS}, received_at)"
        " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM"
        " consent_receipts WHERE consent_id = ? AND seq >= ?)"
        " ON CONFLICT (consent_id, seq) DO NOTHING",
        (*receipt.row(), now(), receipt.consent_id, receipt.seq),
    )
    if added:
        return "stored"
    same = tx.query(
        f"SELECT {COLUMNS} FROM consent_receipts WHERE consent_id = ? AND seq = ?",
        (receipt.consent_id, receipt.seq),
    )
    return "recorded" if same and tuple(same[0].values()) == receipt.row() else "order"


def store_all(tx: Transaction, batch: list[Receipt]) -> list[Stored]:
    """Add a batch of receipts; the outcome of each, as `store` one after another says it.

    The first receipt of each ID goes in one statement (a round trip for the lot); one
    refused there, and any later receipt of an ID in the batch, goes through `store`.
    """
    first: dict[str, int] = {}
    for index, receipt in enumerate(batch):
        first.setdefault(receipt.consent_id, index)
    together = [batch[index] for index in first.values()]
    added: set[str] = set()
    if together:
        received = now()
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(together))
        found = tx.query(
            f"INSERT INTO consent_receipts ({COLUMNS}, received_at)"
            f" SELECT * FROM (VALUES {values}) AS v WHERE NOT EXISTS (SELECT 1 FROM"
            " consent_receipts r WHERE r.consent_id = v.column1 AND r.seq >= v.column2)"
            " ON CONFLICT (consent_id, seq) DO NOTHING RETURNING consent_id",
            [value for receipt in together for value in (*receipt.row(), received)],
        )
        added = {row["consent_id"] for row in found}
    return [
        "stored"
        if first[receipt.consent_id] == index and receipt.consent_id in added
        else store(tx, receipt)
        for index, receipt in enumerate(batch)
    ]
