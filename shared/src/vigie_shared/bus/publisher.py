"""Publishes enveloped events on the topic and key their type calls for."""

from __future__ import annotations

from vigie_shared.bus.port import Bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, Keyed
from vigie_shared.metrics import ServiceMetrics


class EventPublisher:
    def __init__(self, bus: Bus, *, source: str, metrics: ServiceMetrics | None = None) -> None:
        self._bus = bus
        self.source = source
        self._metrics = metrics

    def envelope(
        self, data: Keyed, *, correlationid: str, id: str | None = None
    ) -> Envelope[Keyed]:
        return Envelope[Keyed].wrap(data, source=self.source, correlationid=correlationid, id=id)

    async def publish(self, event: Envelope[Keyed]) -> None:
        topic = TOPICS[event.type]
        await self._bus.publish(topic, event.data.key(), event.body(), event.headers())
        if self._metrics is not None:
            self._metrics.published.labels(topic=topic).inc()
