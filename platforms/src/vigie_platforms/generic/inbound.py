"""Generic signed JSON for any source without a connector of its own (CONTRACT.md).

The sender signs the bytes of `X-Vigie-Timestamp` (Unix seconds) immediately followed by the raw
body, with HMAC-SHA256 under the shared secret, and sends `X-Vigie-Signature: sha256=<hex>`. The
timestamp must be within five minutes of ours. The body is a `GenericDelivery`: its `id`, when set,
is the idempotency key a retry must keep.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from vigie_shared.events.v1 import Author, CommentChange, CommentReceived, CommentRef, NonEmpty, Platform

from vigie_platforms.inbound.errors import MalformedPayload
from vigie_platforms.inbound.normalise import Pseudonymiser, delivery_key, display_name, nfc
from vigie_platforms.inbound.outcome import Comments, Item
from vigie_platforms.inbound.signatures import parse_unix_seconds, require_fresh, require_hmac

TIMESTAMP_HEADER = "x-vigie-timestamp"
SIGNATURE_HEADER = "x-vigie-signature"


class GenericAuthor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: NonEmpty = Field(description="the source's user id; pseudonymised, never published")
    display_name: str | None = Field(default=None, max_length=256)


class GenericComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    community: NonEmpty
    thread_id: NonEmpty
    comment_id: NonEmpty
    change: CommentChange = CommentChange.CREATED
    parent_id: NonEmpty | None = None
    author: GenericAuthor
    text: str = Field(max_length=65_536)
    language: str | None = Field(default=None, max_length=35, description="BCP 47 hint")
    created_at: AwareDatetime | None = None
    permalink: str | None = Field(default=None, max_length=2_048)


class GenericDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: NonEmpty | None = Field(default=None, description="delivery id, kept across retries")
    comments: list[GenericComment] = Field(min_length=1, max_length=100)


def verify(
    secrets: tuple[bytes, ...],
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: float,
    max_skew: float,
) -> None:
    sent_at = parse_unix_seconds(timestamp)
    require_hmac(secrets, (timestamp or "").strip().encode() + body, signature)
    require_fresh(sent_at, now, max_skew)


def normalise(payload: dict[str, Any], *, received_at: datetime, pseudonymise: Pseudonymiser) -> Comments:
    try:
        delivery = GenericDelivery.model_validate(payload)
    except ValidationError:
        raise MalformedPayload("body does not match GenericDelivery") from None
    items = []
    for index, item in enumerate(delivery.comments):
        comment = CommentReceived(
            comment=CommentRef(
                platform=Platform.GENERIC,
                community=item.community,
                thread_id=item.thread_id,
                comment_id=item.comment_id,
            ),
            change=item.change,
            parent_id=item.parent_id,
            author=Author(
                pseudonym=pseudonymise("generic", item.author.id),
                display_name=display_name(item.author.display_name),
            ),
            text=nfc(item.text),
            language_hint=item.language,
            created_at=item.created_at or received_at,
            received_at=received_at,
            permalink=item.permalink,
            delivery_id=delivery.id,
        )
        key = delivery_key(comment, f"{delivery.id}:{index}" if delivery.id else None)
        items.append(Item(comment, key))
    return Comments(tuple(items))
