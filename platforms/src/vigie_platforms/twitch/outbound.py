"""Twitch chat: reply to a message, delete a message.

https://dev.twitch.tv/docs/api/reference#send-chat-message : `POST /chat/messages` answers 200
even when the message is not delivered: `is_sent: false` with a `drop_reason` (AutoMod, blocked
terms, slow or followers-only mode...), which no retry fixes. `DELETE /moderation/chat` removes one
message (204). https://dev.twitch.tv/docs/api/guide#twitch-rate-limits : 800 points a minute per
client id and user, a 429 says when the bucket refills in `Ratelimit-Reset` (Unix seconds). Chat
allows 20 messages per 30 seconds in a channel for an ordinary sender (100 for a moderator).
Twitch has no endpoint to read chat history, so an ambiguous send cannot be checked; timeouts and
bans need the chatter's user id, which a CommentRef does not carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

import httpx
from vigie_shared.events.v1 import CommentRef, Platform

from vigie_platforms.outbound.base import Credentials, Done, Failed, Limit, Operation, Outcome, RetryAfter
from vigie_platforms.outbound.classify import (
    OBJECT_GONE,
    RATE_LIMIT_RETRY_SECONDS,
    TOKEN_INVALID,
    json_body,
    parse_epoch,
    parse_retry_after,
    server_error,
)
from vigie_platforms.outbound.client import HttpOutboundClient
from vigie_platforms.outbound.redact import fingerprint
from vigie_platforms.twitch.ids import address

MAX_REPLY_LENGTH = 500


def classify(response: httpx.Response, now: datetime, *, creates: bool, gone_is_done: bool) -> Outcome | None:
    if response.is_success:
        return None
    status = response.status_code
    if status == 429:
        seconds = parse_epoch(response.headers.get("ratelimit-reset"), now)
        seconds = (
            seconds if seconds is not None else parse_retry_after(response.headers.get("retry-after"), now)
        )
        return RetryAfter(RATE_LIMIT_RETRY_SECONDS if seconds is None else seconds, "rate_limited")
    if status == 401:
        return TOKEN_INVALID
    if status == 403:
        return Failed("forbidden")
    if status == 404:
        return Done() if gone_is_done else OBJECT_GONE
    if status >= 500:
        return server_error(response, now, creates=creates)
    return Failed(f"rejected:{status}")


class TwitchClient(HttpOutboundClient):
    platform: Platform = Platform.TWITCH
    operations: ClassVar[frozenset[Operation]] = frozenset({Operation.REPLY, Operation.DELETE})
    reply_limit: ClassVar[int] = MAX_REPLY_LENGTH
    refusal = staticmethod(classify)

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        user_bucket = fingerprint(credentials.secret("client_id") + ":" + credentials.secret("access_token"))
        return (
            Limit(f"twitch:chat:{address(target).broadcaster_id}", 20, 30),
            Limit(f"twitch:token:{user_bucket}", 800, 60),
        )

    @staticmethod
    def _headers(credentials: Credentials) -> dict[str, str]:
        return {
            "Client-Id": credentials.secret("client_id"),
            "Authorization": f"Bearer {credentials.secret('access_token')}",
        }

    async def _reply(
        self,
        target: CommentRef,
        text: str,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool,
    ) -> Outcome:
        # Helix cannot read chat history: an ambiguous send is sent again (docs/platforms.md).
        where = address(target)
        payload = {
            "broadcaster_id": where.broadcaster_id,
            "sender_id": credentials.secret("sender_id"),
            "message": text,
            "reply_parent_message_id": where.message_id,
        }
        answer = await self._exchange(
            "POST",
            "/chat/messages",
            creates=True,
            json=payload,
            headers=self._headers(credentials),
        )
        if not isinstance(answer, httpx.Response):
            return answer
        data = json_body(answer).get("data")
        sent = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else None
        if sent is None:
            return Failed("unexpected_answer")
        if sent.get("is_sent") is not True:
            drop = sent.get("drop_reason")
            code = drop.get("code") if isinstance(drop, dict) else None
            return Failed(f"dropped:{str(code)[:64]}" if code else "dropped")
        return Done(str(sent.get("message_id"))) if sent.get("message_id") else Failed("unexpected_answer")

    async def _moderate(
        self, operation: Operation, target: CommentRef, credentials: Credentials, idempotency_key: str
    ) -> Outcome:
        where = address(target)
        params = {
            "broadcaster_id": where.broadcaster_id,
            "moderator_id": credentials.secret("moderator_id"),
            "message_id": where.message_id,
        }
        answer = await self._exchange(
            "DELETE",
            "/moderation/chat",
            creates=False,
            params=params,
            headers=self._headers(credentials),
            gone_is_done=True,
        )
        return Done() if isinstance(answer, httpx.Response) else answer
