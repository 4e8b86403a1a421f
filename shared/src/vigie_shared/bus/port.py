"""The bus port: what services need from a log-based message bus, whatever carries it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vigie_shared.errors import DependencyUnavailable


class BusUnavailable(DependencyUnavailable):
    """The bus could not durably accept or serve records right now; the caller should retry later."""

    def __init__(self, message: str) -> None:
        super().__init__(message, dependency="bus")


# An adapter sets it on a record whose key or headers it could not decode (the value says which):
# the consumer loop dead-letters such a record without handing it to a handler.
UNDECODABLE_HEADER = "vigie_undecodable"


class CommitRefused(RuntimeError):
    """This member no longer owns the records it handled (lease lost, group rebalanced): the offsets
    were not moved, and whoever owns them now redelivers them. The caller must not handle them again.
    """


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    key: str | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    partition: int = 0
    offset: int = 0


Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    topic: str
    key: str | None
    value: bytes
    headers: Headers = ()


class Consumer(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def fetch(self, max_records: int, timeout: float) -> list[Message]:
        """Next records in order per key; an empty list when none arrived within the timeout."""
        ...

    async def commit(self, messages: Sequence[Message]) -> None:
        """Marks every record up to and including these as done for the group; raises CommitRefused
        when this member lost them to another."""
        ...


class Bus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, topic: str, key: str | None, value: bytes, headers: Headers) -> None:
        """Returns only once the record is durable; raises BusUnavailable otherwise."""
        ...

    async def publish_many(self, records: Sequence[OutgoingRecord]) -> None:
        """All durable when it returns, each key's records in the given order; raises BusUnavailable otherwise."""
        ...

    def consumer(self, group: str, topics: Sequence[str]) -> Consumer: ...

    async def check(self) -> str | None:
        """None when the bus answers, else a short reason for /readyz."""
        ...
