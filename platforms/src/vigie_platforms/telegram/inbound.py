"""Telegram Bot API webhook updates: messages and channel posts, new and edited.

https://core.telegram.org/bots/api#setwebhook : Telegram signs nothing; it echoes the `secret_token`
given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`. `update_id` identifies an update and is
the idempotency key (scoped by chat, since several bots may share this endpoint). The sender's
`language_code` is the user's client language: a hint, not a detection. The Bot API reports no
deletions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vigie_shared.events.v1 import Author, CommentChange, CommentReceived, CommentRef, Platform

from vigie_platforms.inbound.connector import Delivery, InboundConnector, Secret, Verified, values
from vigie_platforms.inbound.normalise import (
    Pseudonymiser,
    delivery_key,
    display_name,
    from_unix,
    ident,
    nfc,
    opt_ident,
    opt_obj,
    opt_text,
)
from vigie_platforms.inbound.outcome import Comments, Item, Outcome
from vigie_platforms.inbound.signatures import require_token

TOKEN_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name

_KINDS = {
    "message": CommentChange.CREATED,
    "edited_message": CommentChange.EDITED,
    "channel_post": CommentChange.CREATED,
    "edited_channel_post": CommentChange.EDITED,
}


def verify(tokens: tuple[bytes, ...], presented: str | None) -> None:
    require_token(tokens, presented)


def normalise(payload: dict[str, Any], *, received_at: datetime, pseudonymise: Pseudonymiser) -> Comments:
    update_id = ident(payload, "update_id", "update")
    for kind, change in _KINDS.items():
        if kind in payload:
            message = opt_obj(payload.get(kind), kind)
            comment = _message(message, change, update_id, received_at, pseudonymise)
            if comment is None:
                return Comments(ignored=1)
            chat = comment.comment.community
            return Comments((Item(comment, delivery_key(comment, f"{chat}:{update_id}")),))
    # Callback queries, polls, member updates, reactions...: verified, counted, not comments.
    return Comments(ignored=1)


def _message(
    message: dict[str, Any],
    change: CommentChange,
    update_id: str,
    received_at: datetime,
    pseudonymise: Pseudonymiser,
) -> CommentReceived | None:
    text = opt_text(message, "text", "message") or opt_text(message, "caption", "message")
    if not text:
        return None  # stickers, photos without caption, service messages
    chat = opt_obj(message.get("chat"), "message.chat")
    chat_id = ident(chat, "id", "message.chat")
    sender = opt_obj(message.get("from"), "message.from")
    # Channel posts and anonymous admins speak as a chat, not as a user.
    speaker = sender or opt_obj(message.get("sender_chat"), "message.sender_chat")
    names = [speaker.get("first_name"), speaker.get("last_name")]
    name = " ".join(part for part in names if isinstance(part, str) and part) or speaker.get("title")
    message_id = ident(message, "message_id", "message")
    reply_to = opt_obj(message.get("reply_to_message"), "message.reply_to_message")
    username = chat.get("username")
    return CommentReceived(
        comment=CommentRef(
            platform=Platform.TELEGRAM,
            community=chat_id,
            # Forum topics are threads of their own; elsewhere the chat is the thread.
            thread_id=opt_ident(message, "message_thread_id") or chat_id,
            comment_id=message_id,
        ),
        change=change,
        parent_id=opt_ident(reply_to, "message_id"),
        author=Author(
            pseudonym=pseudonymise("telegram", opt_ident(speaker, "id") or "unknown"),
            display_name=display_name(name),
        ),
        text=nfc(text),
        language_hint=opt_ident(sender, "language_code"),
        created_at=from_unix(message.get("date"), received_at),
        received_at=received_at,
        permalink=f"https://t.me/{username}/{message_id}" if isinstance(username, str) and username else None,
        delivery_id=update_id,
    )


class TelegramWebhook(InboundConnector):
    name = "telegram"
    summary = "Telegram bot updates: messages and channel posts"
    setting = "telegram_secret_token"
    headers = frozenset({TOKEN_HEADER})

    def verify(self, delivery: Delivery, secrets: tuple[Secret, ...], *, window: float | None) -> Verified:
        verify(values(secrets), delivery.header(TOKEN_HEADER))
        return Verified()

    def normalise(
        self, payload: dict[str, Any], delivery: Delivery, verified: Verified, pseudonymise: Pseudonymiser
    ) -> Outcome:
        return normalise(payload, received_at=delivery.received_at, pseudonymise=pseudonymise)


CONNECTOR = TelegramWebhook()
