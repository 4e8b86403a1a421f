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
from vigie_shared.events.v1 import ALL_TOPICS, DEADLETTER_TOPIC


def open_bus(url: str, *, client_id: str, topic_prefix: str = "") -> Bus:
    if url.startswith("kafka://"):
        from vigie_shared.bus.kafka import KafkaBus, bootstrap_from_url

        return KafkaBus(
            bootstrap_from_url(url),
            client_id=client_id,
            topic_prefix=topic_prefix,
            topics=(*ALL_TOPICS, DEADLETTER_TOPIC),
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
    "Message",
    "MessageHandler",
    "OutgoingRecord",
    "PoisonMessage",
    "decode",
    "open_bus",
]
