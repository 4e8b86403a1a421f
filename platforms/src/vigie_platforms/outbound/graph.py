"""Meta Graph API answers, shared by the Facebook Page and Instagram clients.

https://developers.facebook.com/docs/graph-api/guides/error-handling : errors are
`{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}`, usually with
HTTP 400. Codes 1 and 2 are temporary server trouble; 4, 17, 32, 341, 613 and 80001-80014 are rate
limits (the `X-Business-Use-Case-Usage` header then says how many minutes until access returns);
190 is a dead token; 100 with subcode 33 is an object that does not exist (deleted, or never ours).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from vigie_shared.events.v1 import CommentRef

from vigie_platforms.outbound.base import Credentials, Done, Failed, Operation, Outcome, RetryAfter
from vigie_platforms.outbound.classify import (
    OBJECT_GONE,
    RATE_LIMIT_RETRY_SECONDS,
    SERVER_RETRY_SECONDS,
    TOKEN_INVALID,
    json_body,
    rate_limited,
    server_error,
)
from vigie_platforms.outbound.client import HttpOutboundClient

TRANSIENT_CODES = frozenset({1, 2})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80015)})
TOKEN_CODES = frozenset({190, 102})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
GONE_SUBCODES = frozenset({33})


def _regain_seconds(response: httpx.Response) -> float | None:
    """Longest `estimated_time_to_regain_access` (minutes) across the usage headers, in seconds."""
    longest: float | None = None
    for name in ("x-business-use-case-usage", "x-page-usage", "x-app-usage"):
        raw = response.headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        buckets = [usage] if not isinstance(usage, dict) or "call_count" in usage else list(usage.values())
        for bucket in buckets:
            for entry in bucket if isinstance(bucket, list) else [bucket]:
                minutes = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(minutes, int | float) and minutes > 0:
                    longest = max(longest or 0.0, float(minutes) * 60)
    return longest


def classify(response: httpx.Response, now: datetime, *, creates: bool, gone_is_done: bool) -> Outcome | None:
    """The outcome of an unsuccessful answer; None when the answer is a success the caller reads."""
    if response.status_code == 429:
        return rate_limited(response, now)
    body = json_body(response)
    error = body.get("error")
    if response.is_success and not isinstance(error, dict):
        return None
    if not isinstance(error, dict):
        if response.status_code >= 500:
            return server_error(response, now, creates=creates)
        return Failed(f"http_{response.status_code}")
    code = error.get("code")
    subcode = error.get("error_subcode")
    if code in TOKEN_CODES:
        return TOKEN_INVALID
    if code in RATE_LIMIT_CODES:
        regain = _regain_seconds(response)
        return RetryAfter(regain or RATE_LIMIT_RETRY_SECONDS, f"rate_limited:{code}", ambiguous=False)
    if code == 100 and subcode in GONE_SUBCODES:
        return Done() if gone_is_done else OBJECT_GONE
    if code in TRANSIENT_CODES or error.get("is_transient") is True or response.status_code >= 500:
        return RetryAfter(SERVER_RETRY_SECONDS, f"graph_transient:{code}", ambiguous=creates)
    if code in PERMISSION_CODES:
        return Failed(f"permission_denied:{code}")
    suffix = f"/{subcode}" if isinstance(subcode, int) else ""
    return Failed(f"graph_error:{code}{suffix}")


class GraphClient(HttpOutboundClient):
    """Reply, hide, unhide and delete through the Graph API with a Page (or Instagram) token.

    The token goes in the `Authorization` header, never the query string, so no URL carries it.
    After an ambiguous reply the target's replies are listed first: one written by the community's
    own account with the same text is the reply already made.
    """

    reply_edge: ClassVar[str]
    hide_field: ClassVar[str]
    reply_fields: ClassVar[str]
    lookup_params: ClassVar[dict[str, str]] = {}
    refusal = staticmethod(classify)
    lookup_pages: ClassVar[int] = 3

    def _headers(self, credentials: Credentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {credentials.secret('access_token')}"}

    def _reply_target(self, target: CommentRef) -> str:
        raise NotImplementedError

    def _is_ours(self, item: dict[str, Any], target: CommentRef) -> bool:
        raise NotImplementedError

    def _text_of(self, item: dict[str, Any]) -> str | None:
        raise NotImplementedError

    async def _reply(
        self,
        target: CommentRef,
        text: str,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool,
    ) -> Outcome:
        parent = self._reply_target(target)
        if previously_ambiguous:
            found = await self._find_reply(parent, target, text, credentials)
            if found is not None:
                return found
        answer = await self._exchange(
            "POST",
            f"/{quote(parent, safe='')}/{self.reply_edge}",
            creates=True,
            data={"message": text},
            headers=self._headers(credentials),
        )
        if not isinstance(answer, httpx.Response):
            return answer
        created = json_body(answer).get("id")
        return Done(str(created)) if created else Failed("unexpected_answer")

    async def _find_reply(
        self, parent: str, target: CommentRef, text: str, credentials: Credentials
    ) -> Outcome | None:
        """Done with the id of our earlier reply, a RetryAfter if the list failed, else None (send)."""
        params: dict[str, str] = {"fields": self.reply_fields, "limit": "100", **self.lookup_params}
        for _ in range(self.lookup_pages):
            answer = await self._exchange(
                "GET",
                f"/{quote(parent, safe='')}/{self.reply_edge}",
                creates=False,
                params=params,
                headers=self._headers(credentials),
            )
            if not isinstance(answer, httpx.Response):
                # Not being able to look means not knowing: retry rather than risk a second reply.
                return answer
            body = json_body(answer)
            for item in body.get("data") or []:
                if isinstance(item, dict) and self._is_ours(item, target) and self._text_of(item) == text:
                    return Done(str(item.get("id")))
            after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (body.get("paging") or {}).get("next"):
                return None
            params = {**params, "after": str(after)}
        return None

    async def _moderate(
        self, operation: Operation, target: CommentRef, credentials: Credentials, idempotency_key: str
    ) -> Outcome:
        path = f"/{quote(target.comment_id, safe='')}"
        if operation is Operation.DELETE:
            answer = await self._exchange(
                "DELETE", path, creates=False, headers=self._headers(credentials), gone_is_done=True
            )
        else:
            hidden = "true" if operation is Operation.HIDE else "false"
            answer = await self._exchange(
                "POST",
                path,
                creates=False,
                data={self.hide_field: hidden},
                headers=self._headers(credentials),
                gone_is_done=True,
            )
        if not isinstance(answer, httpx.Response):
            return answer
        if json_body(answer).get("success") is False:
            return Failed("not_applied")
        return Done()
