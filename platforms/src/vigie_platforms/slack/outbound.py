"""Slack messages: reply in the message's thread, delete.

https://api.slack.com/methods/chat.postMessage , https://api.slack.com/methods/chat.delete ,
https://api.slack.com/methods/conversations.replies , https://api.slack.com/apis/rate-limits :
Web API errors come back as HTTP 200 with `{"ok": false, "error": "<code>"}`; rate limiting is an
HTTP 429 with `Retry-After` (seconds). `internal_error` and `fatal_error` say some of the operation
may have happened, so a post answered with them is ambiguous. chat.postMessage allows about one
message per second per channel. Slack has no hide; timeouts and bans are not part of its API.
A bot token can only delete the bot's own messages: a workspace admin's user token
(`user_token`) in the credentials is used for deletions when present.
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
    SERVER_RETRY_SECONDS,
    TOKEN_INVALID,
    json_body,
    rate_limited,
    server_error,
)
from vigie_platforms.outbound.client import HttpOutboundClient
from vigie_platforms.outbound.redact import fingerprint
from vigie_platforms.slack.ids import address, escape, thread_root, unescape

MAX_REPLY_LENGTH = 4_000  # Slack truncates past 40,000 and advises 4,000 for readability

TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_allowed_token_type",
    }
)
GONE_ERRORS = frozenset({"channel_not_found", "thread_not_found", "message_not_found"})
MAY_HAVE_APPLIED = frozenset({"internal_error", "fatal_error"})
TRANSIENT_ERRORS = MAY_HAVE_APPLIED | {"service_unavailable", "request_timeout", "team_added_to_org"}
LOOKUP_PAGES = 3


def classify(response: httpx.Response, now: datetime, *, creates: bool, gone_is_done: bool) -> Outcome | None:
    if response.status_code == 429:
        return rate_limited(response, now)
    if response.status_code >= 500:
        return server_error(response, now, creates=creates)
    body = json_body(response)
    if response.is_success and body.get("ok") is True:
        return None
    error = str(body.get("error") or f"http_{response.status_code}")[:64]
    if error == "ratelimited":
        return rate_limited(response, now)
    if error in TOKEN_ERRORS:
        return TOKEN_INVALID
    if error in GONE_ERRORS:
        return Done() if gone_is_done else OBJECT_GONE
    if error in TRANSIENT_ERRORS:
        return RetryAfter(
            SERVER_RETRY_SECONDS, f"slack:{error}", ambiguous=creates and error in MAY_HAVE_APPLIED
        )
    return Failed(f"slack:{error}")


class SlackClient(HttpOutboundClient):
    platform: Platform = Platform.SLACK
    operations: ClassVar[frozenset[Operation]] = frozenset({Operation.REPLY, Operation.DELETE})
    reply_limit: ClassVar[int] = MAX_REPLY_LENGTH
    refusal = staticmethod(classify)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._identities: dict[str, tuple[str | None, str | None]] = {}

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        where = address(target)
        return (
            Limit(f"slack:channel:{where.team_id}:{where.channel_id}", 1, 1),
            Limit(f"slack:token:{fingerprint(credentials.secret('bot_token'))}", 50, 60),
        )

    @staticmethod
    def _headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def _call(
        self,
        method: str,
        credentials: Credentials,
        *,
        creates: bool,
        gone_is_done: bool,
        token_key: str = "bot_token",  # noqa: S107 - the name of a credentials key
        **kwargs: Any,
    ) -> dict[str, Any] | Outcome:
        verb = "POST" if "json" in kwargs else "GET"
        answer = await self._exchange(
            verb,
            f"/{method}",
            creates=creates,
            headers=self._headers(credentials.secret(token_key)),
            **kwargs,
            gone_is_done=gone_is_done,
        )
        return json_body(answer) if isinstance(answer, httpx.Response) else answer

    async def _reply(
        self,
        target: CommentRef,
        text: str,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool,
    ) -> Outcome:
        where = address(target)
        thread = await self._call(
            "conversations.replies",
            credentials,
            creates=False,
            gone_is_done=False,
            params={"channel": where.channel_id, "ts": where.ts, "limit": "1"},
        )
        if not isinstance(thread, dict):
            return thread
        messages = thread.get("messages") or []
        if not messages or not isinstance(messages[0], dict):
            return OBJECT_GONE
        root = thread_root(messages[0], where.ts)
        if previously_ambiguous:
            found = await self._find_reply(where.channel_id, root, where.ts, text, credentials)
            if found is not None:
                return found
        posted = await self._call(
            "chat.postMessage",
            credentials,
            creates=True,
            gone_is_done=False,
            json={
                "channel": where.channel_id,
                "thread_ts": root,
                "text": escape(text),
                "unfurl_links": False,
            },
        )
        if not isinstance(posted, dict):
            return posted
        ts = posted.get("ts")
        return Done(str(ts)) if ts else Failed("unexpected_answer")

    async def _identity(self, credentials: Credentials) -> tuple[str | None, str | None] | Outcome:
        key = fingerprint(credentials.secret("bot_token"))
        if key in self._identities:
            return self._identities[key]
        me = await self._call("auth.test", credentials, creates=False, gone_is_done=False, json={})
        if not isinstance(me, dict):
            return me
        user, bot = me.get("user_id"), me.get("bot_id")
        identity = (str(user) if user else None, str(bot) if bot else None)
        self._identities[key] = identity
        return identity

    async def _find_reply(
        self, channel: str, root: str, ts: str, text: str, credentials: Credentials
    ) -> Outcome | None:
        identity = await self._identity(credentials)
        if not isinstance(identity, tuple):
            return identity
        user_id, bot_id = identity
        params = {"channel": channel, "ts": root, "oldest": ts, "limit": "200"}
        for _ in range(LOOKUP_PAGES):
            page = await self._call(
                "conversations.replies", credentials, creates=False, gone_is_done=False, params=params
            )
            if not isinstance(page, dict):
                return page
            for message in page.get("messages") or []:
                if not isinstance(message, dict) or message.get("ts") == ts:
                    continue
                ours = (bot_id and message.get("bot_id") == bot_id) or (
                    user_id and message.get("user") == user_id
                )
                if ours and unescape(str(message.get("text", ""))) == text:
                    return Done(str(message.get("ts")))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
            params = {**params, "cursor": str(cursor)}
        return None

    async def _moderate(
        self, operation: Operation, target: CommentRef, credentials: Credentials, idempotency_key: str
    ) -> Outcome:
        where = address(target)
        token_key = "user_token" if credentials.get("user_token") else "bot_token"
        deleted = await self._call(
            "chat.delete",
            credentials,
            creates=False,
            gone_is_done=True,
            token_key=token_key,
            json={"channel": where.channel_id, "ts": where.ts},
        )
        return Done() if isinstance(deleted, dict) else deleted
