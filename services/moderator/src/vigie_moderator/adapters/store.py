"""Durable state of the moderator: the human review queue.

Texts are stored redacted (e-mails, phones, IBANs, cards, IPs become typed placeholders, see
vigie_shared.redact). A privacy erasure blanks a person's texts and pseudonym; retention blanks
texts past their community's window. Decisions, scores and reasons stay either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    String,
    Text,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from vigie_shared.db import CommentColumns, RowNotFound, RowSettled, SqlStore, UtcDateTime
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import Keyed
from vigie_shared.outbox import OutboxColumns
from vigie_shared.privacy import ERASED_PSEUDONYM, ERASED_TEXT
from vigie_shared.redact import redact_text
from vigie_shared.retention import Cutoffs
from vigie_shared.wipe import truncate_wal, zero_on_delete

EXPIRED_TEXT = "[expired]"


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

    redaction_key: bytes | None = None

    async def add_if_absent(self, *rows: ReviewRow) -> None:
        """Idempotent on the review id, which derives from the event that asked for the review."""
        if not rows:
            return
        for row in rows:
            row.text = redact_text(row.text, self.redaction_key) or ""
        async with self._sessions.begin() as session:
            await self.insert_absent(session, rows)

    async def erase_subject(self, platform: str, pseudonym: str) -> dict[str, int]:
        """Blanks the texts of one person's held comments and forgets whose they were."""
        async with self._sessions.begin() as session:
            await zero_on_delete(session)
            result = await session.execute(
                update(ReviewRow)
                .where(ReviewRow.platform == platform, ReviewRow.author_pseudonym == pseudonym)
                .values(text=ERASED_TEXT, author_pseudonym=ERASED_PSEUDONYM, reason=None)
            )
            erased = int(result.rowcount or 0)  # type: ignore[attr-defined]
        await truncate_wal(self._engine)
        return {"moderator_reviews": erased}

    async def purge_expired(self, cutoffs: Cutoffs) -> dict[str, int]:
        """Blanks texts past their community's retention; the decision, scores and reasons stay."""
        async with self._sessions.begin() as session:
            await zero_on_delete(session)
            result = await session.execute(
                update(ReviewRow)
                .where(
                    and_(
                        cutoffs.expired(ReviewRow.community, ReviewRow.created_at),
                        ReviewRow.text.not_in([EXPIRED_TEXT, ERASED_TEXT]),
                    )
                )
                .values(text=EXPIRED_TEXT)
            )
            purged = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if purged:
            await truncate_wal(self._engine)
        return {"moderator_reviews": purged}

    async def pending(
        self,
        *,
        communities: frozenset[str] | None = None,
        language: str | None = None,
        category: str | None = None,
        min_age: timedelta | None = None,
        max_age: timedelta | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 100,
    ) -> list[ReviewRow]:
        """Pending reviews oldest first, filtered and paged in SQL.

        `after` is the (created_at, id) of the last row of the previous page: keyset paging stays
        as cheap on the thousandth page as on the first and skips nothing when rows are decided
        between two pages.
        """
        query = select(ReviewRow).where(ReviewRow.status == "pending")
        if communities is not None:
            query = query.where(ReviewRow.community.in_(communities))
        if language is not None:
            query = query.where(ReviewRow.language == language)
        if category is not None:
            query = query.where(self._has_category(category))
        if min_age is not None:
            query = query.where(ReviewRow.created_at <= now() - min_age)
        if max_age is not None:
            query = query.where(ReviewRow.created_at >= now() - max_age)
        if after is not None:
            created, review_id = after
            query = query.where(
                or_(
                    ReviewRow.created_at > created,
                    and_(ReviewRow.created_at == created, ReviewRow.id > review_id),
                )
            )
        query = query.order_by(ReviewRow.created_at, ReviewRow.id).limit(limit)
        async with self._sessions() as session:
            result = await session.execute(query)
            return list(result.scalars())

    def _has_category(self, category: str) -> ColumnElement[bool]:
        """JSON array membership, in each backend's own terms."""
        if self._engine.dialect.name == "postgresql":
            return cast(ReviewRow.categories, JSONB).contains([category])
        each = func.json_each(ReviewRow.categories).table_valued("value")
        return exists(select(literal(1)).select_from(each).where(each.c.value == category))

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
                    "reason": redact_text(reason, self.redaction_key),
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
