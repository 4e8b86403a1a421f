"""The responder's sampled gauges; platform calls and jobs are counted where they happen (dispatcher)."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy import func, select
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.sampling import Probe

from vigie_responder.adapters.store import DraftRow, DraftStatus, DraftStore


class ResponderMetrics:
    def __init__(self, base: ServiceMetrics) -> None:
        self.drafts = Gauge(
            "vigie_responder_drafts",
            "Reply drafts by status (sampled)",
            ["status"],
            registry=base.registry,
        )

    def drafts_probe(self, store: DraftStore) -> Probe:
        async def probe() -> None:
            async with store.sessions() as session:
                rows = (
                    await session.execute(select(DraftRow.status, func.count()).group_by(DraftRow.status))
                ).all()
            counts = {str(status): int(count) for status, count in rows}
            # Every known status is exported, at 0 when empty, so a rate or a ratio never lacks a series.
            for status in DraftStatus:
                self.drafts.labels(status=status.value).set(counts.get(status.value, 0))

        return probe
