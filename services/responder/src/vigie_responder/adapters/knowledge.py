"""Knowledge-base entries and reply tone per community, in the responder's database.

Question embeddings are computed when an entry is written and stored beside it, so a search embeds
only the comment. Each process keeps one index per community and rebuilds it when the community's
entries change (a cheap stamp query tells), so replicas stay in step without a message between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import JSON, LargeBinary, String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column
from vigie_shared.db import UtcDateTime

from vigie_responder.adapters.store import Base
from vigie_responder.domain.knowledge import Entry, KnowledgeIndex, LanguageCentroids

Embedder = Callable[[Sequence[str]], np.ndarray]


class KbEntryRow(Base):
    __tablename__ = "responder_kb_entries"

    community: Mapped[str] = mapped_column(String(512), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    questions: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    answers: Mapped[dict[str, str]] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # float32 rows, one per text of Entry.texts_to_embed() (questions, then answers), from `encoder_version`.
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    encoder_version: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(128))

    def entry(self) -> Entry:
        return Entry(
            entry_id=self.entry_id,
            questions=self.questions,
            answers=self.answers,
            tags=tuple(self.tags),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


class ToneRow(Base):
    __tablename__ = "responder_tone"

    community: Mapped[str] = mapped_column(String(512), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(128))


class KnowledgeStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        embed: Embedder,
        encoder_version: str,
        dimension: int,
        centroids: LanguageCentroids | None = None,
    ) -> None:
        self._centroids = centroids
        self._sessions = sessions
        self._embed = embed
        self._encoder_version = encoder_version
        self._dimension = dimension
        self._indexes: dict[str, tuple[tuple[int, datetime | None], KnowledgeIndex]] = {}
        self._lock = asyncio.Lock()

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        # onnxruntime releases the GIL: a thread keeps the API answering while it runs.
        return await asyncio.to_thread(self._embed, list(texts))

    async def put(self, community: str, entry: Entry, author: str) -> tuple[KbEntryRow, bool]:
        """Creates or replaces an entry; returns it and whether it is new."""
        vectors = await self.embed(entry.texts_to_embed())
        async with self._sessions.begin() as session:
            row = await session.get(KbEntryRow, (community, entry.entry_id))
            created = row is None
            if row is None:
                row = KbEntryRow(community=community, entry_id=entry.entry_id)
                session.add(row)
            row.questions = {k: list(v) for k, v in entry.questions.items()}
            row.answers = dict(entry.answers)
            row.tags = list(entry.tags)
            row.valid_from = entry.valid_from
            row.valid_until = entry.valid_until
            row.vectors = np.asarray(vectors, dtype=np.float32).tobytes()
            row.encoder_version = self._encoder_version
            row.updated_at = datetime.now(UTC)
            row.updated_by = author
        return row, created

    async def get(self, community: str, entry_id: str) -> KbEntryRow | None:
        async with self._sessions() as session:
            return await session.get(KbEntryRow, (community, entry_id))

    async def entries(self, community: str, *, limit: int, after: str | None) -> list[KbEntryRow]:
        query = select(KbEntryRow).where(KbEntryRow.community == community)
        if after is not None:
            query = query.where(KbEntryRow.entry_id > after)
        async with self._sessions() as session:
            return list((await session.execute(query.order_by(KbEntryRow.entry_id).limit(limit))).scalars())

    async def delete(self, community: str, entry_id: str) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(KbEntryRow).where(KbEntryRow.community == community, KbEntryRow.entry_id == entry_id)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def index(self, community: str) -> KnowledgeIndex:
        """The community's index, rebuilt only when its entries changed since this process last built it."""
        async with self._sessions() as session:
            count, latest = (
                await session.execute(
                    select(func.count(), func.max(KbEntryRow.updated_at)).where(
                        KbEntryRow.community == community
                    )
                )
            ).one()
        stamp = (int(count), latest)
        cached = self._indexes.get(community)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        async with self._lock:
            async with self._sessions() as session:
                rows = list(
                    (
                        await session.execute(select(KbEntryRow).where(KbEntryRow.community == community))
                    ).scalars()
                )
            items = []
            for row in rows:
                entry = row.entry()
                if row.encoder_version != self._encoder_version:
                    # A new encoder: vectors from the old one do not compare; re-embed and store once.
                    vectors = await self.embed(entry.texts_to_embed())
                    await self._store_vectors(community, row.entry_id, vectors)
                else:
                    vectors = np.frombuffer(row.vectors, dtype=np.float32)
                items.append((entry, vectors))
            built = KnowledgeIndex.build(items, self._dimension, self._centroids)
            self._indexes[community] = (stamp, built)
            return built

    async def _store_vectors(self, community: str, entry_id: str, vectors: np.ndarray) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(KbEntryRow, (community, entry_id))
            if row is not None:
                row.vectors = np.asarray(vectors, dtype=np.float32).tobytes()
                row.encoder_version = self._encoder_version

    async def tone(self, community: str) -> dict[str, Any] | None:
        async with self._sessions() as session:
            row = await session.get(ToneRow, community)
            return None if row is None else dict(row.settings)

    async def put_tone(self, community: str, settings: dict[str, Any], author: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(ToneRow, community)
            if row is None:
                row = ToneRow(community=community)
                session.add(row)
            row.settings = settings
            row.updated_at = datetime.now(UTC)
            row.updated_by = author
