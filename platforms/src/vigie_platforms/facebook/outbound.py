"""Facebook Page comments: reply, hide, unhide, delete with the Page's access token.

https://developers.facebook.com/docs/graph-api/reference/object/comments (create: `message`),
https://developers.facebook.com/docs/graph-api/reference/comment (update `is_hidden`; delete).
Page tokens count against the Page's Business Use Case limit: 4,800 calls per engaged user per
24 hours, so at least 4,800 a day for a Page with any audience.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from vigie_shared.events.v1 import CommentRef, Platform

from vigie_platforms.facebook.ids import address
from vigie_platforms.outbound.base import Credentials, Limit, Operation
from vigie_platforms.outbound.graph import GraphClient

MAX_REPLY_LENGTH = 8_000


class FacebookClient(GraphClient):
    platform: Platform = Platform.FACEBOOK
    operations: ClassVar[frozenset[Operation]] = frozenset(
        {Operation.REPLY, Operation.HIDE, Operation.UNHIDE, Operation.DELETE}
    )
    reply_limit: ClassVar[int] = MAX_REPLY_LENGTH
    reply_edge: ClassVar[str] = "comments"
    hide_field: ClassVar[str] = "is_hidden"
    reply_fields: ClassVar[str] = "id,message,from{id}"
    # Newest first: a reply made moments ago is on the first page even under a busy comment.
    lookup_params: ClassVar[dict[str, str]] = {"order": "reverse_chronological"}

    def _reply_target(self, target: CommentRef) -> str:
        return address(target).reply_parent

    def _is_ours(self, item: dict[str, Any], target: CommentRef) -> bool:
        author = item.get("from")
        return isinstance(author, dict) and str(author.get("id")) == address(target).page_id

    def _text_of(self, item: dict[str, Any]) -> str | None:
        message = item.get("message")
        return message if isinstance(message, str) else None

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        return (Limit(f"facebook:page:{address(target).page_id}", 4_800, 86_400),)
