"""Publishing what connectors produce: skip re-deliveries, publish durably, then remember the key."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import partial

import structlog
from vigie_platforms.inbound.normalise import Pseudonymiser, correlation_id, event_id
from vigie_platforms.inbound.outcome import Item
from vigie_shared.bus import EventPublisher
from vigie_shared.coalesce import Coalescer
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import CommentReceived, Keyed
from vigie_shared.privacy import pseudonymise

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
        display_name_communities: Collection[str] | None = None,
    ) -> None:
        self.publisher = publisher
        self.store = store
        self.metrics = metrics
        self._key = pseudonym_key
        self._ttl = ttl_seconds
        # Keys are scoped by the topic prefix: "already published" means to these topics.
        self._namespace = namespace
        # Display names leave ingest only for these communities ("*": all). None keeps every name,
        # for callers not yet wired to VIGIE_DISPLAY_NAME_COMMUNITIES.
        self._names = None if display_name_communities is None else frozenset(display_name_communities)
        # Group commit: deliveries arriving while a write is in flight share the next one.
        self._writes: Coalescer[list[Envelope[Keyed]], None] = Coalescer(
            self._write, name="ingest-group-commit"
        )

    @property
    def pseudonymise(self) -> Pseudonymiser:
        if self._key is None:
            raise NotConfigured("VIGIE_PSEUDONYM_KEY is not set")
        return partial(pseudonymise, self._key)

    async def publish(self, items: Sequence[Item], platform: str) -> Published:
        """Publishes each new item; raises BusUnavailable with none of its keys recorded.

        A key is recorded only after its event is acknowledged, so a delivery answered 503 is
        retried by the platform and its comments still go out.
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
        fresh: list[str] = []
        events: list[Envelope[Keyed]] = []
        duplicates = 0
        for item in items:
            key = self._namespace + item.key
            if key in done:
                duplicates += 1
                continue
            done.add(key)  # the same comment twice in one delivery goes out once
            comment = self._without_unwanted_name(item.comment)
            fresh.append(key)
            events.append(
                self.publisher.envelope(comment, correlationid=correlation_id(comment), id=event_id(comment))
            )
        if duplicates:
            self.metrics.duplicates.labels(platform=platform).inc(duplicates)
        if events:
            await self._commit(events)
            self.metrics.accepted.labels(platform=platform).inc(len(events))
            for key in fresh:
                try:
                    await self.store.remember(key, now + self._ttl)
                except StoreUnavailable as error:
                    self.metrics.state_errors.labels(operation="write").inc()
                    log.warning("idempotency_write_failed", platform=platform, error=str(error))
        return Published(len(events), duplicates)

    def _without_unwanted_name(self, comment: CommentReceived) -> CommentReceived:
        names = self._names
        if names is None or comment.author.display_name is None:
            return comment
        if "*" in names or comment.comment.community in names:
            return comment
        author = comment.author.model_copy(update={"display_name": None})
        return comment.model_copy(update={"author": author})

    async def _commit(self, events: list[Envelope[Keyed]]) -> None:
        """One durable write per batch of deliveries instead of one per webhook; each delivery's
        events stay together and in order. If the write fails, every delivery in the batch gets
        the error, so each is answered 503 and retried by its platform."""
        await self._writes.submit(events)

    async def _write(self, deliveries: Sequence[list[Envelope[Keyed]]]) -> None:
        await self.publisher.publish_all([event for events in deliveries for event in events])
