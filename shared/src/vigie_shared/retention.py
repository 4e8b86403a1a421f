"""Retention of comment texts and display names: per community, then purged by a scheduled job.

`VIGIE_RETENTION_DAYS` maps a community to the number of days its texts and display names are
kept, with `*` for every other community (for example `{"*": 365, "page-42": 30}`); no `*` means
communities not listed are kept until erased on request. Each service runs `RetentionJob` with
its own `purge(cutoffs)`, which blanks the personal fields of what is older than the cutoff in
its stores and keeps decisions, scores and reasons.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, false, not_, or_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

log = structlog.get_logger("vigie.retention")

ANY_COMMUNITY = "*"


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Per community, the instant before which personal fields go; `default` for the others."""

    by_community: Mapping[str, datetime]
    default: datetime | None

    @classmethod
    def at(cls, now: datetime, days: Mapping[str, int]) -> Cutoffs:
        explicit = {c: now - timedelta(days=d) for c, d in days.items() if c != ANY_COMMUNITY}
        default = days.get(ANY_COMMUNITY)
        return cls(explicit, None if default is None else now - timedelta(days=default))

    @property
    def empty(self) -> bool:
        return not self.by_community and self.default is None

    def expired(
        self,
        community: ColumnElement[Any] | InstrumentedAttribute[Any],
        at: ColumnElement[Any] | InstrumentedAttribute[Any],
    ) -> ColumnElement[bool]:
        """A SQL condition true for rows past their community's retention."""
        clauses: list[ColumnElement[bool]] = [
            and_(community == name, at < cutoff) for name, cutoff in self.by_community.items()
        ]
        if self.default is not None:
            others = not_(community.in_(list(self.by_community))) if self.by_community else None
            unnamed = or_(community.is_(None), others) if others is not None else None
            clauses.append(and_(at < self.default, unnamed) if unnamed is not None else at < self.default)
        return or_(*clauses) if clauses else false()

    def is_expired(self, community: str | None, at: datetime) -> bool:
        if community is not None and community in self.by_community:
            return at < self.by_community[community]
        return self.default is not None and at < self.default


Purge = Callable[[Cutoffs], Awaitable[dict[str, int]]]


class RetentionJob:
    """Calls `purge` now and every `interval` seconds until stopped; a failed run is logged and retried."""

    def __init__(
        self,
        service: str,
        purge: Purge,
        days: Mapping[str, int],
        *,
        interval: float = 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._service = service
        self._purge = purge
        self._days = dict(days)
        self._interval = interval
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self.last_run: dict[str, int] | None = None

    async def run_once(self) -> dict[str, int]:
        cutoffs = Cutoffs.at(self._clock(), self._days)
        if cutoffs.empty:
            return {}
        purged = await self._purge(cutoffs)
        self.last_run = purged
        if any(purged.values()):
            log.info("retention_purged", service=self._service, purged=purged)
        return purged

    def start(self) -> None:
        if self._days:
            self._task = asyncio.create_task(self._loop(), name=f"retention:{self._service}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention_failed", service=self._service)
            await asyncio.sleep(self._interval)


__all__ = ["ANY_COMMUNITY", "Cutoffs", "Purge", "RetentionJob"]
