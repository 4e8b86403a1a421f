"""What every HTTP client shares: refusing what cannot be sent before any call, and the clock.

Subclasses implement `_reply` and `_moderate` for the operations they list in `operations`; the
checks here (operation supported, text not empty and within the platform's length, credentials for
this platform) run first so a refused call never reaches the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

import httpx
from vigie_shared.events.v1 import CommentRef, Platform

from vigie_platforms.outbound.base import (
    BadReference,
    Credentials,
    Failed,
    Limit,
    Operation,
    Outcome,
    RetryAfter,
)
from vigie_platforms.outbound.classify import utcnow
from vigie_platforms.outbound.http import HttpPool, send

Clock = Callable[[], datetime]
# How a platform reads an unsuccessful answer: None when the status is a success.
Refusal = Callable[..., Outcome | None]

MODERATION = frozenset({Operation.HIDE, Operation.UNHIDE, Operation.DELETE, Operation.TIMEOUT, Operation.BAN})


class HttpOutboundClient:
    platform: Platform
    operations: ClassVar[frozenset[Operation]]
    reply_limit: ClassVar[int]
    # Each platform module's `classify(response, now, *, creates, gone_is_done)`.
    refusal: ClassVar[Refusal]

    def __init__(self, http: HttpPool, base_url: str = "", *, clock: Clock = utcnow) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def _client(self) -> httpx.AsyncClient:
        return self._http.client(self.base_url)

    async def _exchange(
        self,
        method: str,
        url: str,
        *,
        creates: bool,
        gone_is_done: bool = False,
        client: httpx.AsyncClient | None = None,
        **kwargs: Any,
    ) -> httpx.Response | Outcome:
        """The platform's successful answer, or the outcome that ends this attempt: a transport
        failure, or a refusal as this platform reads it (`gone_is_done`: a 404 means done)."""
        answer = await send(client or self._client, method, url, creates=creates, **kwargs)
        if isinstance(answer, RetryAfter):
            return answer
        refused = type(self).refusal(answer, self._clock(), creates=creates, gone_is_done=gone_is_done)
        return answer if refused is None else refused

    def supports(self, operation: Operation) -> bool:
        return operation in self.operations

    def max_reply_length(self, credentials: Credentials | None) -> int:
        return self.reply_limit

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        return ()

    async def reply(
        self,
        target: CommentRef,
        text: str,
        *,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool = False,
    ) -> Outcome:
        refused = self._refuse(Operation.REPLY, target, credentials)
        if refused is not None:
            return refused
        if not text.strip():
            return Failed("empty_text")
        try:
            limit = await self._reply_limit(credentials)
            if len(text) > limit:
                return Failed(f"text_too_long:{limit}")
            outcome = await self._reply(target, text, credentials, idempotency_key, previously_ambiguous)
        except KeyError as missing:
            return Failed(f"credentials_incomplete:{missing.args[0]}")
        except BadReference:
            return Failed("bad_reference")
        if previously_ambiguous and isinstance(outcome, RetryAfter) and not outcome.ambiguous:
            # An earlier attempt may have posted and this one could not find out: that stays true
            # until an answer settles it, whatever failed this time (the lookup, a 429...).
            return replace(outcome, ambiguous=True)
        return outcome

    async def moderate(
        self,
        operation: Operation,
        target: CommentRef,
        *,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool = False,
    ) -> Outcome:
        if operation not in MODERATION:
            return Failed(f"unsupported_operation:{operation.value}")
        refused = self._refuse(operation, target, credentials)
        if refused is not None:
            return refused
        try:
            return await self._moderate(operation, target, credentials, idempotency_key)
        except KeyError as missing:
            return Failed(f"credentials_incomplete:{missing.args[0]}")
        except BadReference:
            return Failed("bad_reference")

    def _refuse(self, operation: Operation, target: CommentRef, credentials: Credentials) -> Failed | None:
        if not self.supports(operation):
            return Failed(f"unsupported_operation:{operation.value}")
        if target.platform != self.platform or credentials.platform != self.platform:
            return Failed("wrong_platform")
        return None

    async def _reply_limit(self, credentials: Credentials) -> int:
        """The limit to check a text against; Mastodon overrides it to ask the instance."""
        return self.max_reply_length(credentials)

    async def _reply(
        self,
        target: CommentRef,
        text: str,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool,
    ) -> Outcome:
        raise NotImplementedError

    async def _moderate(
        self, operation: Operation, target: CommentRef, credentials: Credentials, idempotency_key: str
    ) -> Outcome:
        raise NotImplementedError
