"""Consumes every topic and appends each event to the chained log, once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from vigie_shared.bus import Message, decode

from vigie_audit.adapters.store import AuditStore, NewEntry

log = structlog.get_logger("vigie.audit")


def entry_for(message: Message, recorded_at: datetime) -> NewEntry:
    event = decode(message)
    body = event.data.model_dump(mode="json")
    comment = body.get("comment") or {}
    return NewEntry(
        event_id=event.id,
        event_type=event.type,
        topic=message.topic,
        record_key=message.key,
        source=event.source,
        time=event.time.isoformat(),
        correlation_id=event.correlationid,
        community=comment.get("community"),
        body=body,
        recorded_at=recorded_at,
    )


class AuditHandler:
    def __init__(self, store: AuditStore) -> None:
        self._store = store

    async def handle(self, message: Message) -> None:
        await self.handle_batch([message])

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        """One transaction per batch; a record that does not decode fails the batch, which the
        consumer loop then replays one by one so only that record is dead-lettered."""
        now = datetime.now(UTC)
        entries = [entry_for(message, now) for message in messages]
        appended = await self._store.append(*entries)
        if appended < len(entries):
            log.info("audit_duplicates_skipped", count=len(entries) - appended)
