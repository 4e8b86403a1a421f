"""Reply drafts and their review state, in SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from vigie_shared.db import CommentColumns, RowNotFound, RowSettled, SqlStore, UtcDateTime


class Base(DeclarativeBase):
    pass


class DraftStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EDITED = "edited"
    REJECTED = "rejected"


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


class DraftNotFound(LookupError):
    pass


class DraftAlreadyReviewed(RuntimeError):
    def __init__(self, status: str) -> None:
        super().__init__(f"draft was already {status}")
        self.status = status


class DraftStore(SqlStore):
    metadata = Base.metadata
    migrations = "vigie_responder:migrations"
    version_table = "alembic_version_responder"

    async def add_if_absent(self, row: DraftRow) -> None:
        async with self._sessions.begin() as session:
            await self.insert_absent(session, [row])

    async def get(self, draft_id: str) -> DraftRow:
        async with self._sessions() as session:
            row = await session.get(DraftRow, draft_id)
        if row is None:
            raise DraftNotFound(draft_id)
        return row

    async def list(
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
        announce: Callable[[DraftRow], Awaitable[None]],
    ) -> DraftRow:
        """Moves a pending draft to its verdict; one reviewer wins, `announce` publishes it."""
        values = {
            "status": status.value,
            "reviewer": reviewer,
            "reviewed_at": datetime.now(UTC),
            "final_text": final_text,
            "reject_reason": reason,
        }
        try:
            return await self.settle(DraftRow, draft_id, values=values, announce=announce)
        except RowNotFound:
            raise DraftNotFound(draft_id) from None
        except RowSettled as settled:
            raise DraftAlreadyReviewed(settled.row.status) from None
