"""Durable state of the moderator: the human review queue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from vigie_shared.db import CommentColumns, RowNotFound, RowSettled, SqlStore, UtcDateTime
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import Keyed
from vigie_shared.outbox import OutboxColumns


class Base(DeclarativeBase):
    pass


class ReviewRow(CommentColumns, Base):
    __tablename__ = "moderator_reviews"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    author_pseudonym: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), index=True)
    scores: Mapped[dict[str, float]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    policy_version: Mapped[str] = mapped_column(String(64))
    # What the shadow policy would have done ({policy_version, action, reasons}); null without one.
    shadow: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reviewer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class OutboxRow(OutboxColumns, Base):
    __tablename__ = "moderator_outbox"


class ReviewNotFound(LookupError):
    pass


class ReviewAlreadyDecided(RuntimeError):
    def __init__(self, verdict: str | None) -> None:
        super().__init__(f"already decided: {verdict}")
        self.verdict = verdict


class ReviewStore(SqlStore):
    metadata = Base.metadata
    migrations = "vigie_moderator:migrations"
    version_table = "alembic_version_moderator"
    outbox = OutboxRow

    async def add_if_absent(self, *rows: ReviewRow) -> None:
        """Idempotent on the review id, which derives from the event that asked for the review."""
        if not rows:
            return
        async with self._sessions.begin() as session:
            await self.insert_absent(session, rows)

    async def pending(
        self,
        *,
        communities: frozenset[str] | None = None,
        language: str | None = None,
        category: str | None = None,
        min_age: timedelta | None = None,
        max_age: timedelta | None = None,
        limit: int = 100,
    ) -> list[ReviewRow]:
        query = select(ReviewRow).where(ReviewRow.status == "pending")
        if communities is not None:
            query = query.where(ReviewRow.community.in_(communities))
        if language is not None:
            query = query.where(ReviewRow.language == language)
        if min_age is not None:
            query = query.where(ReviewRow.created_at <= now() - min_age)
        if max_age is not None:
            query = query.where(ReviewRow.created_at >= now() - max_age)
        async with self._sessions() as session:
            result = await session.execute(query.order_by(ReviewRow.created_at))
            rows = list(result.scalars())
        # JSON containment differs per backend; the queue is small enough to filter here.
        if category is not None:
            rows = [row for row in rows if category in (row.categories or [])]
        return rows[:limit]

    async def get(self, review_id: str) -> ReviewRow:
        async with self._sessions() as session:
            row = await session.get(ReviewRow, review_id)
        if row is None:
            raise ReviewNotFound(review_id)
        return row

    async def decide(
        self,
        review_id: str,
        *,
        verdict: str,
        reviewer: str,
        reason: str | None,
        announce: Callable[[ReviewRow], Sequence[Envelope[Keyed]]],
    ) -> ReviewRow:
        """First moderator wins; the events `announce` returns are staged in the same transaction."""
        try:
            return await self.settle(
                ReviewRow,
                review_id,
                values={
                    "status": "decided",
                    "verdict": verdict,
                    "reviewer": reviewer,
                    "reason": reason,
                    "decided_at": now(),
                },
                announce=announce,
            )
        except RowNotFound:
            raise ReviewNotFound(review_id) from None
        except RowSettled as settled:
            raise ReviewAlreadyDecided(settled.row.verdict) from None

    def session(self) -> AsyncSession:
        return self._sessions()


def now() -> datetime:
    return datetime.now(UTC)
