"""PostgreSQL goes away under audit: nothing is dead-lettered, /readyz says why, and it catches up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from vigie_shared.bus import open_bus
from vigie_shared.events.v1 import DEADLETTER_TOPIC

from tests.conftest import Tokens
from tests.faults.proxy import Proxy
from tests.services.apps import build, running
from tests.shared.test_bus_contract import collect, event, publish


async def _wait_for(check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > end:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_audit_waits_out_a_database_outage_and_loses_nothing(
    database_url: str, tmp_path: Path, tokens: Tokens
) -> None:
    target = urlparse(database_url.replace("postgresql+asyncpg", "postgresql"))
    proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    proxied = database_url.replace(f"{target.hostname}:{target.port}", f"127.0.0.1:{proxy.port}")
    app = build("audit", tmp_path, tokens, database_url=proxied)
    bus = open_bus(f"sqlite:///{tmp_path}/bus.db", client_id="feeder")
    await bus.start()
    auth = Tokens.header(tokens.auditor)
    try:
        async with running(app) as audit:

            async def recorded() -> int:
                response = await audit.client.get("/v1/audit/events?limit=1000", headers=auth)
                return len(response.json()["events"]) if response.status_code == 200 else -1

            async def count_is(n: int) -> bool:
                return await recorded() == n

            for n in range(2):
                await publish(bus, event("outage", n))
            await _wait_for(lambda: count_is(2))

            await proxy.cut()
            for n in range(2, 7):
                await publish(bus, event("outage", n))

            async def degraded() -> bool:
                ready = await audit.client.get("/readyz")
                reasons = ready.json().get("reasons", {})
                return ready.status_code == 503 and "paused" in reasons.get("consumers", "")

            await _wait_for(degraded, timeout=30)
            ready = (await audit.client.get("/readyz")).json()
            assert "unavailable" in ready["reasons"]["consumers"]
            assert "store" in ready["reasons"]
            await asyncio.sleep(3)  # the outage lasts a while, many backoff rounds
            paused = app.state.metrics.registry.get_sample_value(
                "vigie_audit_bus_consumer_paused", {"group": f"audit-{tmp_path.name}"}
            )
            assert paused == 1
            await proxy.restore()

            await _wait_for(lambda: count_is(7))
            verify = (await audit.client.get("/v1/audit/verify", headers=auth)).json()
            assert verify["ok"] is True
            assert verify["checked"] == 7

            async def ready_again() -> bool:
                return (await audit.client.get("/readyz")).status_code == 200

            await _wait_for(ready_again, timeout=30)
        assert await collect(bus, "dlq-reader", 1, topics=[DEADLETTER_TOPIC], deadline=2) == []
    finally:
        await bus.close()
        await proxy.close()
