"""What every outbound client promises: typed outcomes, credentials kept secret, documented limits.

The responder's dispatcher knows nothing of any platform: it asks a client to act on a `CommentRef`
and gets back one of three outcomes. Whether to wait, retry or give up is decided from the outcome
alone, so every platform's error codes are classified here, in its own client, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from pydantic import SecretStr
from vigie_shared.events.v1 import CommentRef, Platform


class Operation(StrEnum):
    REPLY = "reply"
    HIDE = "hide"
    UNHIDE = "unhide"
    DELETE = "delete"
    TIMEOUT = "timeout"
    BAN = "ban"


@dataclass(frozen=True, slots=True)
class Done:
    """The platform did it (or it was already so: a deleted object asked to be deleted again)."""

    platform_id: str | None = None


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """Try again no sooner than `seconds` from now.

    `ambiguous` is true when the request may have reached the platform (a timeout after sending, a 5xx
    on a non-idempotent call): before sending again the dispatcher passes `previously_ambiguous=True`
    so the client can look for what it may already have created.
    """

    seconds: float
    reason: str
    ambiguous: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    """No retry can fix it (token revoked, object gone for a reply, text refused, no credentials)."""

    reason: str


Outcome = Done | RetryAfter | Failed


class BadReference(ValueError):
    """A CommentRef whose ids cannot address anything on its platform (e.g. a non-numeric Telegram id).

    Clients turn it into `Failed("bad_reference")`; it never reaches the dispatcher.
    """


@dataclass(frozen=True, slots=True)
class Credentials:
    """One community's secrets for one platform; `repr` never shows them."""

    platform: Platform
    community: str
    values: Mapping[str, SecretStr] = field(repr=False)

    def secret(self, name: str) -> str:
        value = self.values.get(name)
        if value is None:
            raise KeyError(name)
        return value.get_secret_value()

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else value.get_secret_value()


@dataclass(frozen=True, slots=True)
class Limit:
    """A documented rate limit: at most `rate` calls per `period` seconds for everything sharing `key`.

    Keys name the scope the platform counts in (a token, a channel, a chat), never a secret: they are
    hashed or built from public ids so they can appear in metrics and logs.
    """

    key: str
    rate: float
    period: float
    cost: float = 1.0
    """Units one call spends of `rate` (YouTube counts quota units: a reply spends 50 of 10,000 a day)."""
    resets_daily_in: str | None = None
    """IANA zone whose midnight resets the budget (YouTube: America/Los_Angeles); None: a rolling window."""


class OutboundClient(Protocol):
    platform: Platform

    def supports(self, operation: Operation) -> bool: ...

    def max_reply_length(self, credentials: Credentials | None) -> int:
        """Longest reply text the platform accepts, in the unit it counts (characters here)."""
        ...

    def limits(self, target: CommentRef, credentials: Credentials) -> Sequence[Limit]:
        """The rate limits a call about `target` counts against."""
        ...

    async def reply(
        self,
        target: CommentRef,
        text: str,
        *,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool = False,
    ) -> Outcome:
        """Posts `text` in the thread `target` belongs to, as a reply to it where the platform allows."""
        ...

    async def moderate(
        self,
        operation: Operation,
        target: CommentRef,
        *,
        credentials: Credentials,
        idempotency_key: str,
        previously_ambiguous: bool = False,
    ) -> Outcome:
        """Hide, unhide, delete (or time out / ban the author where that is the platform's norm)."""
        ...
