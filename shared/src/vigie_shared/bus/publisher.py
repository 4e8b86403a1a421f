"""Publishes enveloped events on the topic and key their type calls for."""

from __future__ import annotations

from collections.abc import Sequence

from vigie_shared.bus.port import Bus, OutgoingRecord
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, Keyed
from vigie_shared.metrics import ServiceMetrics


class EventPublisher:
    def __init__(self, bus: Bus, *, source: str, metrics: ServiceMetrics | None = None) -> None:
        self._bus = bus
        self.source = source
        self._metrics = metrics

    def envelope(self, data: Keyed, *, correlationid: str, id: str | None = None) -> Envelope[Keyed]:
        return Envelope[Keyed].wrap(data, source=self.source, correlationid=correlationid, id=id)

    async def publish(self, event: Envelope[Keyed]) -> None:
        topic = TOPICS[event.type]
        await self._bus.publish(topic, event.data.key(), event.body(), event.headers())
        if self._metrics is not None:
            self._metrics.published.labels(topic=topic).inc()

    async def publish_all(self, events: Sequence[Envelope[Keyed]]) -> None:
        """Several events in one durable write, in order."""
        records = [OutgoingRecord(TOPICS[e.type], e.data.key(), e.body(), e.headers()) for e in events]
        await self._bus.publish_many(records)
        if self._metrics is not None:
            for record in records:
                self._metrics.published.labels(topic=record.topic).inc()
