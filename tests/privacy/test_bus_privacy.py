"""The embedded bus's stored records: one person's erased, old ones purged, everything else intact."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigie_shared.bus.port import OutgoingRecord
from vigie_shared.bus.sqlite import SqliteBus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, Author, CommentReceived, CommentRef, Platform, ReplyDrafted
from vigie_shared.privacy import ERASED_TEXT
from vigie_shared.retention import Cutoffs


def received(
    comment_id: str, pseudonym: str, text: str, community: str = "page-1"
) -> Envelope[CommentReceived]:
    now = datetime.now(UTC)
    data = CommentReceived(
        comment=CommentRef(
            platform=Platform.FACEBOOK, community=community, thread_id="t", comment_id=comment_id
        ),
        author=Author(pseudonym=pseudonym, display_name=f"Name of {pseudonym}"),
        text=text,
        created_at=now,
        received_at=now,
    )
    return Envelope.wrap(data, source="vigie/test", correlationid=f"corr-{comment_id}")


def drafted(comment_id: str, text: str) -> Envelope[ReplyDrafted]:
    data = ReplyDrafted(
        comment=CommentRef(
            platform=Platform.FACEBOOK, community="page-1", thread_id="t", comment_id=comment_id
        ),
        draft_id=f"d-{comment_id}",
        text=text,
        source="faq",
        language="fr",
    )
    return Envelope.wrap(data, source="vigie/test", correlationid=f"corr-{comment_id}")


def record(event: Envelope[CommentReceived] | Envelope[ReplyDrafted]) -> OutgoingRecord:
    return OutgoingRecord(TOPICS[event.type], event.data.key(), event.body(), event.headers())


async def test_erasure_scrubs_the_persons_records_and_their_comments_other_events(tmp_path: Path) -> None:
    bus = SqliteBus(tmp_path / "bus.db")
    await bus.start()
    try:
        await bus.publish_many(
            [
                record(received("c1", "psn_me", "my words qq1")),
                record(drafted("c1", "a reply quoting qq1")),
                record(received("c2", "psn_you", "your words qq2")),
            ]
        )
        assert await bus.erase_subject("psn_me") == 2
        assert await bus.erase_subject("psn_me") == 0  # nothing left to do
    finally:
        await bus.close()
    data = (tmp_path / "bus.db").read_bytes()
    assert b"qq1" not in data and b"Name of psn_me" not in data and b"psn_me" not in data
    assert b"qq2" in data
    # The records still decode as their event types, for consumers that have not read them yet.
    bus = SqliteBus(tmp_path / "bus.db")
    await bus.start()
    consumer = bus.consumer("reader", [TOPICS["comment.received"], TOPICS["reply.drafted"]])
    await consumer.start()
    try:
        messages = await consumer.fetch(10, timeout=1)
        bodies = [json.loads(m.value) for m in messages]
        assert [b["text"] for b in bodies] == [ERASED_TEXT, ERASED_TEXT, "your words qq2"]
        for message in messages:
            Envelope.decode(message.headers, message.value)
    finally:
        await consumer.stop()
        await bus.close()


async def test_retention_scrubs_records_older_than_their_communitys_window(tmp_path: Path) -> None:
    bus = SqliteBus(tmp_path / "bus.db")
    await bus.start()
    try:
        await bus.publish_many([record(received("c1", "psn_a", "short window rr1", community="short"))])
        await bus.publish_many([record(received("c2", "psn_b", "long window rr2", community="long"))])
        later = datetime.fromtimestamp(time.time(), UTC) + timedelta(days=2)
        assert await bus.purge_expired(Cutoffs.at(later, {"short": 1, "long": 30})) == 1
        assert await bus.purge_expired(Cutoffs.at(later, {"short": 1, "long": 30})) == 0
    finally:
        await bus.close()
    data = (tmp_path / "bus.db").read_bytes()
    assert b"rr1" not in data and b"rr2" in data
