"""Two ingest replicas on one database: a webhook redelivered to the other replica is recognised."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ingest import signing
from tests.ingest.conftest import comments, fresh_postgres, make_settings, published
from tests.ingest.test_generic import delivery

pytestmark = pytest.mark.postgres


async def test_replicas_sharing_postgres_dedupe_a_redelivery(
    tmp_path: Path, postgres_url: str, start: Callable[..., Any]
) -> None:
    async with fresh_postgres(postgres_url) as url:
        # One bus file, two replicas, each with its own local directory: only the database is shared.
        first = make_settings(tmp_path, database_url=url, idempotency_db_path=tmp_path / "a" / "state.db")
        second = make_settings(tmp_path, database_url=url, idempotency_db_path=tmp_path / "b" / "state.db")
        async with start(first) as one, start(second) as two:
            answer = await one.post("/webhooks/generic", signing.generic(delivery()))
            assert answer.status_code == 200, answer.text
            assert answer.json()["published"] == 1
            # The key is written behind; the platform's retry comes later than that anyway.
            await _written(one)
            again = await two.post("/webhooks/generic", signing.generic(delivery()))
            assert again.status_code == 200, again.text
            assert again.json()["published"] == 0
            assert again.json()["duplicates"] == 1
        assert len(comments(await published(first))) == 1
        assert not (tmp_path / "a" / "state.db").exists()  # no per-pod file when the database is set


async def _written(running: Any) -> None:
    store = running.app.state.ingest.store
    for _ in range(100):
        if not store._unwritten:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("idempotency keys were never written")
