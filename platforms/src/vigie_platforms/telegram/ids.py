"""How a Telegram message's CommentRef maps to Bot API ids (set by the updates normaliser).

- `community`: the chat id (negative for groups, supergroups and channels).
- `thread_id`: the forum topic (`message_thread_id`) when the message is in one, else the chat id.
- `comment_id`: the `message_id`, unique within the chat.

A reply is sent to the chat with `reply_parameters.message_id` set to the comment and, in a forum,
`message_thread_id` set to its topic, so it shows under the message in the topic it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigie_shared.events.v1 import CommentRef, Platform

from vigie_platforms.outbound.base import BadReference


@dataclass(frozen=True, slots=True)
class TelegramAddress:
    chat_id: int
    topic_id: int | None
    message_id: int

    @property
    def is_group(self) -> bool:
        return self.chat_id < 0


def _integer(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadReference(f"Telegram {what} must be an integer") from None


def address(ref: CommentRef) -> TelegramAddress:
    if ref.platform is not Platform.TELEGRAM:
        raise ValueError("not a Telegram message")
    chat = _integer(ref.community, "chat id")
    topic = None if ref.thread_id == ref.community else _integer(ref.thread_id, "topic id")
    return TelegramAddress(chat_id=chat, topic_id=topic, message_id=_integer(ref.comment_id, "message id"))
