"""Consumes every topic and appends each event to the chained log, once.

Reads of personal data (`personal_data.accessed`) go to the access log table instead.

Services' answers to erasure requests (`privacy.erasure` done) are also noted against their
request, so `GET /v1/privacy/requests/{id}` can say when every service has erased.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from vigie_shared.bus import Message, decode
from vigie_shared.events import Envelope, EventData
from vigie_shared.events.v1 import ErasureStatus, PersonalDataAccessed, PrivacyErasure

from vigie_audit.adapters.store import AccessRow, AuditStore, NewEntry

log = structlog.get_logger("vigie.audit")


def entry_for(message: Message, recorded_at: datetime) -> NewEntry:
    return _entry(decode(message), message, recorded_at)


def _entry(event: Envelope[EventData], message: Message, recorded_at: datetime) -> NewEntry:
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


def _access(event: Envelope[EventData]) -> AccessRow:
    data = event.data
    assert isinstance(data, PersonalDataAccessed)
    return AccessRow(
        event_id=event.id,
        at=data.at,
        service=data.service,
        principal=data.principal,
        route=data.route,
        purpose=data.purpose,
        subjects=list(data.subjects),
        records=data.records,
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
        decoded = [(decode(message), message) for message in messages]
        accesses = [event for event, _ in decoded if isinstance(event.data, PersonalDataAccessed)]
        events = [
            (event, message) for event, message in decoded if not isinstance(event.data, PersonalDataAccessed)
        ]
        await self._store.record_access(*(_access(event) for event in accesses))
        entries = [_entry(event, message, now) for event, message in events]
        appended = await self._store.append(*entries)
        if appended < len(entries):
            log.info("audit_duplicates_skipped", count=len(entries) - appended)
        for event, _ in events:
            data = event.data
            if isinstance(data, PrivacyErasure) and data.status == ErasureStatus.DONE and data.service:
                await self._store.record_answer(data.request_id, data.service, dict(data.erased), data.at)
