"""Bus port and adapters. `open_bus` picks the adapter from VIGIE_BUS_URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vigie_shared.bus.port import (
    Bus,
    BusUnavailable,
    CommitRefused,
    Consumer,
    Headers,
    Message,
    OutgoingRecord,
)
from vigie_shared.bus.publisher import EventPublisher
from vigie_shared.bus.runner import (
    BatchHandler,
    ConsumerLoop,
    MessageHandler,
    PoisonMessage,
    decode,
)
from vigie_shared.bus.security import KafkaSecurity
from vigie_shared.events.v1 import ALL_TOPICS, DEADLETTER_TOPIC

if TYPE_CHECKING:
    from vigie_shared.metrics import ServiceMetrics


@dataclass(frozen=True, slots=True)
class BusOptions:
    """Tuning that differs between a laptop and a cluster; the defaults suit one local broker."""

    # Kafka: topics are created with these (a cluster wants 3 and 2).
    partitions: int = 3
    replication_factor: int = 1
    min_insync_replicas: int = 1
    # Embedded bus: how long a consumer holds its group without renewing, how long consumed records stay.
    lease_seconds: float = 10.0
    retention_days: float = 7.0


def open_bus(
    url: str,
    *,
    client_id: str,
    topic_prefix: str = "",
    options: BusOptions | None = None,
    metrics: ServiceMetrics | None = None,
    security: KafkaSecurity | None = None,
) -> Bus:
    """`security` (TLS, SASL) applies to Kafka only; the embedded bus is a local file."""
    options = options or BusOptions()
    if url.startswith("kafka://"):
        from vigie_shared.bus.kafka import KafkaBus, bootstrap_from_url

        return KafkaBus(
            bootstrap_from_url(url),
            client_id=client_id,
            topic_prefix=topic_prefix,
            topics=(*ALL_TOPICS, DEADLETTER_TOPIC),
            partitions=options.partitions,
            replication_factor=options.replication_factor,
            min_insync_replicas=options.min_insync_replicas,
            metrics=metrics,
            client_options=security.client_options() if security is not None else None,
        )
    if url.startswith("sqlite:///"):
        from vigie_shared.bus.sqlite import SqliteBus, path_from_url

        return SqliteBus(
            path_from_url(url),
            topic_prefix=topic_prefix,
            lease_seconds=options.lease_seconds,
            retention_days=options.retention_days,
        )
    raise ValueError(f"unsupported bus url {url!r}: use kafka://host:port or sqlite:///path")


__all__ = [
    "BatchHandler",
    "Bus",
    "BusOptions",
    "BusUnavailable",
    "CommitRefused",
    "Consumer",
    "ConsumerLoop",
    "EventPublisher",
    "Headers",
    "KafkaSecurity",
    "Message",
    "MessageHandler",
    "OutgoingRecord",
    "PoisonMessage",
    "decode",
    "open_bus",
]
