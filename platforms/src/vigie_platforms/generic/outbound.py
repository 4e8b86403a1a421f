"""Any other source: a signed callback to the URL in its credentials, mirroring the generic webhook.

Vigie POSTs a JSON `GenericAction` (operation, the comment's ids, the text for a reply) to the
community's `url`, signed like the inbound generic webhook: `X-Vigie-Signature: sha256=<hex>`, an
HMAC-SHA256 under `signing_secret` of the `X-Vigie-Timestamp` bytes followed by the raw body. The
`Idempotency-Key` header (and the body's `idempotency_key`) stays the same across retries: a
receiver that remembers it answers a repeat with what it did the first time (2xx, or 409 with the
same `id`). Answers: 2xx `{"id": "..."}` done; 404/410 the comment is gone; 401/403 refused;
429 with Retry-After; 5xx retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

import httpx
from vigie_shared.events.v1 import CommentRef, Platform

from vigie_platforms.generic.ids import address
from vigie_platforms.outbound.base import Credentials, Done, Failed, Operation, Outcome
from vigie_platforms.outbound.classify import (
    OBJECT_GONE,
    TOKEN_INVALID,
    json_body,
    rate_limited,
    server_error,
)
from vigie_platforms.outbound.client import HttpOutboundClient

MAX_REPLY_LENGTH = 10_000  # the longest draft Vigie writes (reply.drafted)
TIMESTAMP_HEADER = "X-Vigie-Timestamp"
SIGNATURE_HEADER = "X-Vigie-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def classify(response: httpx.Response, now: datetime, *, creates: bool, gone_is_done: bool) -> Outcome | None:
    status = response.status_code
    if response.is_success or status == 409:  # 409: already done under this idempotency key
        return None
    if status == 429:
        return rate_limited(response, now)
    if status == 401:
        return TOKEN_INVALID
    if status == 403:
        return Failed("forbidden")
    if status in (404, 410):
        return Done() if gone_is_done else OBJECT_GONE
    if status >= 500:
        return server_error(response, now, creates=creates)
    return Failed(f"rejected:{status}")


class GenericClient(HttpOutboundClient):
    platform: Platform = Platform.GENERIC
    operations: ClassVar[frozenset[Operation]] = frozenset(
        {Operation.REPLY, Operation.HIDE, Operation.UNHIDE, Operation.DELETE}
    )
    reply_limit: ClassVar[int] = MAX_REPLY_LENGTH
    refusal = staticmethod(classify)

    async def _post(
        self, operation: Operation, target: CommentRef, text: str | None, credentials: Credentials, key: str
    ) -> Outcome:
        body: dict[str, object] = {"operation": operation.value, **address(target), "idempotency_key": key}
        if text is not None:
            body["text"] = text
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self._clock().timestamp()))
        creates = operation is Operation.REPLY
        url = urlsplit(credentials.secret("url"))
        path = url.path or "/"
        answer = await self._exchange(
            "POST",
            f"{path}?{url.query}" if url.query else path,
            creates=creates,
            content=raw,
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(credentials.secret("signing_secret"), timestamp, raw),
            },
            gone_is_done=not creates,
            client=self._http.client(f"{url.scheme}://{url.netloc}"),
        )
        if not isinstance(answer, httpx.Response):
            return answer
        created = json_body(answer).get("id")
        if created:
            return Done(str(created))
        # A reply needs an id to show; a receiver that gives none is named by the key it deduplicates on.
        return Done(key if creates else None)

    async def _reply(
        self,
        target: CommentRef,
        text: str,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool,
    ) -> Outcome:
        return await self._post(Operation.REPLY, target, text, credentials, idempotency_key)

    async def _moderate(
        self, operation: Operation, target: CommentRef, credentials: Credentials, idempotency_key: str
    ) -> Outcome:
        return await self._post(operation, target, None, credentials, idempotency_key)
