"""Consumes every topic and appends each event to the chained log, once."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from vigie_shared.bus import Message, decode

from vigie_audit.adapters.store import AuditStore

log = structlog.get_logger("vigie.audit")


class AuditHandler:
    def __init__(self, store: AuditStore) -> None:
        self._store = store

    async def handle(self, message: Message) -> None:
        event = decode(message)
        body = event.data.model_dump(mode="json")
        comment = body.get("comment") or {}
        appended = await self._store.append(
            event_id=event.id,
            event_type=event.type,
            topic=message.topic,
            record_key=message.key,
            source=event.source,
            time=event.time.isoformat(),
            correlation_id=event.correlationid,
            community=comment.get("community"),
            body=body,
            recorded_at=datetime.now(UTC),
        )
        if not appended:
            log.info("audit_duplicate_skipped", event_type=event.type)
