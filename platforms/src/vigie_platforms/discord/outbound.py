"""Discord messages: reply in the channel, delete.

https://discord.com/developers/docs/resources/message#create-message : a `nonce` with
`enforce_nonce: true` makes Discord return the message already created with that nonce by the same
author in the last few minutes instead of creating a second one. Beyond those minutes, after an
ambiguous failure, the channel's messages after the comment are read and one by the bot with the
same text is taken as the reply already made.

Timeouts and bans are a Discord moderator's everyday tools. A CommentRef carries no user id, so the
client reads the message first (`GET /channels/{channel}/messages/{message}`) to learn its author,
then times them out (`PATCH /guilds/{guild}/members/{user}` with `communication_disabled_until`,
ten minutes unless the client is built with another duration) or bans them
(`PUT /guilds/{guild}/bans/{user}`). The user id stays inside the call: it is neither logged nor
returned. Neither exists in direct messages, and a slash command's id is not a message, so both
fail there with a reason.

https://discord.com/developers/docs/topics/rate-limits : a 429 carries `retry_after` (seconds,
fractional) in the body and `Retry-After`; a 403 is never retried on its own, since Discord bans
clients that keep making invalid requests (10,000 401/403/429 in 10 minutes). Hiding does not
exist on Discord.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from vigie_shared.events.v1 import CommentRef, Platform

from vigie_platforms.discord.ids import DiscordAddress, address, nonce
from vigie_platforms.outbound.base import Credentials, Done, Failed, Limit, Operation, Outcome, RetryAfter
from vigie_platforms.outbound.classify import (
    OBJECT_GONE,
    RATE_LIMIT_RETRY_SECONDS,
    TOKEN_INVALID,
    json_body,
    parse_retry_after,
    server_error,
)
from vigie_platforms.outbound.client import HttpOutboundClient
from vigie_platforms.outbound.redact import fingerprint

MAX_REPLY_LENGTH = 2_000
UNKNOWN_CHANNEL, UNKNOWN_MEMBER, UNKNOWN_MESSAGE, UNKNOWN_USER = 10003, 10007, 10008, 10013
GONE_CODES = frozenset({UNKNOWN_CHANNEL, UNKNOWN_MEMBER, UNKNOWN_MESSAGE, UNKNOWN_USER})
DEFAULT_TIMEOUT_SECONDS = 600.0
MAX_TIMEOUT_SECONDS = 28 * 24 * 3600.0  # Discord refuses a timeout longer than 28 days
AUDIT_REASON = quote("Vigie: moderator decision")


def classify(response: httpx.Response, now: datetime, *, creates: bool, gone_is_done: bool) -> Outcome | None:
    if response.is_success:
        return None
    body = json_body(response)
    code = body.get("code")
    if response.status_code == 429:
        seconds: float | None = None
        if isinstance(body.get("retry_after"), int | float):
            seconds = float(body["retry_after"])
        seconds = seconds or parse_retry_after(response.headers.get("retry-after"), now)
        seconds = seconds or parse_retry_after(response.headers.get("x-ratelimit-reset-after"), now)
        scope = response.headers.get("x-ratelimit-scope") or ("global" if body.get("global") else "")
        reason = f"rate_limited:{scope}" if scope else "rate_limited"
        return RetryAfter(seconds or RATE_LIMIT_RETRY_SECONDS, reason, ambiguous=False)
    if response.status_code == 401:
        return TOKEN_INVALID
    if response.status_code == 403:
        return Failed(f"forbidden:{code}" if isinstance(code, int) else "forbidden")
    if code in GONE_CODES or response.status_code == 404:
        return Done() if gone_is_done else OBJECT_GONE
    if response.status_code >= 500:
        return server_error(response, now, creates=creates)
    return Failed(f"rejected:{code}" if isinstance(code, int) else f"http_{response.status_code}")


class DiscordClient(HttpOutboundClient):
    platform: Platform = Platform.DISCORD
    operations: ClassVar[frozenset[Operation]] = frozenset(
        {Operation.REPLY, Operation.DELETE, Operation.TIMEOUT, Operation.BAN}
    )
    reply_limit: ClassVar[int] = MAX_REPLY_LENGTH
    refusal = staticmethod(classify)

    def __init__(self, *args: Any, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not 0 < timeout_seconds <= MAX_TIMEOUT_SECONDS:
            raise ValueError("a Discord timeout lasts from a second to 28 days")
        self.timeout_seconds = timeout_seconds
        self._bot_ids: dict[str, str] = {}

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        return (
            Limit(f"discord:channel:{address(target).channel_id}", 5, 5),
            Limit(f"discord:bot:{fingerprint(credentials.secret('bot_token'))}", 50, 1),
        )

    @staticmethod
    def _headers(credentials: Credentials) -> dict[str, str]:
        return {"Authorization": f"Bot {credentials.secret('bot_token')}"}

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
            found = await self._find_reply(where.channel_id, where.message_id, text, credentials)
            if found is not None:
                return found
        payload: dict[str, Any] = {
            "content": text,
            "nonce": nonce(idempotency_key),
            "enforce_nonce": True,
            "message_reference": {
                "message_id": where.message_id,
                "channel_id": where.channel_id,
                "fail_if_not_exists": False,
            },
            # The approved words go out as written: no @everyone or role pings, only the asker's.
            "allowed_mentions": {"parse": [], "replied_user": True},
        }
        answer = await self._exchange(
            "POST",
            f"/channels/{where.channel_id}/messages",
            creates=True,
            json=payload,
            headers=self._headers(credentials),
        )
        if not isinstance(answer, httpx.Response):
            return answer
        created = json_body(answer).get("id")
        return Done(str(created)) if created else Failed("unexpected_answer")

    async def _bot_id(self, credentials: Credentials) -> str | Outcome:
        key = fingerprint(credentials.secret("bot_token"))
        known = self._bot_ids.get(key)
        if known is not None:
            return known
        answer = await self._exchange("GET", "/users/@me", creates=False, headers=self._headers(credentials))
        if not isinstance(answer, httpx.Response):
            return answer
        bot_id = json_body(answer).get("id")
        if not bot_id:
            return Failed("unexpected_answer")
        self._bot_ids[key] = str(bot_id)
        return str(bot_id)

    async def _find_reply(
        self, channel_id: str, message_id: str, text: str, credentials: Credentials
    ) -> Outcome | None:
        bot_id = await self._bot_id(credentials)
        if not isinstance(bot_id, str):
            return bot_id
        # Snowflakes grow with time: our reply, if it exists, comes after the comment it answers.
        answer = await self._exchange(
            "GET",
            f"/channels/{channel_id}/messages",
            creates=False,
            params={"after": message_id, "limit": "100"},
            headers=self._headers(credentials),
        )
        if not isinstance(answer, httpx.Response):
            return answer
        try:
            messages = answer.json()
        except ValueError:
            return Failed("unexpected_answer")
        for message in messages if isinstance(messages, list) else []:
            if isinstance(message, dict) and _is_our_reply(message, bot_id, message_id, text):
                return Done(str(message.get("id")))
        return None

    async def _moderate(
        self, operation: Operation, target: CommentRef, credentials: Credentials, idempotency_key: str
    ) -> Outcome:
        where = address(target)
        if operation in (Operation.TIMEOUT, Operation.BAN):
            return await self._sanction(operation, where, credentials)
        answer = await self._exchange(
            "DELETE",
            f"/channels/{where.channel_id}/messages/{where.message_id}",
            creates=False,
            headers={**self._headers(credentials), "X-Audit-Log-Reason": AUDIT_REASON},
            gone_is_done=True,
        )
        return Done() if isinstance(answer, httpx.Response) else answer

    async def _author(self, where: DiscordAddress, credentials: Credentials) -> str | Outcome:
        answer = await self._exchange(
            "GET",
            f"/channels/{where.channel_id}/messages/{where.message_id}",
            creates=False,
            headers=self._headers(credentials),
        )
        # No message, no author: a timeout or ban cannot count as done on someone unknown.
        if not isinstance(answer, httpx.Response):
            return answer
        author = json_body(answer).get("author")
        author_id = author.get("id") if isinstance(author, dict) else None
        return str(author_id) if author_id else Failed("unexpected_answer")

    async def _sanction(
        self, operation: Operation, where: DiscordAddress, credentials: Credentials
    ) -> Outcome:
        if where.guild_id is None:
            return Failed(f"unsupported_in_direct_messages:{operation.value}")
        author = await self._author(where, credentials)
        if not isinstance(author, str):
            return author
        headers = {**self._headers(credentials), "X-Audit-Log-Reason": AUDIT_REASON}
        if operation is Operation.TIMEOUT:
            until = self._clock() + timedelta(seconds=self.timeout_seconds)
            answer = await self._exchange(
                "PATCH",
                f"/guilds/{where.guild_id}/members/{author}",
                creates=False,
                json={"communication_disabled_until": until.isoformat()},
                headers=headers,
            )
        else:
            answer = await self._exchange(
                "PUT",
                f"/guilds/{where.guild_id}/bans/{author}",
                creates=False,
                json={"delete_message_seconds": 0},
                headers=headers,
            )
        return Done() if isinstance(answer, httpx.Response) else answer


def _is_our_reply(message: dict[str, Any], bot_id: str, message_id: str, text: str) -> bool:
    author = message.get("author")
    if not isinstance(author, dict) or str(author.get("id")) != bot_id or message.get("content") != text:
        return False
    reference = message.get("message_reference")
    # A reply whose reference could not be kept has none; one that has it must point at the comment.
    return not isinstance(reference, dict) or str(reference.get("message_id")) == message_id
