"""Bus port and adapters. `open_bus` picks the adapter from VIGIE_BUS_URL."""

from __future__ import annotations

from vigie_shared.bus.port import Bus, BusUnavailable, Consumer, Headers, Message, OutgoingRecord
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


def open_bus(
    url: str, *, client_id: str, topic_prefix: str = "", security: KafkaSecurity | None = None
) -> Bus:
    """`security` (TLS, SASL) applies to Kafka only; the embedded bus is a local file."""
    if url.startswith("kafka://"):
        from vigie_shared.bus.kafka import KafkaBus, bootstrap_from_url

        return KafkaBus(
            bootstrap_from_url(url),
            client_id=client_id,
            topic_prefix=topic_prefix,
            topics=(*ALL_TOPICS, DEADLETTER_TOPIC),
            client_options=security.client_options() if security is not None else None,
        )
    if url.startswith("sqlite:///"):
        from vigie_shared.bus.sqlite import SqliteBus, path_from_url

        return SqliteBus(path_from_url(url), topic_prefix=topic_prefix)
    raise ValueError(f"unsupported bus url {url!r}: use kafka://host:port or sqlite:///path")


__all__ = [
    "BatchHandler",
    "Bus",
    "BusUnavailable",
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
