"""The append-only audit log, idempotent on the event id, with personal fields kept apart.

`audit_events` holds every column the chain covers; `audit_personal` holds, per entry, the
personal fields (with the random salt of their digest) and who they are about. Erasure and
retention delete rows of `audit_personal` only, so `verify` still passes afterwards.

Writers are serialised by a row lock on `audit_writer`, taken first in every append: PostgreSQL
queues the second writer on the row, SQLite on its database write lock (the UPDATE makes the
transaction a writer before it reads the tail), so two processes never chain onto the same head.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from vigie_shared.db import SqlStore, UtcDateTime
from vigie_shared.privacy import merge_personal, split_personal, subject
from vigie_shared.redact import redact_text
from vigie_shared.retention import Cutoffs
from vigie_shared.wipe import truncate_wal, zero_on_delete

from vigie_audit.domain.chain import GENESIS, ChainedEntry, ChainKey, Personal, Record, chain_entry


class Base(DeclarativeBase):
    pass


class AuditRow(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    topic: Mapped[str] = mapped_column(String(128))
    # Unbounded: a platform:community:thread key may reach about 1,060 characters.
    record_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(128))
    time: Mapped[str] = mapped_column(String(40))
    correlation_id: Mapped[str] = mapped_column(String(64), index=True)
    community: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    personal_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PersonalRow(Base):
    __tablename__ = "audit_personal"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("audit_events.seq"), primary_key=True
    )
    subject: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    correlation_id: Mapped[str] = mapped_column(String(64), index=True)
    community: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)


class WriterRow(Base):
    """One row whose lock every append takes first: the chain has one writer at a time."""

    __tablename__ = "audit_writer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    appends: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class PrivacyRequestRow(Base):
    __tablename__ = "privacy_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expected: Mapped[list[str]] = mapped_column(JSON)


class PrivacyAnswerRow(Base):
    __tablename__ = "privacy_answers"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased: Mapped[dict[str, int]] = mapped_column(JSON)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AccessRow(Base):
    """Who read whose personal data through an API (`personal_data.accessed` events from every service).

    Kept beside the chain rather than in it: reading the log must not lengthen the log being read.
    """

    __tablename__ = "audit_access_log"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    service: Mapped[str] = mapped_column(String(64))
    principal: Mapped[str] = mapped_column(String(128), index=True)
    route: Mapped[str] = mapped_column(String(256))
    purpose: Mapped[str] = mapped_column(String(256))
    subjects: Mapped[list[str]] = mapped_column(JSON)
    records: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True, slots=True)
class NewEntry:
    event_id: str
    event_type: str
    topic: str
    record_key: str | None
    source: str
    time: str
    correlation_id: str
    community: str | None
    body: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One log entry as read back: the body with its personal fields merged in while they are held."""

    seq: int
    event_id: str
    event_type: str
    topic: str
    source: str
    time: str
    correlation_id: str
    community: str | None
    body: dict[str, Any]
    hash: str
    subject: str | None
    erased: bool
    personal: bool  # personal fields are held (and shown in `body`)


def _record(row: AuditRow) -> Record:
    return Record(
        seq=row.seq,
        event_id=row.event_id,
        event_type=row.event_type,
        topic=row.topic,
        record_key=row.record_key,
        source=row.source,
        time=row.time,
        correlation_id=row.correlation_id,
        community=row.community,
        body=row.body,
        personal_digest=row.personal_digest,
        recorded_at=row.recorded_at.isoformat(),
        prev_hash=row.prev_hash,
    )


# Record's fields, in the order the stream selects them (seq first).
_RECORD_COLUMNS: tuple[str, ...] = (
    "seq",
    "event_id",
    "event_type",
    "topic",
    "record_key",
    "source",
    "time",
    "correlation_id",
    "community",
    "body",
    "personal_digest",
    "recorded_at",
    "prev_hash",
)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _subject_of(body: dict[str, Any], personal: dict[str, Any]) -> str | None:
    pseudonym = personal.get("author.pseudonym")
    comment = body.get("comment")
    if isinstance(pseudonym, str) and isinstance(comment, dict) and isinstance(comment.get("platform"), str):
        return subject(comment["platform"], pseudonym)
    return None


class AuditStore(SqlStore):
    metadata = Base.metadata
    migrations = "vigie_audit:migrations"
    version_table = "alembic_version_audit"

    _chain_key: ChainKey | None = None
    redaction_key: bytes | None = None

    def configure(self, chain_key: ChainKey, redaction_key: bytes | None = None) -> AuditStore:
        """Keys come from settings, after the store is opened; nothing is chained before this."""
        self._chain_key = chain_key
        self.redaction_key = redaction_key
        return self

    @property
    def chain_key(self) -> ChainKey:
        if self._chain_key is None:
            raise RuntimeError("AuditStore.configure() was not called: no chain key")
        return self._chain_key

    def _split(self, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        public, personal = split_personal(body)
        for path in ("text", "final_text", "reason"):
            if isinstance(personal.get(path), str):
                personal[path] = redact_text(personal[path], self.redaction_key)
        return public, personal

    async def append(self, *entries: NewEntry) -> int:
        """Appends each event once, in the given order, in one transaction; returns how many were new.

        An event already recorded (a redelivery) or repeated within the batch is skipped.
        """
        if not entries:
            return 0
        async with self._sessions.begin() as session:
            locked = await session.execute(
                update(WriterRow).where(WriterRow.id == 1).values(appends=WriterRow.appends + 1)
            )
            if locked.rowcount != 1:  # type: ignore[attr-defined]
                raise RuntimeError("audit_writer row missing: run the migrations")
            ids = list(dict.fromkeys(entry.event_id for entry in entries))
            known = set(await session.scalars(select(AuditRow.event_id).where(AuditRow.event_id.in_(ids))))
            tail = (
                await session.execute(
                    select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
                )
            ).first()
            seq, prev = (int(tail[0]), str(tail[1])) if tail else (0, GENESIS)
            events: list[dict[str, Any]] = []
            personal_rows: list[dict[str, Any]] = []
            for entry in entries:
                if entry.event_id in known:
                    continue
                known.add(entry.event_id)
                seq += 1
                public, fields = self._split(entry.body)
                personal = Personal(secrets.token_hex(16), fields) if fields else None
                record = Record(
                    seq=seq,
                    event_id=entry.event_id,
                    event_type=entry.event_type,
                    topic=entry.topic,
                    record_key=entry.record_key,
                    source=entry.source,
                    time=entry.time,
                    correlation_id=entry.correlation_id,
                    community=entry.community,
                    body=public,
                    personal_digest=self.chain_key.personal_digest(personal) if personal else None,
                    recorded_at=entry.recorded_at.isoformat(),
                    prev_hash=prev,
                )
                chained = chain_entry(self.chain_key, record, personal)
                events.append(
                    {
                        **{name: getattr(record, name) for name in _RECORD_COLUMNS},
                        "recorded_at": entry.recorded_at,
                        "hash": chained.hash,
                    }
                )
                if personal is not None:
                    personal_rows.append(
                        {
                            "seq": seq,
                            "subject": _subject_of(entry.body, fields),
                            "correlation_id": entry.correlation_id,
                            "community": entry.community,
                            "recorded_at": entry.recorded_at,
                            "salt": personal.salt,
                            "fields": fields,
                        }
                    )
                prev = chained.hash
            # Core inserts, many rows per statement: the ORM's unit of work cost most of an append.
            if events:
                await session.execute(insert(_table(AuditRow)), events)
            if personal_rows:
                await session.execute(insert(_table(PersonalRow)), personal_rows)
            appended = len(events)
        return appended

    async def events(
        self,
        *,
        correlation_id: str | None,
        event_type: str | None,
        communities: frozenset[str] | None,
        after: int,
        limit: int,
    ) -> list[StoredEvent]:
        query = (
            select(AuditRow, PersonalRow)
            .outerjoin(PersonalRow, PersonalRow.seq == AuditRow.seq)
            .where(AuditRow.seq > after)
        )
        if correlation_id is not None:
            query = query.where(AuditRow.correlation_id == correlation_id)
        if event_type is not None:
            query = query.where(AuditRow.event_type == event_type)
        if communities is not None:
            query = query.where(AuditRow.community.in_(communities))
        async with self._sessions() as session:
            result = await session.execute(query.order_by(AuditRow.seq).limit(limit))
            return [_stored(row, personal) for row, personal in result.all()]

    async def head(self) -> tuple[int, str] | None:
        async with self._sessions() as session:
            tail = (
                await session.execute(
                    select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
                )
            ).first()
        return (int(tail[0]), str(tail[1])) if tail else None

    async def entry_at(self, seq: int) -> ChainedEntry | None:
        async for entry in self.stream(after=seq - 1, until=seq, page=1):
            return entry
        return None

    async def stream(
        self, *, after: int = 0, until: int | None = None, page: int = 1000
    ) -> AsyncIterator[ChainedEntry]:
        """Entries in log order, a page per query, so memory stays flat whatever the log's size.

        Plain column tuples rather than ORM objects: verifying is a full scan, and building
        identity-mapped objects cost most of its time.
        """
        events = AuditRow.__table__.c
        personal = PersonalRow.__table__.c
        columns = [events[name] for name in _RECORD_COLUMNS]
        while True:
            query = (
                select(*columns, events.hash, personal.salt, personal.fields)
                .select_from(AuditRow.__table__.outerjoin(PersonalRow.__table__, personal.seq == events.seq))
                .where(events.seq > after)
            )
            if until is not None:
                query = query.where(events.seq <= until)
            async with self._engine.connect() as connection:
                rows = list((await connection.execute(query.order_by(events.seq).limit(page))).all())
            if not rows:
                return
            for row in rows:
                values = dict(zip(_RECORD_COLUMNS, row[: len(_RECORD_COLUMNS)], strict=True))
                values["recorded_at"] = values["recorded_at"].isoformat()
                digest, salt, fields = row[len(_RECORD_COLUMNS) :]
                held = Personal(salt, fields) if salt is not None else None
                yield ChainedEntry(Record(**values), digest, held)
            after = int(rows[-1][0])

    # Privacy ----------------------------------------------------------------------------------

    async def subject_events(self, subject_name: str) -> list[StoredEvent]:
        """Everything the log holds about one person: every entry of the comments they wrote."""
        async with self._sessions() as session:
            correlations = select(PersonalRow.correlation_id).where(PersonalRow.subject == subject_name)
            result = await session.execute(
                select(AuditRow, PersonalRow)
                .outerjoin(PersonalRow, PersonalRow.seq == AuditRow.seq)
                .where(AuditRow.correlation_id.in_(correlations))
                .order_by(AuditRow.seq)
            )
            return [_stored(row, personal) for row, personal in result.all()]

    async def erase_subject(self, platform: str, pseudonym: str) -> dict[str, int]:
        """Deletes the personal fields of one person's entries (and of their comments' other entries)."""
        subject_name = subject(platform, pseudonym)
        async with self._sessions.begin() as session:
            await zero_on_delete(session)
            correlations = list(
                await session.scalars(
                    select(PersonalRow.correlation_id).where(PersonalRow.subject == subject_name).distinct()
                )
            )
            condition = PersonalRow.subject == subject_name
            if correlations:
                condition = or_(condition, PersonalRow.correlation_id.in_(correlations))
            result = await session.execute(delete(PersonalRow).where(condition))
            erased = int(result.rowcount or 0)  # type: ignore[attr-defined]
        await truncate_wal(self._engine)
        return {"audit_personal": erased}

    async def purge_expired(self, cutoffs: Cutoffs) -> dict[str, int]:
        async with self._sessions.begin() as session:
            await zero_on_delete(session)
            result = await session.execute(
                delete(PersonalRow).where(cutoffs.expired(PersonalRow.community, PersonalRow.recorded_at))
            )
            purged = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if purged:
            await truncate_wal(self._engine)
        return {"audit_personal": purged}

    async def add_request(self, row: PrivacyRequestRow, *, announce: Callable[[], Awaitable[None]]) -> None:
        """Records the request and publishes it in one go: if the bus refuses, nothing is recorded."""
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            await announce()

    async def record_answer(
        self, request_id: str, service: str, erased: dict[str, int], at: datetime
    ) -> None:
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(PrivacyAnswerRow)
            .values(request_id=request_id, service=service, erased=erased, answered_at=at)
            .on_conflict_do_nothing(index_elements=["request_id", "service"])
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)

    async def request(self, request_id: str) -> tuple[PrivacyRequestRow, list[PrivacyAnswerRow]] | None:
        async with self._sessions() as session:
            row = await session.get(PrivacyRequestRow, request_id)
            if row is None:
                return None
            answers = list(
                await session.scalars(
                    select(PrivacyAnswerRow).where(PrivacyAnswerRow.request_id == request_id)
                )
            )
        return row, answers

    async def requests_for(self, pseudonym: str) -> list[PrivacyRequestRow]:
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(PrivacyRequestRow)
                    .where(PrivacyRequestRow.pseudonym == pseudonym)
                    .order_by(PrivacyRequestRow.requested_at)
                )
            )

    async def record_access(self, *rows: AccessRow) -> None:
        if rows:
            async with self._sessions.begin() as session:
                await self.insert_absent(session, rows, key="event_id")

    async def access_log(
        self, *, principal: str | None, after: datetime | None, limit: int
    ) -> list[AccessRow]:
        query = select(AccessRow)
        if principal is not None:
            query = query.where(AccessRow.principal == principal)
        if after is not None:
            query = query.where(AccessRow.at > after)
        async with self._sessions() as session:
            return list(await session.scalars(query.order_by(AccessRow.at).limit(limit)))

    async def count(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(AuditRow)) or 0)


def _stored(row: AuditRow, personal: PersonalRow | None) -> StoredEvent:
    return StoredEvent(
        seq=row.seq,
        event_id=row.event_id,
        event_type=row.event_type,
        topic=row.topic,
        source=row.source,
        time=row.time,
        correlation_id=row.correlation_id,
        community=row.community,
        body=merge_personal(row.body, personal.fields if personal else None),
        hash=row.hash,
        subject=personal.subject if personal else None,
        erased=row.personal_digest is not None and personal is None,
        personal=personal is not None,
    )


__all__ = [
    "AccessRow",
    "AuditRow",
    "AuditStore",
    "IntegrityError",
    "NewEntry",
    "PersonalRow",
    "PrivacyAnswerRow",
    "PrivacyRequestRow",
    "StoredEvent",
]
