"""The audit log's health: how long the chain is and whether its last verification held."""

from __future__ import annotations

import time

from prometheus_client import Gauge
from sqlalchemy import func, select
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.sampling import Probe

from vigie_audit.adapters.store import AuditRow, AuditStore


class AuditMetrics:
    def __init__(self, base: ServiceMetrics) -> None:
        r = base.registry
        self.chain_length = Gauge(
            "vigie_audit_chain_length", "Entries in the hash chain (sampled)", registry=r
        )
        self.verify_ok = Gauge(
            "vigie_audit_chain_verify_ok",
            "1 if the last verification of the chain held, 0 if it found a broken link",
            registry=r,
        )
        self.verify_time = Gauge(
            "vigie_audit_chain_verify_timestamp_seconds",
            "When the chain was last verified (Unix time; 0 = not since start)",
            registry=r,
        )
        self.verify_checked = Gauge(
            "vigie_audit_chain_verify_checked", "Entries the last verification went through", registry=r
        )

    def verified(self, ok: bool, checked: int) -> None:
        self.verify_ok.set(1 if ok else 0)
        self.verify_checked.set(checked)
        self.verify_time.set(time.time())

    def chain_probe(self, store: AuditStore) -> Probe:
        async def probe() -> None:
            async with store.sessions() as session:
                length = await session.scalar(select(func.count()).select_from(AuditRow))
            self.chain_length.set(length or 0)

        return probe
