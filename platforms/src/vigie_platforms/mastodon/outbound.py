"""Mastodon statuses: reply, with the server's own idempotency.

https://docs.joinmastodon.org/methods/statuses/#create : an `Idempotency-Key` header makes the
server return the status it already created under that key (keys are kept for an hour), so a retry
after a timeout or a 5xx does not post twice. A 422 is a validation refusal (too long, replying to
something that cannot be replied to) that no retry fixes. The character limit is the instance's
(`configuration.statuses.max_characters` of `GET /api/v2/instance`, 500 on a stock server), read
once per instance and cached. https://docs.joinmastodon.org/api/rate-limits/ : 300 calls per
5 minutes per account; a 429 carries `X-RateLimit-Reset` as an ISO 8601 instant.
Moderating someone else's status is an admin action on their account (report, silence, suspend),
which Vigie does not take on a moderator's behalf: hide and delete are not offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx
from vigie_shared.events.v1 import CommentRef, Platform

from vigie_platforms.mastodon.ids import address
from vigie_platforms.outbound.base import Credentials, Done, Failed, Limit, Operation, Outcome, RetryAfter
from vigie_platforms.outbound.classify import (
    OBJECT_GONE,
    RATE_LIMIT_RETRY_SECONDS,
    TOKEN_INVALID,
    json_body,
    parse_iso_reset,
    parse_retry_after,
    server_error,
)
from vigie_platforms.outbound.client import HttpOutboundClient
from vigie_platforms.outbound.http import send
from vigie_platforms.outbound.redact import fingerprint

DEFAULT_MAX_CHARACTERS = 500


def classify(response: httpx.Response, now: datetime, *, creates: bool, gone_is_done: bool) -> Outcome | None:
    if response.is_success:
        return None
    status = response.status_code
    if status == 429:
        seconds = parse_iso_reset(response.headers.get("x-ratelimit-reset"), now)
        seconds = (
            seconds if seconds is not None else parse_retry_after(response.headers.get("retry-after"), now)
        )
        return RetryAfter(RATE_LIMIT_RETRY_SECONDS if seconds is None else seconds, "rate_limited")
    if status == 401:
        return TOKEN_INVALID
    if status == 403:
        return Failed("forbidden")
    if status in (404, 410):
        return Done() if gone_is_done else OBJECT_GONE
    if status == 422:
        message = str(json_body(response).get("error") or "").lower()
        return Failed("text_too_long" if "character limit" in message else "rejected:422")
    if status >= 500:
        return server_error(response, now, creates=creates)
    return Failed(f"rejected:{status}")


class MastodonClient(HttpOutboundClient):
    platform: Platform = Platform.MASTODON
    operations: ClassVar[frozenset[Operation]] = frozenset({Operation.REPLY})
    reply_limit: ClassVar[int] = DEFAULT_MAX_CHARACTERS
    refusal = staticmethod(classify)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_characters: dict[str, int] = {}

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        account = fingerprint(credentials.secret("access_token"))
        return (Limit(f"mastodon:account:{address(target).host}:{account}", 300, 300),)

    def max_reply_length(self, credentials: Credentials | None) -> int:
        if credentials is None:
            return DEFAULT_MAX_CHARACTERS
        configured = credentials.get("max_characters")
        if configured:
            return int(configured)
        return self._max_characters.get(credentials.secret("instance_url"), DEFAULT_MAX_CHARACTERS)

    async def discover(self, credentials: Credentials) -> int:
        """The instance's limit, asked once and cached; the default when the instance does not say."""
        if credentials.get("max_characters"):
            return self.max_reply_length(credentials)
        instance = credentials.secret("instance_url")
        known = self._max_characters.get(instance)
        if known is not None:
            return known
        answer = await send(self._http.client(instance), "GET", "/api/v2/instance", creates=False)
        if isinstance(answer, RetryAfter) or not answer.is_success:
            return DEFAULT_MAX_CHARACTERS  # not cached: the next reply asks again
        statuses = (json_body(answer).get("configuration") or {}).get("statuses") or {}
        value = statuses.get("max_characters") if isinstance(statuses, dict) else None
        limit = value if isinstance(value, int) and value > 0 else DEFAULT_MAX_CHARACTERS
        self._max_characters[instance] = limit
        return limit

    async def _reply_limit(self, credentials: Credentials) -> int:
        return await self.discover(credentials)

    async def _reply(
        self,
        target: CommentRef,
        text: str,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool,
    ) -> Outcome:
        # The Idempotency-Key makes a repeat of an ambiguous post return the first status, so no
        # lookup is needed within the hour the server keeps the key.
        answer = await self._exchange(
            "POST",
            "/api/v1/statuses",
            creates=True,
            json={"status": text, "in_reply_to_id": address(target).status_id},
            headers={
                "Authorization": f"Bearer {credentials.secret('access_token')}",
                "Idempotency-Key": idempotency_key,
            },
            client=self._http.client(credentials.secret("instance_url")),
        )
        if not isinstance(answer, httpx.Response):
            return answer
        created = json_body(answer).get("id")
        return Done(str(created)) if created else Failed("unexpected_answer")
