"""What the reports read: a few facts per comment, kept apart from the audit log and its texts.

Comment texts in the audit log are redacted and can be erased, so the facts the reports need are
extracted when each event arrives (handlers in vigie_audit.report_facts) and stored here: no text,
no author, no display name. The tables live in the audit service's schema and Alembic history
(revision 0003), on the same declarative base as the audit log.

Events about one comment come from several topics and may arrive in any order, so every write is
an upsert that sets only the columns its event knows; replaying an event writes the same values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Float, Index, LargeBinary, String, Table, and_, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement
from vigie_shared.db import UtcDateTime
from vigie_shared.retention import Cutoffs
from vigie_shared.wipe import truncate_wal, zero_on_delete

from vigie_audit.adapters.store import Base
from vigie_audit.domain.bias import SCORE_BINS, Cell, Verdict
from vigie_audit.domain.insights import CommentTimes, DecisionSummary, HumanWork
from vigie_audit.domain.topics import LanguageComments


class DecisionFact(Base):
    """One automated decision (keyed by the moderation.decided event id, which is also the review id)
    and, once a moderator decides, the verdict."""

    __tablename__ = "report_decisions"
    __table_args__ = (Index("ix_report_decisions_community_decided_at", "community", "decided_at"),)

    decision_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community: Mapped[str] = mapped_column(String(512))
    platform: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    identity_groups: Mapped[str | None] = mapped_column(
        String(1024), nullable=True, doc="'|'-delimited group ids, e.g. '|religion:muslim|gender:women|'"
    )
    action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    policy_version: Mapped[str | None] = mapped_column(String(128), nullable=True)
    shadow_action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    shadow_policy_version: Mapped[str | None] = mapped_column(String(128), nullable=True)
    harm_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    sentiment: Mapped[float | None] = mapped_column(Float, nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CommentFact(Base):
    """One comment (keyed by its correlation id): when it was posted and received, and when the
    first reply to it went out."""

    __tablename__ = "report_comments"
    __table_args__ = (Index("ix_report_comments_community_created_at", "community", "created_at"),)

    correlation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community: Mapped[str] = mapped_column(String(512))
    platform: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    first_reply_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class WorkFact(Base):
    """One human decision (a review verdict or a reply verdict) by a moderator, under a pseudonym."""

    __tablename__ = "report_work"
    __table_args__ = (Index("ix_report_work_community_at", "community", "at"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(16))
    moderator: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class TopicFact(Base):
    """What the topics of the insights are computed from, per automated decision: the comment's
    sentence embedding and its content words (vigie_audit.domain.topics.topic_words).

    Unlike the other facts this is personal data (derived from the text, and an embedding can be
    partly inverted), so the row names its subject: an erasure deletes it (`erase_subject`) and
    retention purges it with the texts (`purge_expired`)."""

    __tablename__ = "report_topics"
    __table_args__ = (Index("ix_report_topics_community_decided_at", "community", "decided_at"),)

    decision_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(600), index=True, doc="platform:pseudonym")
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    language: Mapped[str] = mapped_column(String(16))
    encoder: Mapped[str] = mapped_column(String(512))
    vector: Mapped[bytes] = mapped_column(LargeBinary(), doc="unit-length little-endian float16")
    words: Mapped[str] = mapped_column(String(1024), doc="'|'-delimited content words, lowercased")


FactRow = DecisionFact | CommentFact | WorkFact | TopicFact

# Columns whose stored value is the earliest one seen: an edit or a second reply never moves them.
_EARLIEST = {"created_at", "received_at", "first_reply_at"}


@dataclass(frozen=True, slots=True)
class Upsert:
    """A partial row: the key plus the columns one event knows."""

    model: type[FactRow]
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Scope:
    communities: frozenset[str] | None
    """None means every community."""
    since: datetime | None
    until: datetime | None


def _groups(stored: str | None, language: str | None) -> frozenset[str]:
    groups = {group for group in (stored or "").split("|") if group}
    groups.add(f"language:{language or 'und'}")
    return frozenset(groups)


def encode_groups(groups: Sequence[str] | frozenset[str]) -> str:
    return "|" + "|".join(sorted(groups)) + "|" if groups else ""


def encode_words(words: Sequence[str], limit: int = 1024) -> str:
    """'|'-joined, dropping the last words rather than cutting one in half to fit the column."""
    kept: list[str] = []
    size = 0
    for word in words:
        size += len(word) + 1
        if size > limit:
            break
        kept.append(word)
    return "|".join(kept)


class ReportFacts:
    """The facts tables on the audit store's engine; the audit store's migrations create them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def apply(self, upserts: Sequence[Upsert]) -> None:
        """Writes a batch of partial rows in one transaction."""
        if not upserts:
            return
        async with self._sessions.begin() as session:
            for upsert in upserts:
                await self._upsert(session, upsert)

    async def _upsert(self, session: AsyncSession, upsert: Upsert) -> None:
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        table = cast(Table, upsert.model.__table__)
        keys = [column.name for column in table.primary_key.columns]
        statement = insert(table).values(**upsert.values)
        updates: dict[str, Any] = {}
        for name in upsert.values:
            if name in keys:
                continue
            current, incoming = table.c[name], statement.excluded[name]
            if name in _EARLIEST:
                updates[name] = case(
                    (incoming.is_(None), current),
                    (and_(current.is_not(None), current <= incoming), current),
                    else_=incoming,
                )
            else:
                updates[name] = incoming
        if updates:
            await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates))
        else:
            await session.execute(statement.on_conflict_do_nothing(index_elements=keys))

    def _where(self, column: Any, community: Any, scope: Scope) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [column.is_not(None)]
        if scope.communities is not None:
            conditions.append(community.in_(scope.communities))
        if scope.since is not None:
            conditions.append(column >= scope.since)
        if scope.until is not None:
            conditions.append(column < scope.until)
        return conditions

    async def bias_cells(self, scope: Scope) -> list[Cell]:
        """Decisions in scope, counted per combination the bias report distinguishes. The score bin
        is kept only for reviewed decisions, the only ones an AUC can use, so a million decisions
        come back as a few thousand rows."""
        verdict = DecisionFact.verdict
        reviewed = verdict.is_not(None)
        bin_ = case(
            (reviewed, func.round(func.coalesce(DecisionFact.harm_score, 0.0) * SCORE_BINS)), else_=None
        )
        columns = (
            DecisionFact.identity_groups,
            DecisionFact.language,
            DecisionFact.action,
            DecisionFact.shadow_action,
            verdict,
            bin_.label("score_bin"),
        )
        query = (
            select(*columns, func.count().label("n"))
            .where(DecisionFact.action.is_not(None))
            .where(*self._where(DecisionFact.decided_at, DecisionFact.community, scope))
            .group_by(*columns[:5], bin_)
        )
        async with self._sessions() as session:
            result = await session.execute(query)
            return [
                Cell(
                    groups=_groups(groups, language),
                    action=action,
                    shadow_action=shadow,
                    verdict=Verdict(stored_verdict) if stored_verdict is not None else None,
                    score_bin=int(score) if score is not None else None,
                    count=int(n),
                )
                for groups, language, action, shadow, stored_verdict, score, n in result.all()
            ]

    async def decisions(self, scope: Scope) -> list[DecisionSummary]:
        query = select(DecisionFact.decided_at, DecisionFact.action, DecisionFact.sentiment).where(
            DecisionFact.action.is_not(None),
            *self._where(DecisionFact.decided_at, DecisionFact.community, scope),
        )
        async with self._sessions() as session:
            result = await session.execute(query)
            return [
                DecisionSummary(at, action, sentiment)
                for at, action, sentiment in result.all()
                if at is not None and action is not None
            ]

    async def comments(self, scope: Scope) -> list[CommentTimes]:
        query = select(CommentFact.created_at, CommentFact.received_at, CommentFact.first_reply_at).where(
            *self._where(CommentFact.created_at, CommentFact.community, scope)
        )
        async with self._sessions() as session:
            result = await session.execute(query)
            return [CommentTimes(*row) for row in result.all()]

    async def work(self, scope: Scope) -> list[HumanWork]:
        query = select(WorkFact.kind, WorkFact.moderator, WorkFact.at).where(
            *self._where(WorkFact.at, WorkFact.community, scope)
        )
        async with self._sessions() as session:
            result = await session.execute(query)
            return [HumanWork(*row) for row in result.all()]

    async def topic_comments(self, scope: Scope, limit: int) -> tuple[list[LanguageComments], bool]:
        """Per language, the embeddings and words of the decisions in scope, and whether `limit`
        cut them short. Decision ids are hashes, so ordering by them and stopping at `limit` takes
        an arbitrary but repeatable sample. Within a language only the most common encoder's
        vectors are kept: two encoders' spaces do not compare."""
        query = (
            select(TopicFact.language, TopicFact.encoder, TopicFact.vector, TopicFact.words)
            .where(*self._where(TopicFact.decided_at, TopicFact.community, scope))
            .order_by(TopicFact.decision_id)
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        by_language: dict[str, list[tuple[str, bytes, str]]] = {}
        for language, encoder, vector, words in rows:
            by_language.setdefault(language, []).append((encoder, vector, words))
        out = []
        for language, items in sorted(by_language.items()):
            encoders = Counter((encoder, len(vector)) for encoder, vector, _ in items)
            (encoder, width), _ = encoders.most_common(1)[0]
            kept = [(vector, words) for e, vector, words in items if (e, len(vector)) == (encoder, width)]
            vectors = np.frombuffer(b"".join(v for v, _ in kept), dtype="<f2").reshape(len(kept), -1)
            out.append(
                LanguageComments(
                    language=language,
                    vectors=vectors.astype(np.float32),
                    words=[tuple(w for w in words.split("|") if w) for _, words in kept],
                )
            )
        return out, len(rows) >= limit

    async def erase_subject(self, subject_name: str) -> dict[str, int]:
        """A privacy erasure: the person's topic rows (the other facts hold nothing of theirs)."""
        async with self._sessions.begin() as session:
            await zero_on_delete(session)
            result = await session.execute(delete(TopicFact).where(TopicFact.subject == subject_name))
            erased = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if erased:
            await truncate_wal(self._engine)
        return {"report_topics": erased}

    async def purge_expired(self, cutoffs: Cutoffs) -> dict[str, int]:
        """Retention: topic rows go with the texts they were taken from."""
        async with self._sessions.begin() as session:
            await zero_on_delete(session)
            result = await session.execute(
                delete(TopicFact).where(cutoffs.expired(TopicFact.community, TopicFact.decided_at))
            )
            purged = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if purged:
            await truncate_wal(self._engine)
        return {"report_topics": purged}
