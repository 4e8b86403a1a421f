"""Publishing what connectors produce: skip re-deliveries, publish durably, then remember the key."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import structlog
from vigie_shared.bus import EventPublisher
from vigie_shared.privacy import pseudonymise

from vigie_ingest.domain.normalise import Pseudonymiser, correlation_id, event_id
from vigie_ingest.domain.outcome import Item
from vigie_ingest.domain.ports import IdempotencyStore, StoreUnavailable
from vigie_ingest.metrics import IngestMetrics

log = structlog.get_logger("vigie.ingest")


class NotConfigured(RuntimeError):
    """A setting ingest needs for this work is missing."""


@dataclass(frozen=True, slots=True)
class Published:
    published: int
    duplicates: int


class Ingest:
    """Shared by every webhook route and the YouTube poller; built once in the lifespan."""

    def __init__(
        self,
        *,
        publisher: EventPublisher,
        store: IdempotencyStore,
        metrics: IngestMetrics,
        pseudonym_key: bytes | None,
        ttl_seconds: float,
        namespace: str = "",
    ) -> None:
        self.publisher = publisher
        self.store = store
        self.metrics = metrics
        self._key = pseudonym_key
        self._ttl = ttl_seconds
        # Keys are scoped by the topic prefix: "already published" means to these topics.
        self._namespace = namespace

    @property
    def pseudonymise(self) -> Pseudonymiser:
        if self._key is None:
            raise NotConfigured("VIGIE_PSEUDONYM_KEY is not set")
        return partial(pseudonymise, self._key)

    async def publish(self, items: Sequence[Item], platform: str) -> Published:
        """Publishes each new item; raises BusUnavailable with nothing of the rest recorded.

        A key is recorded only after its event is acknowledged, so a delivery answered 503 half-way
        is retried by the platform and its unpublished comments still go out.
        """
        if not items:
            return Published(0, 0)
        now = time.time()
        try:
            done = await self.store.seen((self._namespace + item.key for item in items), now)
        except StoreUnavailable as error:
            # Better a duplicate (absorbed downstream by the event id) than a lost comment.
            self.metrics.state_errors.labels(operation="read").inc()
            log.warning("idempotency_read_failed", platform=platform, error=str(error))
            done = set()
        published = duplicates = 0
        try:
            for item in items:
                key = self._namespace + item.key
                if key in done:
                    duplicates += 1
                    continue
                comment = item.comment
                envelope = self.publisher.envelope(
                    comment, correlationid=correlation_id(comment), id=event_id(comment)
                )
                await self.publisher.publish(envelope)
                published += 1
                done.add(key)
                try:
                    await self.store.remember(key, now + self._ttl)
                except StoreUnavailable as error:
                    self.metrics.state_errors.labels(operation="write").inc()
                    log.warning("idempotency_write_failed", platform=platform, error=str(error))
        finally:
            # Counted even when the bus fails half-way: what was acknowledged is published.
            if published:
                self.metrics.accepted.labels(platform=platform).inc(published)
            if duplicates:
                self.metrics.duplicates.labels(platform=platform).inc(duplicates)
        return Published(published, duplicates)
