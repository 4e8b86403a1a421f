"""How a Slack message's CommentRef maps to Web API ids (set by the Events API normaliser).

- `community`: the workspace (team) id.
- `thread_id`: the channel id (the channel keeps the order of its messages).
- `comment_id`: the message's `ts`.

A threaded reply is posted with `thread_ts` set to the thread's parent: Slack asks for the parent's
ts, and a reply's own ts as `thread_ts` does not reliably land in the thread. The CommentRef does
not say whether the message was itself a reply, so the client asks `conversations.replies`, whose
first message names the parent (`thread_ts`), or is the message itself when it has no thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigie_shared.events.v1 import CommentRef, Platform


@dataclass(frozen=True, slots=True)
class SlackAddress:
    team_id: str
    channel_id: str
    ts: str


def address(ref: CommentRef) -> SlackAddress:
    if ref.platform is not Platform.SLACK:
        raise ValueError("not a Slack message")
    return SlackAddress(team_id=ref.community, channel_id=ref.thread_id, ts=ref.comment_id)


def thread_root(first_message: dict[str, Any], ts: str) -> str:
    """The parent ts of the thread `first_message` (the first of conversations.replies) opens."""
    root = first_message.get("thread_ts") or first_message.get("ts") or ts
    return str(root)


def escape(text: str) -> str:
    """Slack's three control characters, escaped as its formatting rules ask for plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
