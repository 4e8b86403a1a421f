"""How a Discord message's CommentRef maps to API ids (set by the interactions normaliser).

- `community`: the guild id, or the channel id for a direct message (no guild).
- `thread_id`: the channel id (a thread is a channel of its own in Discord, with its own id).
- `comment_id`: the message id for a message command ("Apps > Report to Vigie"), or the
  interaction id for a slash command, which is not a message.

Replies are posted in the channel with a `message_reference` to the comment and
`fail_if_not_exists: false`: an interaction id (or a message deleted meanwhile) cannot be referred
to, and the answer then still lands in the channel it belongs to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from vigie_shared.events.v1 import CommentRef, Platform


@dataclass(frozen=True, slots=True)
class DiscordAddress:
    guild_id: str | None
    channel_id: str
    message_id: str


def address(ref: CommentRef) -> DiscordAddress:
    if ref.platform is not Platform.DISCORD:
        raise ValueError("not a Discord message")
    guild = None if ref.community == ref.thread_id else ref.community
    return DiscordAddress(guild_id=guild, channel_id=ref.thread_id, message_id=ref.comment_id)


def nonce(idempotency_key: str) -> str:
    """Discord nonces are at most 25 characters: a digest of the key, stable across retries."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:25]
