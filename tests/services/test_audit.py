from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from vigie_audit.adapters.store import AuditRow, AuditStore, NewEntry
from vigie_audit.domain.chain import GENESIS, ChainedEntry, entry_hash, verify
from vigie_shared.db import create_engine, session_factory


def chain(n: int) -> list[ChainedEntry]:
    entries = []
    prev = GENESIS
    for seq in range(1, n + 1):
        fields = {
            "event_id": f"e{seq}",
            "event_type": "comment.received",
            "source": "vigie/test",
            "time": "2026-11-30T00:00:00+00:00",
            "correlation_id": "c",
            "body": {"n": seq},
        }
        digest = entry_hash(prev, **fields)  # type: ignore[arg-type]
        entries.append(ChainedEntry(seq=seq, prev_hash=prev, hash=digest, **fields))  # type: ignore[arg-type]
        prev = digest
    return entries


def test_an_untouched_chain_verifies() -> None:
    assert verify(chain(5)).ok


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda es: es.__setitem__(2, replace(es[2], body={"n": "changed"})), "content"),
        (lambda es: es.pop(2), "link"),
        (lambda es: es.__setitem__(slice(1, 3), [es[2], es[1]]), "link"),
    ],
    ids=["edited", "removed", "reordered"],
)
def test_any_edit_removal_or_reordering_is_caught(tamper: object, problem: str) -> None:
    entries = chain(5)
    tamper(entries)  # type: ignore[operator]
    result = verify(entries)
    assert not result.ok
    assert problem in (result.problem or "")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[AuditStore]:
    engine = create_engine(database_url)
    store = AuditStore(engine)
    await store.migrate()
    yield store
    await engine.dispose()


def entry(event_id: str, body: dict[str, object]) -> NewEntry:
    return NewEntry(
        event_id=event_id,
        event_type="comment.received",
        topic="vigie.comments.received.v1",
        record_key="k",
        source="vigie/test",
        time="2026-11-30T00:00:00+00:00",
        correlation_id="corr",
        community="page-1",
        body=dict(body),
        recorded_at=datetime.now(UTC),
    )


async def append(store: AuditStore, event_id: str, body: dict[str, object]) -> bool:
    return await store.append(entry(event_id, body)) == 1


async def test_the_store_appends_each_event_once_and_detects_a_rewrite(store: AuditStore) -> None:
    assert await append(store, "e1", {"text": "un"})
    assert await append(store, "e2", {"text": "deux"})
    assert not await append(store, "e1", {"text": "un"})  # redelivery
    entries = [e async for e in store.stream()]
    assert [e.event_id for e in entries] == ["e1", "e2"]
    assert verify(entries).ok
    # Someone with database access rewrites history: the chain says where.
    sessions = session_factory(store._engine)
    async with sessions.begin() as session:
        await session.execute(
            update(AuditRow).where(AuditRow.event_id == "e1").values(body={"text": "autre"})
        )
    result = verify([e async for e in store.stream()])
    assert not result.ok
    assert result.first_bad_seq == entries[0].seq


async def test_a_batch_is_chained_in_order_and_skips_what_is_already_there(store: AuditStore) -> None:
    assert await append(store, "a", {"n": 0})
    batch = [entry("b", {"n": 1}), entry("a", {"n": 0}), entry("c", {"n": 2}), entry("b", {"n": 1})]
    assert await store.append(*batch) == 2
    entries = [e async for e in store.stream()]
    assert [e.event_id for e in entries] == ["a", "b", "c"]
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert verify(entries).ok
