from __future__ import annotations

from datetime import UTC, datetime

import pytest
from vigie_shared.events import DuplicateEventType, Envelope, EnvelopeError, EventData, registered
from vigie_shared.events.registry import register
from vigie_shared.events.schemas import main as schemas_main
from vigie_shared.events.v1 import (
    TOPICS,
    Author,
    CommentReceived,
    CommentRef,
    Platform,
)


def comment(text: str = "Bonjour, où est ma commande ?") -> CommentReceived:
    now = datetime.now(UTC)
    return CommentReceived(
        comment=CommentRef(
            platform=Platform.FACEBOOK, community="page-1", thread_id="post-9", comment_id="c-1"
        ),
        author=Author(pseudonym="psn_abc", display_name="Zoé"),
        text=text,
        created_at=now,
        received_at=now,
    )


def test_committed_schemas_match_the_models() -> None:
    assert schemas_main(["--check"]) == 0


def test_every_registered_type_has_a_topic() -> None:
    assert set(registered()) == set(TOPICS)


def test_registry_refuses_a_duplicate_type() -> None:
    with pytest.raises(DuplicateEventType, match=r"comment\.received"):

        @register("comment.received", 1)
        class Impostor(EventData):
            pass


def test_envelope_round_trips_through_headers_and_body() -> None:
    event = Envelope.wrap(comment(), source="vigie/test", correlationid="corr-1")
    headers = {name: value.decode() for name, value in event.headers()}
    assert headers["ce_type"] == "comment.received"
    assert headers["ce_correlationid"] == "corr-1"
    assert headers["ce_specversion"] == "1.0"
    decoded = Envelope.decode(headers, event.body())
    assert decoded.id == event.id
    assert decoded.data == event.data
    assert decoded.data.key() == "facebook:page-1:post-9"  # type: ignore[attr-defined]


def test_decode_names_what_is_wrong() -> None:
    event = Envelope.wrap(comment(), source="vigie/test", correlationid="c")
    headers = {name: value.decode() for name, value in event.headers()}
    with pytest.raises(EnvelopeError, match="missing header ce_id"):
        Envelope.decode({k: v for k, v in headers.items() if k != "ce_id"}, event.body())
    with pytest.raises(EnvelopeError, match="unknown event type"):
        Envelope.decode({**headers, "ce_type": "comment.exploded"}, event.body())
    with pytest.raises(EnvelopeError, match=r"invalid comment\.received body"):
        Envelope.decode(headers, b'{"text": 3}')


def test_timestamps_must_carry_a_timezone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        CommentReceived(
            comment=CommentRef(platform=Platform.SLACK, community="T1", thread_id="C1", comment_id="1"),
            author=Author(pseudonym="psn_x"),
            text="hi",
            created_at=datetime(2026, 1, 1),
            received_at=datetime.now(UTC),
        )
