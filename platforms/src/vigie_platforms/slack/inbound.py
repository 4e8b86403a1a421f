"""Slack Events API: `url_verification`, then `event_callback` deliveries of `message` events.

https://api.slack.com/authentication/verifying-requests-from-slack : `X-Slack-Signature: v0=<hex>`,
an HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` under the signing secret; requests
older than five minutes are refused as replays. Slack retries (`X-Slack-Retry-Num`) re-send the same
`event_id`, which is the idempotency key. Edits and deletions arrive as `message_changed` and
`message_deleted` subtypes carrying the original message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from vigie_shared.events.v1 import Author, CommentChange, CommentReceived, CommentRef, Platform

from vigie_platforms.inbound.connector import Delivery, InboundConnector, Secret, Verified, values
from vigie_platforms.inbound.errors import MalformedPayload
from vigie_platforms.inbound.normalise import (
    Pseudonymiser,
    delivery_key,
    from_unix,
    ident,
    nfc,
    opt_ident,
    opt_obj,
    opt_text,
)
from vigie_platforms.inbound.outcome import Comments, Handshake, Item, Outcome, Reply
from vigie_platforms.inbound.signatures import parse_unix_seconds, require_fresh, require_hmac

SIGNATURE_HEADER = "x-slack-signature"
TIMESTAMP_HEADER = "x-slack-request-timestamp"
RETRY_HEADER = "x-slack-retry-num"
RETRY_REASON_HEADER = "x-slack-retry-reason"
DEFAULT_MAX_SKEW = 300.0

# Subtypes that are a person writing; joins, topic changes, bot posts and the like are not comments.
_AUTHORED = frozenset({None, "thread_broadcast", "file_share", "me_message"})


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
    raw = (timestamp or "").strip().encode()
    require_hmac(secrets, b"v0:" + raw + b":" + body, signature, prefix="v0=")
    require_fresh(sent_at, now, max_skew)


def normalise(payload: dict[str, Any], *, received_at: datetime, pseudonymise: Pseudonymiser) -> Outcome:
    kind = payload.get("type")
    if kind == "url_verification":
        challenge = opt_text(payload, "challenge", "payload")
        if not challenge:
            raise MalformedPayload("url_verification without a challenge")
        return Handshake(Reply({"challenge": challenge}))
    if kind != "event_callback":
        return Comments(ignored=1)
    event = opt_obj(payload.get("event"), "event")
    comment = _message(payload, event, received_at, pseudonymise)
    if comment is None:
        return Comments(ignored=1)
    return Comments((Item(comment, delivery_key(comment, ident(payload, "event_id", "payload"))),))


def _message(
    payload: dict[str, Any], event: dict[str, Any], received_at: datetime, pseudonymise: Pseudonymiser
) -> CommentReceived | None:
    if event.get("type") != "message":
        return None
    subtype = event.get("subtype")
    if subtype is not None and not isinstance(subtype, str):
        raise MalformedPayload("event.subtype is not a string")
    if subtype == "message_changed":
        change, message = CommentChange.EDITED, opt_obj(event.get("message"), "event.message")
    elif subtype == "message_deleted":
        change = CommentChange.DELETED
        message = dict(opt_obj(event.get("previous_message"), "event.previous_message"))
        message.setdefault("ts", event.get("deleted_ts"))
        message["text"] = ""
    elif subtype in _AUTHORED:
        change, message = CommentChange.CREATED, event
    else:
        return None
    # Messages posted by apps (Vigie's own replies among them) are not moderated here.
    if message.get("bot_id") or message.get("subtype") == "bot_message":
        return None
    ts = ident(message, "ts", "message")
    thread_ts = opt_ident(message, "thread_ts")
    user = opt_ident(message, "user") or "unknown"
    return CommentReceived(
        comment=CommentRef(
            platform=Platform.SLACK,
            community=opt_ident(payload, "team_id") or ident(event, "team", "event"),
            thread_id=ident(event, "channel", "event"),
            comment_id=ts,
        ),
        change=change,
        parent_id=thread_ts if thread_ts and thread_ts != ts else None,
        author=Author(pseudonym=pseudonymise("slack", user)),
        text=nfc(opt_text(message, "text", "message")),
        created_at=from_unix(ts, received_at),
        received_at=received_at,
        delivery_id=opt_ident(payload, "event_id"),
    )


class SlackWebhook(InboundConnector):
    name = "slack"
    summary = "Slack Events API: url_verification and message events"
    setting = "slack_signing_secret"
    window_setting = "slack_max_skew_seconds"
    headers = frozenset({SIGNATURE_HEADER, TIMESTAMP_HEADER, RETRY_HEADER, RETRY_REASON_HEADER})
    # url_verification is answered with its challenge.
    reply_schema: ClassVar[dict[str, dict[str, Any]] | None] = {
        "application/json": {
            "title": "SlackChallenge",
            "type": "object",
            "required": ["challenge"],
            "properties": {"challenge": {"type": "string"}},
        }
    }

    def verify(self, delivery: Delivery, secrets: tuple[Secret, ...], *, window: float | None) -> Verified:
        verify(
            values(secrets),
            delivery.body,
            delivery.header(SIGNATURE_HEADER),
            delivery.header(TIMESTAMP_HEADER),
            now=delivery.received_at.timestamp(),
            max_skew=DEFAULT_MAX_SKEW if window is None else window,
        )
        return Verified()

    def normalise(
        self, payload: dict[str, Any], delivery: Delivery, verified: Verified, pseudonymise: Pseudonymiser
    ) -> Outcome:
        return normalise(payload, received_at=delivery.received_at, pseudonymise=pseudonymise)

    def retry_note(self, delivery: Delivery) -> dict[str, str]:
        retry = delivery.header(RETRY_HEADER)
        if retry is None:
            return {}
        return {"retry_num": retry[:8], "retry_reason": (delivery.header(RETRY_REASON_HEADER) or "")[:64]}


CONNECTOR = SlackWebhook()
