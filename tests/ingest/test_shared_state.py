"""Two ingest replicas on one database: a webhook redelivered to the other replica is recognised."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fresh_postgres
from tests.ingest import signing
from tests.ingest.conftest import comments, make_settings, published
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
            # The key is written behind within milliseconds; a platform's retry comes later anyway.
            await one.app.state.ingest.store.flush()
            again = await two.post("/webhooks/generic", signing.generic(delivery()))
            assert again.status_code == 200, again.text
            assert again.json()["published"] == 0
            assert again.json()["duplicates"] == 1
        assert len(comments(await published(first))) == 1
        assert not (tmp_path / "a" / "state.db").exists()  # no per-pod file when the database is set
