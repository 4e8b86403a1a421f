"""YouTube comments: reply, hide (held for review), unhide, delete (rejected) and ban the author.

https://developers.google.com/youtube/v3/docs/comments : `comments.insert` (50 units) creates a
reply under a top-level comment; `comments.setModerationStatus` (50 units) moves a comment to
`heldForReview`, `published` or `rejected`, and with `banAuthor=true` also rejects everything the
author writes on the channel from then on, which is how a channel bans without knowing a user id.
`comments.delete` only removes the caller's own comments, so a moderator's delete is a rejection.
The project's quota (10,000 units a day by default) resets at midnight Pacific time; a
`quotaExceeded` answer is retried at that instant, never earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx
from vigie_shared.events.v1 import CommentRef, Platform

from vigie_platforms.outbound.base import Credentials, Done, Failed, Limit, Operation, Outcome, RetryAfter
from vigie_platforms.outbound.classify import (
    OBJECT_GONE,
    RATE_LIMIT_RETRY_SECONDS,
    TOKEN_INVALID,
    json_body,
    parse_retry_after,
    seconds_until_midnight,
    server_error,
)
from vigie_platforms.outbound.client import HttpOutboundClient
from vigie_platforms.youtube.ids import address

MAX_REPLY_LENGTH = 10_000
DAILY_QUOTA = 10_000
WRITE_COST = 50
QUOTA_TIMEZONE = "America/Los_Angeles"

QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
TOKEN_REASONS = frozenset({"authError", "invalidCredentials", "unauthorized"})
GONE_REASONS = frozenset({"commentNotFound", "parentCommentNotFound", "notFound", "videoNotFound"})
SERVER_REASONS = frozenset({"backendError", "internalError"})

_STATUS = {
    Operation.HIDE: "heldForReview",
    Operation.UNHIDE: "published",
    Operation.DELETE: "rejected",
    Operation.BAN: "rejected",
}


def classify(response: httpx.Response, now: datetime, *, creates: bool, gone_is_done: bool) -> Outcome | None:
    if response.is_success:
        return None
    error = json_body(response).get("error")
    details = error.get("errors") if isinstance(error, dict) else None
    reasons = {str(e.get("reason")) for e in details or [] if isinstance(e, dict) and e.get("reason")}
    if reasons & QUOTA_REASONS:
        return RetryAfter(seconds_until_midnight(now, QUOTA_TIMEZONE), "quota_exceeded", ambiguous=False)
    if response.status_code == 429 or reasons & RATE_REASONS:
        seconds = parse_retry_after(response.headers.get("retry-after"), now)
        return RetryAfter(seconds or RATE_LIMIT_RETRY_SECONDS, "rate_limited", ambiguous=False)
    if response.status_code == 401 or reasons & TOKEN_REASONS:
        return TOKEN_INVALID
    if response.status_code == 404 or reasons & GONE_REASONS:
        return Done() if gone_is_done else OBJECT_GONE
    if response.status_code >= 500 or reasons & SERVER_REASONS:
        return server_error(response, now, creates=creates)
    reason = min(reasons) if reasons else str(response.status_code)
    kind = "forbidden" if response.status_code == 403 else "rejected"
    return Failed(f"{kind}:{reason}")


class YouTubeClient(HttpOutboundClient):
    platform: Platform = Platform.YOUTUBE
    operations: ClassVar[frozenset[Operation]] = frozenset(
        {Operation.REPLY, Operation.HIDE, Operation.UNHIDE, Operation.DELETE, Operation.BAN}
    )
    reply_limit: ClassVar[int] = MAX_REPLY_LENGTH
    refusal = staticmethod(classify)
    lookup_pages: ClassVar[int] = 3

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        # The quota belongs to the Google Cloud project behind every channel's OAuth client.
        return (Limit("youtube:quota", DAILY_QUOTA, 86_400, cost=WRITE_COST, resets_daily_in=QUOTA_TIMEZONE),)

    @staticmethod
    def _headers(credentials: Credentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {credentials.secret('access_token')}"}

    async def _reply(
        self,
        target: CommentRef,
        text: str,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool,
    ) -> Outcome:
        where = address(target)
        if previously_ambiguous:
            found = await self._find_reply(where.reply_parent, where.channel_id, text, credentials)
            if found is not None:
                return found
        answer = await self._exchange(
            "POST",
            "/comments",
            creates=True,
            params={"part": "snippet"},
            json={"snippet": {"parentId": where.reply_parent, "textOriginal": text}},
            headers=self._headers(credentials),
        )
        if not isinstance(answer, httpx.Response):
            return answer
        created = json_body(answer).get("id")
        return Done(str(created)) if created else Failed("unexpected_answer")

    async def _find_reply(
        self, parent: str, channel_id: str, text: str, credentials: Credentials
    ) -> Outcome | None:
        """`comments.list` by parent (1 unit a page): a reply by the channel with the same text."""
        params = {"part": "snippet", "parentId": parent, "maxResults": "100", "textFormat": "plainText"}
        for _ in range(self.lookup_pages):
            answer = await self._exchange(
                "GET",
                "/comments",
                creates=False,
                params=params,
                headers=self._headers(credentials),
            )
            if not isinstance(answer, httpx.Response):
                return answer
            body = json_body(answer)
            for item in body.get("items") or []:
                if isinstance(item, dict) and _is_our_reply(item, channel_id, text):
                    return Done(str(item.get("id")))
            token = body.get("nextPageToken")
            if not token:
                return None
            params = {**params, "pageToken": str(token)}
        return None

    async def _moderate(
        self, operation: Operation, target: CommentRef, credentials: Credentials, idempotency_key: str
    ) -> Outcome:
        params = {"id": target.comment_id, "moderationStatus": _STATUS[operation]}
        if operation is Operation.BAN:
            params["banAuthor"] = "true"
        answer = await self._exchange(
            "POST",
            "/comments/setModerationStatus",
            creates=False,
            params=params,
            headers=self._headers(credentials),
            # A ban needs the comment to find its author: gone, there is nobody to ban.
            gone_is_done=operation is not Operation.BAN,
        )
        return Done() if isinstance(answer, httpx.Response) else answer


def _is_our_reply(item: dict[str, Any], channel_id: str, text: str) -> bool:
    snippet = item.get("snippet")
    if not isinstance(snippet, dict):
        return False
    author = snippet.get("authorChannelId")
    author_id = author.get("value") if isinstance(author, dict) else None
    return author_id == channel_id and snippet.get("textOriginal") == text
