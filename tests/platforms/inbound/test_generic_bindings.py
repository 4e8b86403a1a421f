"""Generic-webhook secrets bound to communities: parsing, and what a matching secret may post for."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from vigie_platforms.generic.inbound import CONNECTOR, parse_secret, parse_secrets
from vigie_platforms.inbound.connector import COMMUNITY_NOT_ALLOWED, Delivery, Secret, receive
from vigie_platforms.inbound.errors import Forbidden, Unauthenticated

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_entries_bind_secrets_to_communities() -> None:
    assert parse_secret(b"forum-a|forum-b=s3cret") == Secret(b"s3cret", frozenset({"forum-a", "forum-b"}))
    assert parse_secret(b" forum-a =s3cret ") == Secret(b"s3cret", frozenset({"forum-a"}))
    # Split at the first `=`: base64 padding stays in the secret.
    assert parse_secret(b"forum-a=c2VjcmV0==") == Secret(b"c2VjcmV0==", frozenset({"forum-a"}))
    assert parse_secret(b"bare-secret") == Secret(b"bare-secret", None)


@pytest.mark.parametrize("entry", [b"=s3cret", b"forum-a|=s3cret", b"forum-a=", b"forum-a=  "])
def test_an_empty_community_or_secret_is_refused_without_echoing_it(entry: bytes) -> None:
    with pytest.raises(ValueError, match="empty community or secret") as refused:
        parse_secret(entry)
    assert "s3cret" not in str(refused.value)


def test_a_secret_repr_shows_no_value() -> None:
    assert "s3cret" not in repr(parse_secret(b"forum-a=s3cret"))


def delivery(communities: list[str], secret: bytes, at: datetime = NOW) -> Delivery:
    body = json.dumps(
        {
            "id": "d-1",
            "comments": [
                {
                    "community": community,
                    "thread_id": "t",
                    "comment_id": f"c-{index}",
                    "author": {"id": "u"},
                    "text": "hello",
                }
                for index, community in enumerate(communities)
            ],
        }
    ).encode()
    timestamp = str(int(at.timestamp()))
    signature = hmac.new(secret, timestamp.encode() + body, hashlib.sha256).hexdigest()
    return Delivery(body, {"x-vigie-timestamp": timestamp, "x-vigie-signature": f"sha256={signature}"}, at)


def run(item: Delivery, entries: list[bytes]) -> Any:
    return receive(
        CONNECTOR, item, parse_secrets(entries), window=300, pseudonymiser=lambda: lambda p, u: "psn"
    )


def test_a_bound_secret_posts_for_its_own_communities() -> None:
    entries = [b"forum-a|forum-b=key-ab", b"forum-c=key-c"]
    outcome = run(delivery(["forum-a", "forum-b"], b"key-ab"), entries)
    assert [item.comment.comment.community for item in outcome.items] == ["forum-a", "forum-b"]


@pytest.mark.parametrize("communities", [["forum-c"], ["forum-a", "forum-c"]])
def test_a_bound_secret_cannot_post_for_another_community(communities: list[str]) -> None:
    with pytest.raises(Forbidden) as refused:
        run(delivery(communities, b"key-ab"), [b"forum-a|forum-b=key-ab", b"forum-c=key-c"])
    assert refused.value.reason == COMMUNITY_NOT_ALLOWED
    assert "forum" not in refused.value.reason


def test_one_value_bound_twice_may_post_for_both_bindings() -> None:
    outcome = run(delivery(["forum-a", "forum-c"], b"shared"), [b"forum-a=shared", b"forum-c=shared"])
    assert len(outcome.items) == 2


def test_a_bare_secret_posts_for_any_community() -> None:
    assert len(run(delivery(["anything"], b"bare"), [b"bare"]).items) == 1


def test_the_signature_is_checked_before_the_binding() -> None:
    with pytest.raises(Unauthenticated):
        run(delivery(["forum-a"], b"wrong"), [b"forum-a=key-a"])
