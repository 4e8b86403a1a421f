"""What the audit service erases for a privacy request: its entries' personal fields, the topic
facts of the reports (embeddings and content words), and the embedded bus's stored records when the bus is the embedded one (one file every service shares, so
one service, this one, scrubs it)."""

from __future__ import annotations

from vigie_shared.bus import Bus
from vigie_shared.bus.sqlite import SqliteBus
from vigie_shared.privacy import subject
from vigie_shared.retention import Cutoffs

from vigie_audit.adapters.facts import ReportFacts
from vigie_audit.adapters.store import AuditStore


class AuditEraser:
    def __init__(self, store: AuditStore, bus: Bus, facts: ReportFacts) -> None:
        self._store = store
        self._bus = bus
        self._facts = facts

    async def erase(self, platform: str, pseudonym: str) -> dict[str, int]:
        # The log first: it finds the person's comments (correlation ids) before the bus is scrubbed.
        erased = await self._store.erase_subject(platform, pseudonym)
        erased |= await self._facts.erase_subject(subject(platform, pseudonym))
        if isinstance(self._bus, SqliteBus):
            erased["bus_records"] = await self._bus.erase_subject(pseudonym)
        return erased

    async def purge(self, cutoffs: Cutoffs) -> dict[str, int]:
        """Retention: the log's personal fields, the topic facts, and the embedded bus's records,
        past their window."""
        purged = await self._store.purge_expired(cutoffs)
        purged |= await self._facts.purge_expired(cutoffs)
        if isinstance(self._bus, SqliteBus):
            purged["bus_records"] = await self._bus.purge_expired(cutoffs)
        return purged
