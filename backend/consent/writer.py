"""Receipts written in batches: every receipt waiting while one commit runs shares the next.

Each receipt must be on disk before it is acknowledged, and a durable commit costs a
disk flush; receipts come in bursts (every visitor's first choice). So one writer per
process takes all receipts that arrived while its last commit ran and stores them in one
transaction: one flush for the lot, and each request still waits only for its own
commit (group commit).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from backend import guard
from backend.consent import receipts
from backend.consent.manifests import Learnt
from backend.settings import Settings
from backend.storage import Database

Outcome = receipts.Receipt | receipts.Refused
BATCH = 500  # receipts in one statement at most (13 values each; SQLite takes 32,766)


@dataclass
class Waiting:
    client: str  # the keyed hash of the client's address
    body: bytes
    answer: asyncio.Future


class ReceiptWriter:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.learnt = Learnt(db)
        self._waiting: list[Waiting] = []
        self._writing = False
        self._task: asyncio.Task | None = None  # held, so the loop does not drop it

    async def record(self, client: str, body: bytes) -> Outcome:
        """Check, count and store one receipt; the stored receipt, or why it was refused.

        Raises DatabaseUnavailable when its batch could not be written (nothing was).
        """
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append(Waiting(client, body, answer))
        if not self._writing:
            self._writing = True
            self._task = asyncio.create_task(self._write_all())
        return await answer

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:BATCH]
                self._waiting = self._waiting[BATCH:]
                try:
                    outcomes = await run_in_threadpool(self.write, batch)
                except Exception as error:  # the batch's requests answer it (503 or 500)
                    for waiting in batch:
                        if not waiting.answer.done():  # its client may have gone
                            waiting.answer.set_exception(error)
                    continue
                for waiting, outcome in zip(batch, outcomes, strict=True):
                    if not waiting.answer.done():  # its client may have gone: stored anyway
                        waiting.answer.set_result(outcome)
        finally:
            self._writing = False

    def write(self, batch: list[Waiting]) -> list[Outcome]:
        """One transaction: each receipt counted for its client, then stored or refused."""
        settings = self.settings
        parsed = [receipts.parse(waiting.body, self.learnt) for waiting in batch]
        outcomes: list[Outcome] = []
        with self.db.transaction() as tx:
            # One count per client for the batch; its receipts over the limit are refused.
            mine = Counter(waiting.client for waiting in batch)
            before = {
                client: guard.count_hits(
                    tx, f"consent.{client}", hits, settings.rate_window_seconds
                )
                - hits
                for client, hits in mine.items()
            }
            for waiting, outcome in zip(batch, parsed, strict=True):
                before[waiting.client] += 1
                if before[waiting.client] > settings.consent_rate_limit:
                    outcome = receipts.Refused(429, "rate_limit")
                outcomes.append(outcome)
            valid = [o for o in outcomes if isinstance(o, receipts.Receipt)]
            stored = iter(receipts.store_all(tx, valid))
            for index, outcome in enumerate(outcomes):
                if isinstance(outcome, receipts.Receipt):
                    kept = next(stored)
                    if kept != "stored":
                        outcomes[index] = receipts.Refused(409, kept)
            for outcome in outcomes:
                if isinstance(outcome, receipts.Refused):
                    guard.count_refusal(tx, "consent", outcome.reason, logged=False)
        return outcomes
