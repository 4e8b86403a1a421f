"""Generic signed JSON for any source without a connector of its own (CONTRACT.md).

The sender signs the bytes of `X-Vigie-Timestamp` (Unix seconds) immediately followed by the raw
body, with HMAC-SHA256 under the shared secret, and sends `X-Vigie-Signature: sha256=<hex>`. The
timestamp must be within five minutes of ours. The body is a `GenericDelivery`: its `id`, when set,
is the idempotency key a retry must keep.

Anyone holding the secret can post for any community it names, so in production each secret is
bound to the communities it may speak for: `VIGIE_GENERIC_WEBHOOK_SECRET=forum-a|forum-b=<secret>`.
Several entries are comma-separated (one sender each, or a rotation); a bare `<secret>` means "any
community" and is refused in production by ingest's settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from vigie_shared.events.v1 import Author, CommentChange, CommentReceived, CommentRef, NonEmpty, Platform

from vigie_platforms.inbound.connector import Delivery, InboundConnector, Secret, Verified
from vigie_platforms.inbound.errors import MalformedPayload, Unauthenticated
from vigie_platforms.inbound.normalise import Pseudonymiser, delivery_key, display_name, nfc
from vigie_platforms.inbound.outcome import Comments, Item
from vigie_platforms.inbound.signatures import (
    BAD,
    NOT_CONFIGURED,
    matches,
    parse_unix_seconds,
    require_fresh,
    require_hmac,
    require_signature_header,
)

TIMESTAMP_HEADER = "x-vigie-timestamp"
SIGNATURE_HEADER = "x-vigie-signature"
DEFAULT_MAX_SKEW = 300.0
BINDING, COMMUNITY_SEPARATOR = "=", "|"


def parse_secret(entry: bytes) -> Secret:
    """`community1|community2=secret` (bound) or a bare `secret` (any community).

    Split at the first `=`, so a bound secret may itself contain `=` (base64 padding); a bare one
    cannot. Raises ValueError, naming no part of the value, on an empty community or secret.
    """
    communities, separator, secret = entry.partition(BINDING.encode())
    if not separator:
        return Secret(entry)
    names = frozenset(part.strip().decode() for part in communities.split(COMMUNITY_SEPARATOR.encode()))
    if not secret.strip() or "" in names:
        raise ValueError("a generic webhook secret entry has an empty community or secret")
    return Secret(secret.strip(), names)


def parse_secrets(values: Sequence[bytes]) -> tuple[Secret, ...]:
    return tuple(parse_secret(value) for value in values)


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


def verify_bound(
    secrets: tuple[Secret, ...],
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: float,
    max_skew: float,
) -> frozenset[str] | None:
    """Like `verify`, and returns what the matching secrets may speak for (None: any community)."""
    sent_at = parse_unix_seconds(timestamp)
    if not secrets:
        raise Unauthenticated(NOT_CONFIGURED)
    presented = require_signature_header(signature, "sha256=")
    signed = (timestamp or "").strip().encode() + body
    matched = [
        secret
        for secret, ok in zip(secrets, matches([s.value for s in secrets], signed, presented), strict=True)
        if ok
    ]
    if not matched:
        raise Unauthenticated(BAD)
    require_fresh(sent_at, now, max_skew)
    if any(secret.communities is None for secret in matched):
        return None
    # One value bound twice (two entries, same secret) may speak for the communities of both.
    return frozenset().union(*(secret.communities or () for secret in matched))


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


class GenericWebhook(InboundConnector):
    name = "generic"
    summary = "Any source signing X-Vigie-Timestamp + body with HMAC-SHA256"
    setting = "generic_webhook_secret"
    window_setting = "generic_max_skew_seconds"
    headers = frozenset({SIGNATURE_HEADER, TIMESTAMP_HEADER})
    body_model = GenericDelivery

    def secrets(self, values: Sequence[bytes]) -> tuple[Secret, ...]:
        return parse_secrets(values)

    def verify(self, delivery: Delivery, secrets: tuple[Secret, ...], *, window: float | None) -> Verified:
        communities = verify_bound(
            secrets,
            delivery.body,
            delivery.header(SIGNATURE_HEADER),
            delivery.header(TIMESTAMP_HEADER),
            now=delivery.received_at.timestamp(),
            max_skew=DEFAULT_MAX_SKEW if window is None else window,
        )
        return Verified(communities=communities)

    def normalise(
        self, payload: dict[str, Any], delivery: Delivery, verified: Verified, pseudonymise: Pseudonymiser
    ) -> Comments:
        return normalise(payload, received_at=delivery.received_at, pseudonymise=pseudonymise)


CONNECTOR = GenericWebhook()
