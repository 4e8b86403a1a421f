"""Instagram comments: reply, hide, unhide, delete with the professional account's token.

https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment
(`POST /{id}/replies` with `message`; `POST /{id}` with `hide`; `DELETE /{id}`). Comments are at
most 2,200 characters. The Instagram Graph API allows 200 calls per hour per account (Business
Use Case limit for comment moderation: 4,800 x impressions a day, the hourly figure binds first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from vigie_shared.events.v1 import CommentRef, Platform

from vigie_platforms.instagram.ids import address
from vigie_platforms.outbound.base import Credentials, Limit, Operation
from vigie_platforms.outbound.graph import GraphClient

MAX_REPLY_LENGTH = 2_200


class InstagramClient(GraphClient):
    platform: Platform = Platform.INSTAGRAM
    operations: ClassVar[frozenset[Operation]] = frozenset(
        {Operation.REPLY, Operation.HIDE, Operation.UNHIDE, Operation.DELETE}
    )
    reply_limit: ClassVar[int] = MAX_REPLY_LENGTH
    reply_edge: ClassVar[str] = "replies"
    hide_field: ClassVar[str] = "hide"
    reply_fields: ClassVar[str] = "id,text,user"

    def _reply_target(self, target: CommentRef) -> str:
        return address(target).reply_parent

    def _is_ours(self, item: dict[str, Any], target: CommentRef) -> bool:
        user = item.get("user")
        if isinstance(user, dict):
            return str(user.get("id")) == address(target).account_id
        return isinstance(user, str) and user == address(target).account_id

    def _text_of(self, item: dict[str, Any]) -> str | None:
        text = item.get("text")
        return text if isinstance(text, str) else None

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        return (Limit(f"instagram:account:{address(target).account_id}", 200, 3_600),)
