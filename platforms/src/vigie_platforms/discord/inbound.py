"""Discord interactions endpoint: PING, and application commands that hand Vigie a message.

https://discord.com/developers/docs/interactions/receiving-and-responding : every request is signed
with Ed25519 over `X-Signature-Timestamp` + raw body (`X-Signature-Ed25519`, hex) under the app's
public key. Discord probes the endpoint with bad signatures and removes it unless they get a 401.
A PING (type 1) is answered with a PONG (type 1).

Interactions carry no channel traffic (that needs the gateway). What they do carry is a message
command ("Apps > Report to Vigie", data.type 3), whose target message is resolved in the payload:
that message becomes the comment. A slash command (data.type 1) becomes a comment of its own, with
its string options as text. Anything else is acknowledged as Discord requires and not published.
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
    obj,
    objs,
    opt_ident,
    opt_obj,
    opt_text,
)
from vigie_platforms.inbound.outcome import Comments, Handshake, Item, Outcome, Reply
from vigie_platforms.inbound.signatures import (
    BAD,
    BAD_TIMESTAMP,
    parse_unix_seconds,
    require_ed25519,
    require_fresh,
)

SIGNATURE_HEADER = "x-signature-ed25519"
TIMESTAMP_HEADER = "x-signature-timestamp"
DEFAULT_MAX_SKEW = 300.0

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 1, 2, 3, 4
CHAT_INPUT, MESSAGE_COMMAND = 1, 3
EPHEMERAL = 64

PONG = Reply({"type": 1})
RECEIVED = Reply(
    {"type": 4, "data": {"content": "Received: the moderators will look at it.", "flags": EPHEMERAL}}
)
NOT_HANDLED = Reply(
    {"type": 4, "data": {"content": "Vigie does not handle this interaction.", "flags": EPHEMERAL}}
)
# Components want an acknowledgement that leaves their message alone; autocomplete wants choices.
ACK_COMPONENT = Reply({"type": 6})
NO_CHOICES = Reply({"type": 8, "data": {"choices": []}})


def verify(
    public_keys: tuple[bytes, ...],
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: float,
    max_skew: float,
) -> None:
    if public_keys and (not timestamp or not signature):
        # Discord's probes may drop either header: both must be present for any signature to hold.
        raise Unauthenticated(BAD)
    if timestamp and not timestamp.isascii():
        raise Unauthenticated(BAD_TIMESTAMP)
    require_ed25519(public_keys, (timestamp or "").encode() + body, signature)
    require_fresh(parse_unix_seconds(timestamp), now, max_skew)


def normalise(payload: dict[str, Any], *, received_at: datetime, pseudonymise: Pseudonymiser) -> Outcome:
    kind = payload.get("type")
    if kind == PING:
        return Handshake(PONG)
    if kind == MESSAGE_COMPONENT:
        return Comments(ignored=1, reply=ACK_COMPONENT)
    if kind == AUTOCOMPLETE:
        return Comments(ignored=1, reply=NO_CHOICES)
    if kind != APPLICATION_COMMAND:
        return Comments(ignored=1, reply=NOT_HANDLED)
    interaction_id = ident(payload, "id", "interaction")
    data = opt_obj(payload.get("data"), "data")
    command = data.get("type")
    comment: CommentReceived | None = None
    if command == MESSAGE_COMMAND:
        comment = _target_message(payload, data, interaction_id, received_at, pseudonymise)
    elif command == CHAT_INPUT:
        comment = _slash_command(payload, data, interaction_id, received_at, pseudonymise)
    if comment is None:
        return Comments(ignored=1, reply=NOT_HANDLED)
    return Comments((Item(comment, delivery_key(comment, interaction_id)),), reply=RECEIVED)


def _where(payload: dict[str, Any], channel_id: str) -> tuple[str, str]:
    # Direct messages have no guild: the channel is then the community too.
    guild = opt_ident(payload, "guild_id")
    return (guild or channel_id), channel_id


def _permalink(guild: str | None, channel_id: str, message_id: str) -> str:
    return f"https://discord.com/channels/{guild or '@me'}/{channel_id}/{message_id}"


def _user(payload: dict[str, Any]) -> dict[str, Any]:
    member = opt_obj(payload.get("member"), "member")
    return opt_obj(member.get("user") or payload.get("user"), "user")


def _target_message(
    payload: dict[str, Any],
    data: dict[str, Any],
    interaction_id: str,
    received_at: datetime,
    pseudonymise: Pseudonymiser,
) -> CommentReceived:
    target = ident(data, "target_id", "data")
    messages = opt_obj(opt_obj(data.get("resolved"), "data.resolved").get("messages"), "resolved")
    message = obj(messages.get(target), "resolved target message")
    channel_id = opt_ident(message, "channel_id") or ident(payload, "channel_id", "interaction")
    community, thread = _where(payload, channel_id)
    author = opt_obj(message.get("author"), "message.author")
    reference = opt_obj(message.get("message_reference"), "message.message_reference")
    return CommentReceived(
        comment=CommentRef(
            platform=Platform.DISCORD, community=community, thread_id=thread, comment_id=target
        ),
        parent_id=opt_ident(reference, "message_id"),
        author=Author(
            pseudonym=pseudonymise("discord", opt_ident(author, "id") or "unknown"),
            display_name=display_name(author.get("global_name") or author.get("username")),
        ),
        text=nfc(opt_text(message, "content", "message")),
        created_at=from_iso(message.get("timestamp"), received_at),
        received_at=received_at,
        permalink=_permalink(opt_ident(payload, "guild_id"), channel_id, target),
        delivery_id=interaction_id,
    )


def _strings(options: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for option in options:
        value = option.get("value")
        if isinstance(value, str):
            out.append(value)
        out.extend(_strings(objs(option.get("options"), "option.options")))  # subcommands nest
    return out


def _slash_command(
    payload: dict[str, Any],
    data: dict[str, Any],
    interaction_id: str,
    received_at: datetime,
    pseudonymise: Pseudonymiser,
) -> CommentReceived | None:
    texts = _strings(objs(data.get("options"), "data.options"))
    if not texts:
        return None
    channel_id = ident(payload, "channel_id", "interaction")
    community, thread = _where(payload, channel_id)
    user = _user(payload)
    if not user:
        raise MalformedPayload("interaction has neither member.user nor user")
    return CommentReceived(
        comment=CommentRef(
            platform=Platform.DISCORD, community=community, thread_id=thread, comment_id=interaction_id
        ),
        author=Author(
            pseudonym=pseudonymise("discord", ident(user, "id", "user")),
            display_name=display_name(user.get("global_name") or user.get("username")),
        ),
        text=nfc("\n".join(texts)),
        # The invoker's client locale, e.g. "fr": what they were typing in, most likely.
        language_hint=opt_ident(payload, "locale"),
        created_at=received_at,
        received_at=received_at,
        delivery_id=interaction_id,
    )


class DiscordWebhook(InboundConnector):
    name = "discord"
    summary = "Discord interactions: PING, message commands and slash commands"
    setting = "discord_public_key"
    window_setting = "discord_max_skew_seconds"
    headers = frozenset({SIGNATURE_HEADER, TIMESTAMP_HEADER})
    # Every interaction is answered with an interaction response: PONG, a message, an acknowledgement.
    reply_schema: ClassVar[dict[str, dict[str, Any]] | None] = {
        "application/json": {
            "title": "DiscordInteractionResponse",
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"type": "integer"}, "data": {"type": "object"}},
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
        # A PING comes back as a Handshake (PONG): the generic route answers it like any other.
        return normalise(payload, received_at=delivery.received_at, pseudonymise=pseudonymise)


CONNECTOR = DiscordWebhook()
