"""Consumer lag: how far each group's committed position is behind the end of each partition.

Read from outside the consumers, the way an operator would: on Kafka from the broker (the group's
committed offsets against the partitions' end offsets), on the embedded bus from its offsets table.
A group that has committed nothing yet counts from the start of the log, where it will begin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from vigie_shared.bus.port import BusUnavailable


@dataclass(frozen=True, slots=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(0, self.end - self.committed)


class LagReader(Protocol):
    async def lag(self, group: str, topics: Sequence[str]) -> list[PartitionLag]:
        """One entry per partition of each topic (unprefixed names); raises BusUnavailable."""
        ...

    async def close(self) -> None: ...


class SqliteLagReader:
    """Records a group has not committed yet, per topic; the embedded log has one partition a topic.

    Sequence numbers are shared by all topics, so lag is a count of records, not a difference.
    """

    def __init__(self, path: Path, *, topic_prefix: str = "") -> None:
        self._path = path
        self._prefix = topic_prefix
        self._db: aiosqlite.Connection | None = None

    async def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            if not self._path.exists():
                raise BusUnavailable(f"embedded bus file missing: {self._path}")
            # Plain SELECTs: sampling never takes the write lock the publishers queue on.
            self._db = await aiosqlite.connect(self._path, timeout=5)
        return self._db

    async def lag(self, group: str, topics: Sequence[str]) -> list[PartitionLag]:
        try:
            db = await self._connection()
            out = []
            for topic in topics:
                name = self._prefix + topic
                rows = await db.execute_fetchall(
                    "SELECT COALESCE((SELECT position FROM offsets WHERE grp = ? AND topic = ?), 0)",
                    (group, name),
                )
                position = int(next(iter(rows))[0])
                rows = await db.execute_fetchall(
                    "SELECT COUNT(*) FROM records WHERE topic = ? AND seq > ?", (name, position)
                )
                behind = next(iter(rows))[0]
                out.append(PartitionLag(group, topic, 0, position, position + int(behind)))
            return out
        except aiosqlite.Error as error:
            raise BusUnavailable(f"embedded bus offsets unreadable: {error}") from error

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None


class KafkaLagReader:
    """Committed offsets from the group coordinator, end offsets from the partition leaders.

    End offsets are read at read_committed isolation, like the consumers read: an open or aborted
    transaction's records are not lag a consumer could ever work off.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str,
        topic_prefix: str = "",
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = f"{client_id}-lag"
        self._prefix = topic_prefix
        self._options = dict(client_options or {})
        self._admin: Any = None
        self._offsets: Any = None

    async def _clients(self) -> tuple[Any, Any]:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.admin import AIOKafkaAdminClient

        if self._admin is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap, client_id=self._client_id, **self._options
            )
            await admin.start()
            self._admin = admin
        if self._offsets is None:
            # No group: this consumer only asks for offsets and never joins or commits anything.
            offsets = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                enable_auto_commit=False,
                isolation_level="read_committed",
                **self._options,
            )
            await offsets.start()
            self._offsets = offsets
        return self._admin, self._offsets

    async def lag(self, group: str, topics: Sequence[str]) -> list[PartitionLag]:
        from aiokafka import TopicPartition
        from aiokafka.errors import KafkaError

        try:
            admin, offsets = await self._clients()
            names = {self._prefix + t: t for t in topics}
            described = await admin.describe_topics(list(names))
            # A topic not created yet (error code set, no partitions) has no lag to report.
            partitions = [
                TopicPartition(topic["topic"], p["partition"])
                for topic in described
                if topic["topic"] in names
                for p in sorted(topic.get("partitions") or (), key=lambda p: p["partition"])
            ]
            if not partitions:
                return []
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            ends = await offsets.end_offsets(partitions)
            starts = await offsets.beginning_offsets(partitions)
        except KafkaError as error:
            raise BusUnavailable(f"kafka offsets unavailable: {error!r}") from error
        out = []
        for tp in partitions:
            meta = committed.get(tp)
            position = meta.offset if meta is not None and meta.offset >= 0 else starts[tp]
            out.append(PartitionLag(group, names[tp.topic], tp.partition, position, ends[tp]))
        return out

    async def close(self) -> None:
        if self._offsets is not None:
            await self._offsets.stop()
            self._offsets = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None


def open_lag_reader(
    url: str,
    *,
    client_id: str,
    topic_prefix: str = "",
    client_options: dict[str, Any] | None = None,
) -> LagReader:
    """The reader for the bus at `url`; `client_options` carry Kafka's security settings."""
    if url.startswith("kafka://"):
        from vigie_shared.bus.kafka import bootstrap_from_url

        return KafkaLagReader(
            bootstrap_from_url(url),
            client_id=client_id,
            topic_prefix=topic_prefix,
            client_options=client_options,
        )
    if url.startswith("sqlite:///"):
        from vigie_shared.bus.sqlite import path_from_url

        return SqliteLagReader(path_from_url(url), topic_prefix=topic_prefix)
    raise ValueError(f"unsupported bus url {url!r}")
