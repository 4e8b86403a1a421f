"""The embedded bus: a durable log in one SQLite file that several processes can share.

Each topic is one ordered log (a single partition), so every key stays in order. A consumer group
keeps one committed position per topic; a lease makes one process the active consumer of a group at
a time, the way a partition has one owner in a Kafka group.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite

from vigie_shared.bus.port import BusUnavailable, CommitRefused, Headers, Message, OutgoingRecord
from vigie_shared.coalesce import Coalescer
from vigie_shared.events.v1 import DEADLETTER_TOPIC

if TYPE_CHECKING:
    from vigie_shared.retention import Cutoffs

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT,
    value BLOB NOT NULL,
    headers TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_topic_seq ON records (topic, seq);
CREATE TABLE IF NOT EXISTS offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (grp, topic)
);
CREATE TABLE IF NOT EXISTS leases (
    grp TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
);
"""


_Row = tuple[str, str | None, bytes, str, float]


def path_from_url(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not an embedded bus url: {url!r} (expected sqlite:///path)")
    return Path(url.removeprefix("sqlite:///"))


async def _open(path: Path, attempts: int = 50) -> aiosqlite.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, timeout=30, isolation_level=None)
    await db.execute("PRAGMA busy_timeout=30000")
    for attempt in range(attempts):
        try:
            # Switching a new file to WAL answers "locked" at once, without the busy handler, while
            # another process (make run starts four) is doing the same: retry instead of failing.
            await db.execute("PRAGMA journal_mode=WAL")
            break
        except aiosqlite.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                await db.close()
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    # FULL: a publish that returned survives a power cut, which is the promise ingest makes.
    await db.execute("PRAGMA synchronous=FULL")
    return db


class SqliteBus:
    def __init__(
        self,
        path: Path,
        *,
        topic_prefix: str = "",
        poll_interval: float = 0.05,
        lease_seconds: float = 10.0,
        retention_days: float = 7.0,
    ) -> None:
        self._path = path
        self._prefix = topic_prefix
        self._poll_interval = poll_interval
        self._lease_seconds = lease_seconds
        self._retention_days = retention_days
        self._db: aiosqlite.Connection | None = None
        self._writes: Coalescer[list[_Row], None] = Coalescer(self._write, name="embedded-bus-writes")

    async def start(self) -> None:
        self._db = await _open(self._path)
        await self._db.executescript(_SCHEMA)

    async def close(self) -> None:
        await self._writes.wait_idle()
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def publish(self, topic: str, key: str | None, value: bytes, headers: Headers) -> None:
        await self.publish_many([OutgoingRecord(topic, key, value, headers)])

    async def publish_many(self, records: Sequence[OutgoingRecord]) -> None:
        if self._db is None:
            raise BusUnavailable("embedded bus is not started")
        if not records:
            return
        now = time.time()
        rows = [
            (self._prefix + r.topic, r.key, r.value, json.dumps({n: v.decode() for n, v in r.headers}), now)
            for r in records
        ]
        await self._writes.submit(rows)

    async def _write(self, batches: Sequence[list[_Row]]) -> None:
        """Group commit: one transaction, so one fsync (synchronous=FULL), for every publisher that
        queued while the previous one was syncing; each still returns only once its rows are durable.
        """
        assert self._db is not None
        rows = [row for batch in batches for row in batch]
        try:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                await self._db.executemany(
                    "INSERT INTO records (topic, key, value, headers, created) VALUES (?, ?, ?, ?, ?)", rows
                )
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")
        except aiosqlite.Error as error:
            raise BusUnavailable(f"embedded bus write failed: {error}") from error

    async def erase_subject(self, pseudonym: str) -> int:
        """Overwrites one person's personal fields in every stored record of this file; returns how many.

        A record is theirs when its body names the pseudonym, or when it belongs to the same
        comment (correlation id) as one that does: drafts and reviews do not repeat the author.
        The old bytes are zeroed (secure_delete) and the WAL is truncated, so nothing of the
        original text is left in either file. Runs on its own connection, beside the publishers.
        """
        from vigie_shared.privacy import scrub_personal

        db = await _open(self._path)
        try:
            await db.executescript(_SCHEMA)
            await db.execute("PRAGMA secure_delete=ON")
            await db.execute("BEGIN IMMEDIATE")
            try:
                changed = await self._scrub(db, pseudonym, scrub_personal)
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")
            for attempt in range(50):
                # Busy while another process reads; its snapshot may still need the old frames.
                [(busy, *_)] = await db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
                if int(busy) == 0:
                    break
                await asyncio.sleep(0.02 * (attempt + 1))
            else:
                from vigie_shared.wipe import WipeIncomplete

                raise WipeIncomplete("embedded bus WAL could not be truncated: readers kept it busy")
        finally:
            await db.close()
        return changed

    async def purge_expired(self, cutoffs: Cutoffs, *, chunk: int = 500) -> int:
        """Overwrites the personal fields of records older than their community's retention."""
        from vigie_shared.privacy import scrub_personal

        instants = [*cutoffs.by_community.values(), *([cutoffs.default] if cutoffs.default else [])]
        if not instants:
            return 0
        latest = max(instants).timestamp()
        db = await _open(self._path)
        changed = 0
        try:
            await db.executescript(_SCHEMA)
            await db.execute("PRAGMA secure_delete=ON")
            after = 0
            while True:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT seq, value, created FROM records WHERE seq > ? AND created < ? ORDER BY seq LIMIT ?",
                        (after, latest, chunk),
                    )
                )
                if not rows:
                    break
                after = int(rows[-1][0])
                updates: list[tuple[bytes, int]] = []
                for seq, value, created in rows:
                    try:
                        body = json.loads(value)
                    except ValueError:
                        continue
                    if not isinstance(body, dict):
                        continue
                    comment = body.get("comment")
                    community = comment.get("community") if isinstance(comment, dict) else None
                    at = datetime.fromtimestamp(float(created), UTC)
                    if not cutoffs.is_expired(community if isinstance(community, str) else None, at):
                        continue
                    scrubbed, _ = scrub_personal(body)
                    if scrubbed != body:
                        updates.append((json.dumps(scrubbed, ensure_ascii=False).encode(), int(seq)))
                if updates:
                    await db.execute("BEGIN IMMEDIATE")
                    await db.executemany("UPDATE records SET value = ? WHERE seq = ?", updates)
                    await db.execute("COMMIT")
                    changed += len(updates)
            if changed:
                await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await db.close()
        return changed

    @staticmethod
    async def _scrub(
        db: aiosqlite.Connection,
        pseudonym: str,
        scrub: Callable[[dict[str, Any]], tuple[dict[str, Any], int]],
    ) -> int:
        needle = f'%"{pseudonym}"%'
        rows = await db.execute_fetchall(
            "SELECT DISTINCT json_extract(headers, '$.ce_correlationid') FROM records "
            "WHERE CAST(value AS TEXT) LIKE ?",
            (needle,),
        )
        correlations = [str(row[0]) for row in rows if row[0] is not None]
        candidates: list[tuple[int, bytes, str]] = []
        for start in range(0, len(correlations), 500):
            chunk = correlations[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found = await db.execute_fetchall(
                f"SELECT seq, value, headers FROM records "  # noqa: S608 - placeholders only
                f"WHERE json_extract(headers, '$.ce_correlationid') IN ({marks})",
                chunk,
            )
            candidates += [(int(seq), bytes(value), str(headers)) for seq, value, headers in found]
        found = await db.execute_fetchall(
            "SELECT seq, value, headers FROM records WHERE CAST(value AS TEXT) LIKE ?", (needle,)
        )
        candidates += [(int(seq), bytes(value), str(headers)) for seq, value, headers in found]
        changed = 0
        for seq, value, headers in {seq: (seq, v, h) for seq, v, h in candidates}.values():
            try:
                body = json.loads(value)
            except ValueError:
                continue
            if not isinstance(body, dict):
                continue
            scrubbed, fields = scrub(body)
            header_map = json.loads(headers)
            # A dead letter's error may quote the invalid input: it goes with the fields.
            dropped = header_map.pop("vigie_error", None) is not None
            if not fields and not dropped:
                continue
            await db.execute(
                "UPDATE records SET value = ?, headers = ? WHERE seq = ?",
                (json.dumps(scrubbed, ensure_ascii=False).encode(), json.dumps(header_map), seq),
            )
            changed += 1
        return changed

    def consumer(self, group: str, topics: Sequence[str]) -> SqliteConsumer:
        consumer = SqliteConsumer(
            self._path, group, [self._prefix + t for t in topics], self._prefix, self._poll_interval
        )
        consumer.lease_seconds = self._lease_seconds
        consumer.retention_days = self._retention_days
        return consumer

    async def check(self) -> str | None:
        if self._db is None:
            return "embedded bus is not started"
        try:
            await self._db.execute("SELECT 1")
        except aiosqlite.Error as error:
            return f"embedded bus unreadable: {error}"
        return None


class SqliteConsumer:
    lease_seconds = 10.0
    retention_days = 7.0
    # How often a consumer looks for consumed records past retention (seconds).
    prune_interval = 60.0

    def __init__(self, path: Path, group: str, topics: list[str], prefix: str, poll_interval: float) -> None:
        self._path = path
        self._group = group
        self._topics = topics
        self._prefix = prefix
        self._poll_interval = poll_interval
        self._owner = uuid.uuid4().hex
        self._db: aiosqlite.Connection | None = None
        self._positions: dict[str, int] = {}
        self._holds_lease = False
        # One statement or transaction at a time on the connection: the renewal runs beside the handler.
        self._lock = asyncio.Lock()
        self._renewal: asyncio.Task[None] | None = None
        self._last_prune = 0.0

    async def start(self) -> None:
        self._db = await _open(self._path)
        await self._db.executescript(_SCHEMA)

    async def stop(self) -> None:
        await self._stop_renewal()
        if self._db is None:
            return
        await self._db.execute("DELETE FROM leases WHERE grp = ? AND owner = ?", (self._group, self._owner))
        await self._db.close()
        self._db = None

    async def _take_lease(self) -> bool:
        assert self._db is not None
        now = time.time()
        cursor = await self._db.execute(
            "INSERT INTO leases (grp, owner, expires) VALUES (?, ?, ?) "
            "ON CONFLICT (grp) DO UPDATE SET owner = excluded.owner, expires = excluded.expires "
            "WHERE leases.owner = excluded.owner OR leases.expires < ?",
            (self._group, self._owner, now + self.lease_seconds, now),
        )
        held = cursor.rowcount == 1
        if held and not self._holds_lease:
            # A new owner starts from what the group committed, not from what it had read.
            await self._load_positions()
        self._holds_lease = held
        return held

    async def _load_positions(self) -> None:
        assert self._db is not None
        marks = ",".join("?" * len(self._topics))
        rows = await self._db.execute_fetchall(
            f"SELECT topic, position FROM offsets WHERE grp = ? AND topic IN ({marks})",  # noqa: S608
            (self._group, *self._topics),
        )
        committed: dict[str, int] = {str(topic): int(position) for topic, position in rows}
        self._positions = {topic: committed.get(topic, 0) for topic in self._topics}

    async def fetch(self, max_records: int, timeout: float) -> list[Message]:
        if self._db is None:
            raise BusUnavailable("consumer is not started")
        deadline = time.monotonic() + timeout
        while True:
            async with self._lock:
                held = await self._take_lease()
                batch = await self._read(max_records) if held else []
            if batch:
                self._start_renewal()
                return batch
            if time.monotonic() >= deadline:
                return []
            await asyncio.sleep(min(self._poll_interval, max(0.0, deadline - time.monotonic())))

    async def _read(self, max_records: int) -> list[Message]:
        assert self._db is not None
        clauses = " OR ".join("(topic = ? AND seq > ?)" for _ in self._topics)
        params: list[object] = []
        for topic in self._topics:
            params += [topic, self._positions[topic]]
        rows = await self._db.execute_fetchall(
            f"SELECT seq, topic, key, value, headers FROM records WHERE {clauses} "  # noqa: S608
            "ORDER BY seq LIMIT ?",
            (*params, max_records),
        )
        messages = []
        for seq, topic, key, value, headers in rows:
            self._positions[topic] = seq
            messages.append(
                Message(
                    topic=topic.removeprefix(self._prefix),
                    key=key,
                    value=bytes(value),
                    headers=json.loads(headers),
                    partition=0,
                    offset=seq,
                )
            )
        return messages

    async def commit(self, messages: Sequence[Message]) -> None:
        if self._db is None or not messages:
            return
        await self._stop_renewal()
        last: dict[str, int] = {}
        for message in messages:
            topic = self._prefix + message.topic
            last[topic] = max(last.get(topic, 0), message.offset)
        await self._commit_fenced(last)
        await self._prune_if_due()

    # The lease while a batch is out: renewed, and checked by the commit

    def _start_renewal(self) -> None:
        if self._renewal is None or self._renewal.done():
            self._renewal = asyncio.create_task(self._renew_until_cancelled(), name=f"lease:{self._group}")

    async def _stop_renewal(self) -> None:
        if self._renewal is not None:
            self._renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewal
            self._renewal = None

    async def _renew_until_cancelled(self) -> None:
        """Keeps the lease of a member whose handler takes longer than the lease; stops once lost.

        A process that is frozen (or whose event loop is blocked) cannot renew: its lease runs out,
        another member takes the group, and this one's commit is refused below.
        """
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                if not await self._renew_lease():
                    return
            except aiosqlite.Error:
                continue  # a busy file: the next round tries again, the commit has the last word

    async def _renew_lease(self) -> bool:
        assert self._db is not None
        async with self._lock:
            cursor = await self._db.execute(
                "UPDATE leases SET expires = ? WHERE grp = ? AND owner = ?",
                (time.time() + self.lease_seconds, self._group, self._owner),
            )
        if cursor.rowcount != 1:
            self._holds_lease = False
            return False
        return True

    async def _commit_fenced(self, last: dict[str, int]) -> None:
        """Moves the group's positions only while this member still owns the group, in one transaction."""
        assert self._db is not None
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = await self._db.execute_fetchall(
                    "SELECT owner FROM leases WHERE grp = ?", (self._group,)
                )
                owner = next((str(row[0]) for row in rows), None)
                if owner != self._owner:
                    # The next fetch starts again from what the group committed, if it gets the lease.
                    self._holds_lease = False
                    raise CommitRefused(f"group {self._group!r} is held by another member now")
                await self._db.executemany(
                    "INSERT INTO offsets (grp, topic, position) VALUES (?, ?, ?) "
                    "ON CONFLICT (grp, topic) DO UPDATE SET position = MAX(position, excluded.position)",
                    [(self._group, topic, position) for topic, position in last.items()],
                )
                await self._db.execute(
                    "UPDATE leases SET expires = ? WHERE grp = ? AND owner = ?",
                    (time.time() + self.lease_seconds, self._group, self._owner),
                )
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    # Retention

    async def _prune_if_due(self) -> None:
        now = time.time()
        if now - self._last_prune < self.prune_interval:
            return
        self._last_prune = now
        # Retention is housekeeping: a busy file leaves it to the next round.
        with contextlib.suppress(aiosqlite.Error):
            await self.prune_consumed(now - self.retention_days * 86_400)

    async def prune_consumed(self, older_than: float) -> int:
        """Deletes records created before `older_than` (epoch seconds) that every group known to
        have read their topic has committed. A topic no group committed keeps everything, and the
        dead letters are kept whoever read them: they are what an operator replays after a fix.
        """
        assert self._db is not None
        keep = self._prefix + DEADLETTER_TOPIC
        async with self._lock:
            floors = await self._db.execute_fetchall(
                "SELECT topic, MIN(position) FROM offsets GROUP BY topic"
            )
            deleted = 0
            for topic, floor in floors:
                if topic == keep:
                    continue
                cursor = await self._db.execute(
                    "DELETE FROM records WHERE topic = ? AND seq <= ? AND created < ?",
                    (topic, floor, older_than),
                )
                deleted += max(cursor.rowcount, 0)
        return deleted
