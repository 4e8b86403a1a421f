"""Twitch EventSub over webhooks: `channel.chat.message` notifications.

https://dev.twitch.tv/docs/eventsub/handling-webhook-events : `Twitch-Eventsub-Message-Signature:
sha256=<hex>` is an HMAC-SHA256 of message id + timestamp + raw body under the subscription secret;
messages older than ten minutes are refused and the message id is the idempotency key (a retry keeps
it). `webhook_callback_verification` is answered with the bare challenge as text/plain; `revocation`
says why Twitch dropped a subscription, which operators must see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from vigie_shared.events.v1 import Author, CommentReceived, CommentRef, Platform

from vigie_platforms.inbound.connector import Delivery, InboundConnector, Secret, Verified, values
from vigie_platforms.inbound.errors import MalformedPayload, Unauthenticated
from vigie_platforms.inbound.normalise import (
    Pseudonymiser,
    delivery_key,
    display_name,
    from_iso,
    ident,
    nfc,
    opt_ident,
    opt_obj,
    opt_text,
)
from vigie_platforms.inbound.outcome import Comments, Handshake, Item, Outcome, Reply, Revoked
from vigie_platforms.inbound.signatures import BAD_TIMESTAMP, MISSING, require_fresh, require_hmac

ID_HEADER = "twitch-eventsub-message-id"
TIMESTAMP_HEADER = "twitch-eventsub-message-timestamp"
SIGNATURE_HEADER = "twitch-eventsub-message-signature"
TYPE_HEADER = "twitch-eventsub-message-type"
RETRY_HEADER = "twitch-eventsub-message-retry"
DEFAULT_MAX_AGE = 600.0
BAD_MESSAGE_ID = "bad message id"

# Documented revocation reasons; anything else is counted as `other` to keep labels bounded.
REVOCATION_STATUSES = frozenset(
    {
        "user_removed",
        "authorization_revoked",
        "notification_failures_exceeded",
        "version_removed",
        "moderator_removed",
    }
)


def verify(
    secrets: tuple[bytes, ...],
    body: bytes,
    message_id: str | None,
    timestamp: str | None,
    signature: str | None,
    *,
    now: datetime,
    max_age: float,
) -> datetime:
    """Returns Twitch's send time once the message is proven authentic and fresh."""
    if secrets and (not message_id or not timestamp):
        raise Unauthenticated(MISSING)
    if not (message_id or "").isascii():
        raise Unauthenticated(BAD_MESSAGE_ID)
    if not (timestamp or "").isascii():
        raise Unauthenticated(BAD_TIMESTAMP)
    signed = (message_id or "").encode() + (timestamp or "").encode() + body
    require_hmac(secrets, signed, signature)
    try:
        sent_at = from_iso(timestamp, now)
    except MalformedPayload:
        raise Unauthenticated(BAD_TIMESTAMP) from None
    require_fresh(sent_at.timestamp(), now.timestamp(), max_age)
    return sent_at


def normalise(
    payload: dict[str, Any],
    *,
    message_type: str | None,
    message_id: str,
    sent_at: datetime,
    received_at: datetime,
    pseudonymise: Pseudonymiser,
) -> Outcome:
    subscription = opt_obj(payload.get("subscription"), "subscription")
    if message_type == "webhook_callback_verification":
        challenge = opt_text(payload, "challenge", "payload")
        if not challenge:
            raise MalformedPayload("verification without a challenge")
        return Handshake(Reply(challenge, media_type="text/plain"))
    if message_type == "revocation":
        status = str(subscription.get("status") or "")
        return Revoked(
            status=status if status in REVOCATION_STATUSES else "other",
            subscription_type=str(subscription.get("type") or "unknown")[:64],
            extra={"subscription_id": str(subscription.get("id") or "")[:64], "raw_status": status[:64]},
        )
    if message_type != "notification" or subscription.get("type") != "channel.chat.message":
        return Comments(ignored=1)
    event = opt_obj(payload.get("event"), "event")
    comment = _chat_message(event, message_id, sent_at, received_at, pseudonymise)
    return Comments((Item(comment, delivery_key(comment, message_id)),))


def _chat_message(
    event: dict[str, Any],
    message_id: str,
    sent_at: datetime,
    received_at: datetime,
    pseudonymise: Pseudonymiser,
) -> CommentReceived:
    message = opt_obj(event.get("message"), "event.message")
    reply = opt_obj(event.get("reply"), "event.reply")
    broadcaster = ident(event, "broadcaster_user_id", "event")
    return CommentReceived(
        comment=CommentRef(
            platform=Platform.TWITCH,
            community=broadcaster,
            # A chat room is one live stream of messages: the channel is the thread that keeps order.
            thread_id=broadcaster,
            comment_id=ident(event, "message_id", "event"),
        ),
        parent_id=opt_ident(reply, "parent_message_id"),
        author=Author(
            pseudonym=pseudonymise("twitch", ident(event, "chatter_user_id", "event")),
            display_name=display_name(event.get("chatter_user_name")),
        ),
        text=nfc(opt_text(message, "text", "event.message")),
        # Chat events carry no time of their own; Twitch's send time is the closest.
        created_at=sent_at,
        received_at=received_at,
        delivery_id=message_id,
    )


class TwitchWebhook(InboundConnector):
    name = "twitch"
    summary = "Twitch EventSub: channel.chat.message, verification and revocation"
    setting = "twitch_eventsub_secret"
    window_setting = "twitch_max_age_seconds"
    headers = frozenset({ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER, TYPE_HEADER, RETRY_HEADER})
    # webhook_callback_verification is answered with its challenge, as plain text.
    reply_schema: ClassVar[dict[str, dict[str, Any]] | None] = {"text/plain": {"type": "string"}}

    def verify(self, delivery: Delivery, secrets: tuple[Secret, ...], *, window: float | None) -> Verified:
        sent_at = verify(
            values(secrets),
            delivery.body,
            delivery.header(ID_HEADER) or "",
            delivery.header(TIMESTAMP_HEADER) or "",
            delivery.header(SIGNATURE_HEADER),
            now=delivery.received_at,
            max_age=DEFAULT_MAX_AGE if window is None else window,
        )
        return Verified(sent_at=sent_at)

    def normalise(
        self, payload: dict[str, Any], delivery: Delivery, verified: Verified, pseudonymise: Pseudonymiser
    ) -> Outcome:
        return normalise(
            payload,
            message_type=delivery.header(TYPE_HEADER),
            message_id=delivery.header(ID_HEADER) or "",
            sent_at=verified.sent_at or delivery.received_at,
            received_at=delivery.received_at,
            pseudonymise=pseudonymise,
        )

    def retry_note(self, delivery: Delivery) -> dict[str, str]:
        retry = delivery.header(RETRY_HEADER)
        # Twitch sends the header on every delivery: only an actual retry is worth a line.
        if retry is None or retry.strip() in ("", "0"):
            return {}
        return {"retry_num": retry[:8]}


CONNECTOR = TwitchWebhook()
