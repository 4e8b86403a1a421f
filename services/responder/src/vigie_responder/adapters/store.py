"""Reply drafts, their review and delivery, and the platform jobs that carry them out; SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from vigie_shared.db import CommentColumns, RowNotFound, RowSettled, SqlStore, UtcDateTime
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import Keyed, PlatformAction
from vigie_shared.outbox import OutboxColumns

from vigie_responder.domain.delivery import action_job_id, reply_job_id


class Base(DeclarativeBase):
    pass


class DraftStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EDITED = "edited"
    REJECTED = "rejected"
    # Where an approved draft ends: the platform took it, or it could not.
    PUBLISHED = "published"
    FAILED = "failed"


class DraftRow(CommentColumns, Base):
    __tablename__ = "responder_drafts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    comment_text: Mapped[str] = mapped_column(Text)
    # Whose comment it is, so a privacy request can find and erase it; null on drafts made before.
    author_pseudonym: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reviewer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    platform_reply_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    delivery_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Why the draft exists: intent, knowledge-base entry and score, template, models, LLM or not.
    intent: Mapped[str | None] = mapped_column(String(16), nullable=True)
    kb_entry_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    kb_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    needs_translation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class JobKind(StrEnum):
    REPLY = "reply"
    HIDE = "hide"
    UNHIDE = "unhide"
    DELETE = "delete"


class JobStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class JobRow(CommentColumns, Base):
    """One thing to do on a platform, worked until done or failed, leased so one replica does it."""

    __tablename__ = "responder_jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    draft_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    action_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requested_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Set before each call and cleared once its outcome is recorded: still set when a new attempt
    # starts means the last one died mid-call, so the platform may already have acted.
    in_flight: Mapped[bool] = mapped_column(Boolean, default=False)
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False)
    platform_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    @classmethod
    def for_reply(cls, draft: DraftRow) -> JobRow:
        """The job that posts an approved draft's final text in the comment's thread."""
        created = now()
        return cls(
            id=reply_job_id(draft.id),
            kind=JobKind.REPLY.value,
            draft_id=draft.id,
            text=draft.final_text or draft.text,
            requested_by=draft.reviewer,
            **_comment_columns(draft),
            status=JobStatus.PENDING.value,
            attempts=0,
            next_attempt_at=created,
            in_flight=False,
            ambiguous=False,
            created_at=created,
        )

    @classmethod
    def for_action(cls, action: PlatformAction, correlation_id: str) -> JobRow:
        created = now()
        ref = action.comment
        return cls(
            id=action_job_id(action.action_id),
            kind=action.kind.value,
            action_id=action.action_id,
            requested_by=action.requested_by,
            platform=ref.platform.value,
            community=ref.community,
            thread_id=ref.thread_id,
            comment_id=ref.comment_id,
            correlation_id=correlation_id,
            status=JobStatus.PENDING.value,
            attempts=0,
            next_attempt_at=created,
            in_flight=False,
            ambiguous=False,
            created_at=created,
        )


def _comment_columns(row: CommentColumns) -> dict[str, str]:
    return {
        "platform": row.platform,
        "community": row.community,
        "thread_id": row.thread_id,
        "comment_id": row.comment_id,
        "correlation_id": row.correlation_id,
    }


class OutboxRow(OutboxColumns, Base):
    __tablename__ = "responder_outbox"


class DraftNotFound(LookupError):
    pass


class DraftAlreadyReviewed(RuntimeError):
    def __init__(self, status: str) -> None:
        super().__init__(f"draft was already {status}")
        self.status = status


class ClaimedJob:
    """A job this worker holds the lease on, and whether an earlier attempt may have reached the platform."""

    def __init__(self, row: JobRow, previously_ambiguous: bool) -> None:
        self.row = row
        self.previously_ambiguous = previously_ambiguous


def now() -> datetime:
    return datetime.now(UTC)


class DraftStore(SqlStore):
    metadata = Base.metadata
    migrations = "vigie_responder:migrations"
    version_table = "alembic_version_responder"
    outbox = OutboxRow

    async def add_if_absent(self, row: DraftRow) -> None:
        async with self._sessions.begin() as session:
            await self.insert_absent(session, [row])

    async def add_many_if_absent(self, rows: Sequence[DraftRow]) -> None:
        async with self._sessions.begin() as session:
            await self.insert_absent(session, rows)

    async def get_many(self, draft_ids: Sequence[str]) -> dict[str, DraftRow]:
        async with self._sessions() as session:
            result = await session.execute(select(DraftRow).where(DraftRow.id.in_(draft_ids)))
            return {row.id: row for row in result.scalars()}

    async def get(self, draft_id: str) -> DraftRow:
        async with self._sessions() as session:
            row = await session.get(DraftRow, draft_id)
        if row is None:
            raise DraftNotFound(draft_id)
        return row

    async def find(
        self, *, status: str | None, communities: frozenset[str] | None, limit: int
    ) -> list[DraftRow]:
        query = select(DraftRow)
        if status is not None:
            query = query.where(DraftRow.status == status)
        if communities is not None:
            query = query.where(DraftRow.community.in_(communities))
        async with self._sessions() as session:
            result = await session.execute(query.order_by(DraftRow.created_at).limit(limit))
            return list(result.scalars())

    async def review(
        self,
        draft_id: str,
        *,
        status: DraftStatus,
        reviewer: str,
        final_text: str | None,
        reason: str | None,
        announce: Callable[[DraftRow], Sequence[Envelope[Keyed]]],
        job: Callable[[DraftRow], JobRow | None],
    ) -> DraftRow:
        """Moves a pending draft to its verdict: one reviewer wins, and the verdict's events and the
        reply job it creates commit in the same transaction as the verdict itself."""
        values = {
            "status": status.value,
            "verdict": status.value,
            "reviewer": reviewer,
            "reviewed_at": now(),
            "final_text": final_text,
            "reject_reason": reason,
        }

        async def queue(session: AsyncSession, row: DraftRow) -> None:
            queued = job(row)
            if queued is not None:
                await self.insert_absent(session, [queued])

        try:
            return await self.settle(DraftRow, draft_id, values=values, announce=announce, then=queue)
        except RowNotFound:
            raise DraftNotFound(draft_id) from None
        except RowSettled as settled:
            raise DraftAlreadyReviewed(settled.row.verdict or settled.row.status) from None

    # Jobs -----------------------------------------------------------------------------------------

    async def add_jobs_if_absent(self, jobs: Sequence[JobRow]) -> None:
        """Idempotent on the job id, which derives from the event that asked for it."""
        if jobs:
            async with self._sessions.begin() as session:
                await self.insert_absent(session, jobs)

    async def get_job(self, job_id: str) -> JobRow | None:
        async with self._sessions() as session:
            return await session.get(JobRow, job_id)

    async def jobs(self, *, status: str | None = None) -> list[JobRow]:
        query = select(JobRow).order_by(JobRow.created_at)
        if status is not None:
            query = query.where(JobRow.status == status)
        async with self._sessions() as session:
            return list((await session.execute(query)).scalars())

    async def count_jobs(self, status: JobStatus) -> int:
        async with self._sessions() as session:
            result = await session.execute(
                select(func.count()).select_from(JobRow).where(JobRow.status == status.value)
            )
            return int(result.scalar_one())

    async def claim_due(self, owner: str, *, lease: timedelta, limit: int) -> list[ClaimedJob]:
        """Leases up to `limit` due jobs to `owner`; a job whose lease lapsed (its worker died) is due again.

        Each claim is a conditional update, so two replicas racing for one job get it once.
        """
        current = now()
        due = (
            select(JobRow.id, JobRow.in_flight, JobRow.ambiguous)
            .where(
                JobRow.status == JobStatus.PENDING.value,
                JobRow.next_attempt_at <= current,
                or_(JobRow.lease_until.is_(None), JobRow.lease_until < current),
            )
            .order_by(JobRow.next_attempt_at)
            .limit(limit)
        )
        claimed: list[ClaimedJob] = []
        async with self._sessions.begin() as session:
            for job_id, was_in_flight, was_ambiguous in list((await session.execute(due)).all()):
                result = await session.execute(
                    update(JobRow)
                    .where(
                        JobRow.id == job_id,
                        JobRow.status == JobStatus.PENDING.value,
                        or_(JobRow.lease_until.is_(None), JobRow.lease_until < current),
                    )
                    .values(
                        lease_owner=owner,
                        lease_until=current + lease,
                        attempts=JobRow.attempts + 1,
                        in_flight=True,
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another worker took it between the read and the claim
                row = await session.get(JobRow, job_id, populate_existing=True)
                assert row is not None
                # An attempt still marked in flight died between calling the platform and recording
                # the answer: the platform may have acted, so the next call must check first.
                claimed.append(ClaimedJob(row, previously_ambiguous=bool(was_in_flight or was_ambiguous)))
        return claimed

    async def settle_job(
        self,
        job_id: str,
        owner: str,
        *,
        values: dict[str, Any],
        draft_values: dict[str, Any] | None,
        events: Callable[[JobRow], Sequence[Envelope[Keyed]]],
    ) -> bool:
        """Records an attempt's outcome, the draft's delivery and the events, in one transaction.

        Refused (False) when this worker no longer holds the lease: another has the job now.
        """
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.status == "pending")
                .values(**values, lease_owner=None, lease_until=None, in_flight=False)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            row = await session.get(JobRow, job_id, populate_existing=True)
            assert row is not None
            if draft_values and row.draft_id is not None:
                await session.execute(
                    update(DraftRow)
                    .where(DraftRow.id == row.draft_id)
                    .values(**draft_values)
                    .execution_options(synchronize_session=False)
                )
            await self.stage(session, events(row))
        self.staged()
        return True
