"""Telegram messages: reply under the message (in its forum topic), delete.

https://core.telegram.org/bots/api#making-requests : every answer is `{"ok": ...}`; a failure has
`error_code`, `description` and sometimes `parameters` with `retry_after` (flood control: seconds to
wait) or `migrate_to_chat_id` (the group became a supergroup under a new id). The bot token is part
of the URL path, which is why the HTTP pool's log filter exists. Limits (Bot FAQ): about one message
per second in a chat, 20 a minute in a group, 30 a second overall. The Bot API cannot read a chat's
history, so an ambiguous send cannot be checked before sending again; hiding does not exist, and
restricting or banning needs the sender's user id, which a CommentRef does not carry.
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
    server_error,
)
from vigie_platforms.outbound.client import HttpOutboundClient
from vigie_platforms.outbound.redact import fingerprint
from vigie_platforms.telegram.ids import address

MAX_REPLY_LENGTH = 4_096

GONE_PHRASES = (
    "message to be replied not found",
    "message to delete not found",
    "message_id_invalid",
    "chat not found",
    "message thread not found",
)
KNOWN_REFUSALS = {
    "message can't be deleted": "cant_delete",
    "message is too long": "text_too_long",
    "not enough rights": "not_enough_rights",
    "have no rights": "not_enough_rights",
}


def classify(response: httpx.Response, now: datetime, *, creates: bool, gone_is_done: bool) -> Outcome | None:
    body = json_body(response)
    if response.is_success and body.get("ok") is True:
        return None
    raw_parameters = body.get("parameters")
    parameters: dict[str, Any] = raw_parameters if isinstance(raw_parameters, dict) else {}
    raw_code = body.get("error_code")
    code: int = raw_code if isinstance(raw_code, int) else response.status_code
    if code == 429 or isinstance(parameters.get("retry_after"), int | float):
        wait = parameters.get("retry_after")
        seconds = float(wait) if isinstance(wait, int | float) else None
        seconds = seconds or parse_retry_after(response.headers.get("retry-after"), now)
        return RetryAfter(seconds or RATE_LIMIT_RETRY_SECONDS, "rate_limited", ambiguous=False)
    if "migrate_to_chat_id" in parameters:
        return Failed("chat_migrated")
    if code in (401, 404):  # 404: no bot answers at that token's path
        return TOKEN_INVALID
    if code == 403:
        return Failed("forbidden")
    if code >= 500:
        return server_error(response, now, creates=creates)
    description = str(body.get("description") or "").lower()
    if any(phrase in description for phrase in GONE_PHRASES):
        return Done() if gone_is_done else OBJECT_GONE
    for phrase, reason in KNOWN_REFUSALS.items():
        if phrase in description:
            return Failed(f"rejected:{reason}")
    return Failed(f"rejected:{code}")


class TelegramClient(HttpOutboundClient):
    platform: Platform = Platform.TELEGRAM
    operations: ClassVar[frozenset[Operation]] = frozenset({Operation.REPLY, Operation.DELETE})
    reply_limit: ClassVar[int] = MAX_REPLY_LENGTH
    refusal = staticmethod(classify)

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        # Keyed on the raw chat id: a reference too malformed to send still gets its limits.
        chat = target.community
        limits = [Limit(f"telegram:chat:{chat}", 1, 1)]
        if chat.startswith("-"):
            limits.append(Limit(f"telegram:group:{chat}", 20, 60))
        limits.append(Limit(f"telegram:bot:{fingerprint(credentials.secret('bot_token'))}", 30, 1))
        return tuple(limits)

    async def _call(
        self,
        method: str,
        payload: dict[str, Any],
        credentials: Credentials,
        *,
        creates: bool,
        gone_is_done: bool,
    ) -> dict[str, Any] | Outcome:
        answer = await self._exchange(
            "POST",
            f"/bot{credentials.secret('bot_token')}/{method}",
            creates=creates,
            json=payload,
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
        # The Bot API cannot read a chat's history: an ambiguous send is sent again (docs/platforms.md).
        where = address(target)
        payload: dict[str, Any] = {
            "chat_id": where.chat_id,
            "text": text,
            "reply_parameters": {"message_id": where.message_id},
            "link_preview_options": {"is_disabled": True},
        }
        if where.topic_id is not None:
            payload["message_thread_id"] = where.topic_id
        sent = await self._call("sendMessage", payload, credentials, creates=True, gone_is_done=False)
        if not isinstance(sent, dict):
            return sent
        result = sent.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Done(str(message_id)) if message_id is not None else Failed("unexpected_answer")

    async def _moderate(
        self, operation: Operation, target: CommentRef, credentials: Credentials, idempotency_key: str
    ) -> Outcome:
        where = address(target)
        payload = {"chat_id": where.chat_id, "message_id": where.message_id}
        deleted = await self._call("deleteMessage", payload, credentials, creates=False, gone_is_done=True)
        return Done() if isinstance(deleted, dict) else deleted
