from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from vigie_audit.adapters.checkpoints import Checkpointer, CheckpointFile
from vigie_audit.adapters.store import AuditRow, AuditStore, NewEntry, PersonalRow
from vigie_audit.domain.chain import GENESIS, ChainedEntry, ChainKey, Personal, Record, chain_entry, verify
from vigie_audit.domain.checkpoint import CheckpointSigner, signature_ok
from vigie_audit.verification import Anchor, verify_log
from vigie_shared.db import create_engine, session_factory
from vigie_shared.retention import Cutoffs

KEY = ChainKey(b"test-chain-key-0123456789abcdef0123")


def chain(n: int, key: ChainKey = KEY) -> list[ChainedEntry]:
    entries = []
    prev = GENESIS
    for seq in range(1, n + 1):
        personal = Personal(salt=f"s{seq}", fields={"text": f"texte {seq}", "author.display_name": "Zoé"})
        record = Record(
            seq=seq,
            event_id=f"e{seq}",
            event_type="comment.received",
            topic="vigie.comments.received.v1",
            record_key="facebook:page-1:t",
            source="vigie/test",
            time="2026-11-30T00:00:00+00:00",
            correlation_id="c",
            community="page-1",
            body={"n": seq},
            personal_digest=key.personal_digest(personal),
            recorded_at="2026-11-30T00:00:01+00:00",
            prev_hash=prev,
        )
        entry = chain_entry(key, record, personal)
        entries.append(entry)
        prev = entry.hash
    return entries


def test_an_untouched_chain_verifies() -> None:
    result = verify(chain(5), KEY)
    assert result.ok
    assert result.checked == 5
    assert result.last_seq == 5


@pytest.mark.parametrize(
    ("tamper", "problem", "bad_seq"),
    [
        (
            lambda es: es.__setitem__(2, replace(es[2], record=replace(es[2].record, body={"n": "x"}))),
            "content",
            3,
        ),
        (lambda es: es.pop(2), "sequence", 4),
        (lambda es: es.__setitem__(slice(1, 3), [es[2], es[1]]), "sequence", 3),
    ],
    ids=["edited", "removed", "reordered"],
)
def test_any_edit_removal_or_reordering_is_caught(tamper: Any, problem: str, bad_seq: int) -> None:
    entries = chain(5)
    tamper(entries)
    result = verify(entries, KEY)
    assert not result.ok
    assert result.first_bad_seq == bad_seq
    assert problem in (result.problem or "")


COLUMNS: dict[str, Any] = {
    "event_id": "other",
    "event_type": "moderation.decided",
    "topic": "vigie.other.v1",
    "record_key": "facebook:page-2:t",
    "source": "vigie/forged",
    "time": "2026-12-01T00:00:00+00:00",
    "correlation_id": "c2",
    "community": "page-2",
    "body": {"n": 99},
    "personal_digest": "0" * 64,
    "recorded_at": "2026-12-01T00:00:00+00:00",
}


@pytest.mark.parametrize("column", sorted(COLUMNS))
def test_every_column_is_covered_by_the_hash(column: str) -> None:
    entries = chain(4)
    entries[1] = replace(entries[1], record=replace(entries[1].record, **{column: COLUMNS[column]}))
    result = verify(entries, KEY)
    assert not result.ok
    assert result.first_bad_seq == 2


def test_edited_personal_fields_are_caught_and_erased_ones_are_not_an_error() -> None:
    entries = chain(3)
    held = entries[1].personal
    assert held is not None
    edited = [*entries]
    edited[1] = replace(entries[1], personal=Personal(held.salt, {**held.fields, "text": "autre"}))
    assert verify(edited, KEY).problem == "personal fields do not match their digest"
    erased = [*entries]
    erased[1] = replace(entries[1], personal=None)
    result = verify(erased, KEY)
    assert result.ok
    assert result.erased == 1


def test_a_log_rewritten_and_rechained_without_the_key_is_caught() -> None:
    forged = chain(4, ChainKey(b"a key the forger made up"))
    result = verify(forged, KEY)
    assert not result.ok
    assert result.first_bad_seq == 1


def test_checkpoint_signatures_hold_only_for_their_key_and_content() -> None:
    signer = CheckpointSigner(bytes(range(32)))
    checkpoint = signer.sign(seq=5, hash="a" * 64, at="2026-12-01T00:00:00+00:00", key_id=KEY.fingerprint())
    assert signature_ok(checkpoint, signer.public_key)
    assert not signature_ok(replace(checkpoint, seq=4), signer.public_key)
    other = CheckpointSigner(bytes(32))
    forged = other.sign(seq=5, hash="b" * 64, at=checkpoint.at, key_id=checkpoint.key_id)
    assert signature_ok(forged)  # self-consistent...
    assert not signature_ok(forged, signer.public_key)  # ...but not under the key the operator trusts


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[AuditStore]:
    engine = create_engine(database_url)
    store = AuditStore(engine).configure(KEY, b"redaction-key")
    await store.migrate()
    yield store
    await engine.dispose()


def entry(event_id: str, body: dict[str, object], *, key: str = "k", correlation: str = "corr") -> NewEntry:
    return NewEntry(
        event_id=event_id,
        event_type="comment.received",
        topic="vigie.comments.received.v1",
        record_key=key,
        source="vigie/test",
        time="2026-11-30T00:00:00+00:00",
        correlation_id=correlation,
        community="page-1",
        body=dict(body),
        recorded_at=datetime.now(UTC),
    )


def comment_body(text: str, pseudonym: str = "psn_1", name: str = "Zoé") -> dict[str, object]:
    return {
        "comment": {"platform": "facebook", "community": "page-1", "thread_id": "t", "comment_id": text[:8]},
        "author": {"pseudonym": pseudonym, "display_name": name},
        "text": text,
    }


async def append(store: AuditStore, event_id: str, body: dict[str, object]) -> bool:
    """One event per comment: each gets its own correlation id."""
    return await store.append(entry(event_id, body, correlation=f"corr-{event_id}")) == 1


async def entries(store: AuditStore) -> list[ChainedEntry]:
    return [e async for e in store.stream(page=2)]


async def test_the_store_appends_each_event_once_and_detects_a_rewrite(store: AuditStore) -> None:
    assert await append(store, "e1", {"text": "un"})
    assert await append(store, "e2", {"text": "deux"})
    assert not await append(store, "e1", {"text": "un"})  # redelivery
    stored = await entries(store)
    assert [e.record.event_id for e in stored] == ["e1", "e2"]
    assert verify(stored, store.chain_key).ok
    # Someone with database access rewrites history: the chain says where.
    sessions = session_factory(store.engine)
    async with sessions.begin() as session:
        await session.execute(update(AuditRow).where(AuditRow.event_id == "e1").values(body={"n": 1}))
    result = verify(await entries(store), store.chain_key)
    assert not result.ok
    assert result.first_bad_seq == stored[0].seq


async def test_a_batch_is_chained_in_order_and_skips_what_is_already_there(store: AuditStore) -> None:
    assert await append(store, "a", {"n": 0})
    batch = [entry("b", {"n": 1}), entry("a", {"n": 0}), entry("c", {"n": 2}), entry("b", {"n": 1})]
    assert await store.append(*batch) == 2
    stored = await entries(store)
    assert [e.record.event_id for e in stored] == ["a", "b", "c"]
    assert [e.seq for e in stored] == [1, 2, 3]
    assert verify(stored, store.chain_key).ok


STORED_COLUMNS: dict[str, Any] = {
    "event_id": "forged",
    "event_type": "moderation.decided",
    "topic": "vigie.other.v1",
    "record_key": "facebook:page-2:t",
    "source": "vigie/forged",
    "time": "2026-12-01T00:00:00+00:00",
    "correlation_id": "c2",
    "community": "page-2",
    "body": {"comment": {"community": "page-2"}},
    "personal_digest": "0" * 64,
    "prev_hash": "1" * 64,
    "recorded_at": datetime(2026, 1, 1, tzinfo=UTC),
}


@pytest.mark.parametrize("column", sorted(STORED_COLUMNS))
async def test_tampering_with_any_stored_column_is_detected(store: AuditStore, column: str) -> None:
    for n in range(3):
        await append(store, f"e{n}", comment_body(f"commentaire {n}"))
    async with session_factory(store.engine).begin() as session:
        await session.execute(
            update(AuditRow).where(AuditRow.seq == 2).values({column: STORED_COLUMNS[column]})
        )
    result = (await verify_log(store)).verification
    assert not result.ok
    assert result.first_bad_seq == 2


async def test_personal_fields_live_apart_and_their_erasure_keeps_the_chain_valid(store: AuditStore) -> None:
    await append(store, "e1", comment_body("Écrivez-moi à zoe@example.org", pseudonym="psn_zoe"))
    await append(store, "e2", comment_body("autre", pseudonym="psn_other"))
    async with session_factory(store.engine)() as session:
        row = await session.get(AuditRow, 1)
        personal = await session.get(PersonalRow, 1)
    assert row is not None and personal is not None
    assert "text" not in row.body and "author" in row.body and "display_name" not in row.body["author"]
    assert personal.subject == "facebook:psn_zoe"
    # Redacted at rest, with a keyed hash that still matches the same address later.
    assert "zoe@example.org" not in personal.fields["text"]
    assert personal.fields["text"].startswith("Écrivez-moi à [email:")
    [event] = await store.subject_events("facebook:psn_zoe")
    assert event.body["author"]["display_name"] == "Zoé"

    assert await store.erase_subject("facebook", "psn_zoe") == {"audit_personal": 1}
    result = (await verify_log(store)).verification
    assert result.ok
    assert result.erased == 1
    page = await store.events(correlation_id=None, event_type=None, communities=None, after=0, limit=10)
    assert page[0].erased and "text" not in page[0].body
    assert page[1].body["text"] == "autre"


async def test_tampering_with_held_personal_fields_is_detected(store: AuditStore) -> None:
    await append(store, "e1", comment_body("bonjour"))
    async with session_factory(store.engine).begin() as session:
        await session.execute(
            update(PersonalRow).where(PersonalRow.seq == 1).values(fields={"text": "au revoir"})
        )
    result = (await verify_log(store)).verification
    assert result.problem == "personal fields do not match their digest"


async def test_rechaining_without_the_key_is_detected(store: AuditStore) -> None:
    for n in range(4):
        await append(store, f"e{n}", {"n": n})
    # The forger rewrites entry 2 and recomputes every later hash, with the only key they have.
    forger = ChainKey(b"guessed")
    stored = await entries(store)
    prev = stored[0].hash
    async with session_factory(store.engine).begin() as session:
        for old in stored[1:]:
            body = {"n": 100} if old.seq == 2 else old.record.body
            record = replace(old.record, body=body, prev_hash=prev)
            forged = chain_entry(forger, record, None)
            await session.execute(
                update(AuditRow)
                .where(AuditRow.seq == old.seq)
                .values(body=body, prev_hash=prev, hash=forged.hash)
            )
            prev = forged.hash
    result = (await verify_log(store)).verification
    assert not result.ok
    assert result.first_bad_seq == 2


async def test_a_cut_tail_or_a_rechain_with_the_key_is_caught_by_a_checkpoint(
    store: AuditStore, tmp_path: Path
) -> None:
    for n in range(5):
        await append(store, f"e{n}", {"n": n})
    signer = CheckpointSigner(bytes(range(32)))
    checkpointer = Checkpointer(store, signer, CheckpointFile(tmp_path / "cp.jsonl"), interval=60)
    checkpoint = await checkpointer.checkpoint()
    assert checkpoint is not None and checkpoint.seq == 5
    assert CheckpointFile(tmp_path / "cp.jsonl").latest() == checkpoint
    anchor = Anchor(checkpoint.seq, checkpoint.hash, "file", signature_ok(checkpoint, signer.public_key))
    assert (await verify_log(store, anchor=anchor)).anchor.ok  # type: ignore[union-attr]

    # Whoever holds the key (an insider) rewrites entry 4 and re-chains: the chain holds, the checkpoint not.
    stored = await entries(store)
    async with session_factory(store.engine).begin() as session:
        prev = stored[2].hash
        for old in stored[3:]:
            record = replace(old.record, body={"n": -1} if old.seq == 4 else old.record.body, prev_hash=prev)
            rechained = chain_entry(store.chain_key, record, None)
            await session.execute(
                update(AuditRow)
                .where(AuditRow.seq == old.seq)
                .values(body=record.body, prev_hash=prev, hash=rechained.hash)
            )
            prev = rechained.hash
    report = await verify_log(store, anchor=anchor)
    assert report.verification.ok
    assert report.anchor is not None and not report.anchor.ok
    assert report.anchor.problem == "entry differs from the checkpoint"

    # Cutting the tail off passes the chain but not the checkpoint either.
    async with session_factory(store.engine).begin() as session:
        await session.execute(delete(AuditRow).where(AuditRow.seq >= 4))
    report = await verify_log(store, anchor=anchor)
    assert report.verification.ok
    assert report.anchor is not None and "ends at 3" in (report.anchor.problem or "")


async def test_a_range_verifies_on_its_own_and_still_catches_a_break_inside(store: AuditStore) -> None:
    for n in range(10):
        await append(store, f"e{n}", {"n": n})
    report = await verify_log(store, from_seq=4, to_seq=7, page=2)
    assert report.verification.ok and report.verification.checked == 4
    assert report.verification.last_seq == 7
    async with session_factory(store.engine).begin() as session:
        await session.execute(update(AuditRow).where(AuditRow.seq == 6).values(source="x"))
    assert (await verify_log(store, from_seq=4, to_seq=7)).verification.first_bad_seq == 6
    assert (await verify_log(store, from_seq=8)).verification.ok
    # The entry a range hangs off is checked too.
    assert (await verify_log(store, from_seq=7)).verification.first_bad_seq == 6


async def test_keys_of_any_length_the_schema_allows_are_stored(store: AuditStore) -> None:
    # platform (<=32) : community (<=512) : thread (<=512)
    long_key = "facebook:" + "c" * 512 + ":" + "t" * 512
    assert await store.append(entry("long", {"n": 1}, key=long_key)) == 1
    [stored] = await entries(store)
    assert stored.record.record_key == long_key
    assert verify([stored], store.chain_key).ok


async def test_retention_purges_old_personal_fields_per_community(store: AuditStore) -> None:
    now = datetime.now(UTC)
    old = replace(entry("old", comment_body("ancien")), recorded_at=now - timedelta(days=40))
    other = replace(
        entry("other", comment_body("ailleurs")), community="page-2", recorded_at=now - timedelta(days=40)
    )
    fresh = entry("fresh", comment_body("récent"))
    await store.append(old, other, fresh)
    purged = await store.purge_expired(Cutoffs.at(now, {"page-1": 30, "*": 365}))
    assert purged == {"audit_personal": 1}
    async with session_factory(store.engine)() as session:
        left = set(await session.scalars(select(PersonalRow.seq)))
    assert left == {2, 3}
    assert (await verify_log(store)).verification.ok


WRITER = textwrap.dedent(
    """
    import asyncio, sys, time
    from datetime import UTC, datetime
    from vigie_audit.adapters.store import AuditStore, NewEntry
    from vigie_audit.domain.chain import ChainKey
    from vigie_shared.db import create_engine

    async def main(url, name, count, start):
        engine = create_engine(url)
        store = AuditStore(engine).configure(ChainKey(b"test-chain-key-0123456789abcdef0123"))
        await store.head()  # connected and warm before the start line
        time.sleep(max(0.0, start - time.time()))
        for n in range(0, count, 2):
            batch = [
                NewEntry(f"{name}-{m}", "comment.received", "t", "k", "s", "2026", "c", None, {"n": m},
                         datetime.now(UTC))
                for m in range(n, n + 2)
            ]
            await store.append(*batch)
        await engine.dispose()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
    """
)


@pytest.mark.slow
async def test_two_processes_on_one_sqlite_file_do_not_fork_the_chain(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/audit.db"
    engine = create_engine(url)
    store = AuditStore(engine).configure(KEY)
    await store.migrate()
    # Both start appending at the same instant, once their interpreters are up.
    start = str(time.time() + 8)
    writers = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, url, name, "200", start)
        for name in ("left", "right")
    ]
    codes = [await writer.wait() for writer in writers]
    assert codes == [0, 0]
    result = (await verify_log(store)).verification
    assert result.ok, result
    assert result.checked == 400
    await engine.dispose()


async def test_an_export_holds_every_entry_of_the_persons_comments(store: AuditStore) -> None:
    await store.append(
        entry("said", comment_body("bonjour", pseudonym="psn_me"), correlation="mine"),
        entry("acted", {"comment": {"platform": "facebook"}, "kind": "hide"}, correlation="mine"),
        entry("other", comment_body("salut", pseudonym="psn_you"), correlation="yours"),
    )
    events = await store.subject_events("facebook:psn_me")
    assert [e.event_id for e in events] == ["said", "acted"]
    assert [e.personal for e in events] == [True, False]
