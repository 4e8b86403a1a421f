"""How a Twitch chat message's CommentRef maps to Helix ids (set by the EventSub normaliser).

- `community`: the broadcaster's user id (the channel).
- `thread_id`: the broadcaster's user id again: a chat room is one stream of messages.
- `comment_id`: the chat `message_id` (a UUID).

A reply is a chat message in the broadcaster's room with `reply_parent_message_id` set to the
comment, which Twitch shows as a reply to it. Who sends it and who moderates are the credentials'
`sender_id` and `moderator_id`, not ids from the comment.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigie_shared.events.v1 import CommentRef, Platform


@dataclass(frozen=True, slots=True)
class TwitchAddress:
    broadcaster_id: str
    message_id: str


def address(ref: CommentRef) -> TwitchAddress:
    if ref.platform is not Platform.TWITCH:
        raise ValueError("not a Twitch chat message")
    return TwitchAddress(broadcaster_id=ref.community, message_id=ref.comment_id)
