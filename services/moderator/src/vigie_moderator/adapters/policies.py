"""Versioned policies per community. Every PUT adds a version; nothing is overwritten."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column
from vigie_shared.db import UtcDateTime

from vigie_moderator.adapters.store import Base, now
from vigie_moderator.domain.policy import DEFAULT_POLICY, Policy


class PolicyMode(StrEnum):
    LIVE = "live"
    SHADOW = "shadow"


class PolicyRow(Base):
    __tablename__ = "moderator_policies"

    community: Mapped[str] = mapped_column(String(512), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    author: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ConcurrentPolicyChange(RuntimeError):
    pass


class SqlPolicies:
    def __init__(self, engine: AsyncEngine, default: Policy = DEFAULT_POLICY) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._default = default

    async def _latest(self, community: str, mode: PolicyMode) -> PolicyRow | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(PolicyRow)
                .where(PolicyRow.community == community, PolicyRow.mode == mode.value)
                .order_by(PolicyRow.number.desc())
                .limit(1)
            )

    async def live(self, community: str) -> Policy:
        row = await self._latest(community, PolicyMode.LIVE)
        return Policy.model_validate(row.body) if row is not None and row.body else self._default

    async def shadow(self, community: str) -> Policy | None:
        row = await self._latest(community, PolicyMode.SHADOW)
        return Policy.model_validate(row.body) if row is not None and row.body else None

    async def put(
        self, community: str, mode: PolicyMode, policy: Policy | None, author: str
    ) -> Policy | None:
        """Stores a new version (None clears a shadow). The version name is assigned here."""
        latest = await self._latest(community, mode)
        number = (latest.number if latest else 0) + 1
        stored = (
            policy.model_copy(update={"version": f"{community}/{mode.value}/{number}"})
            if policy is not None
            else None
        )
        try:
            async with self._sessions.begin() as session:
                session.add(
                    PolicyRow(
                        community=community,
                        mode=mode.value,
                        number=number,
                        body=stored.model_dump(mode="json") if stored else None,
                        author=author,
                        created_at=now(),
                    )
                )
        except IntegrityError:
            raise ConcurrentPolicyChange("another change to this policy landed first; retry") from None
        return stored
