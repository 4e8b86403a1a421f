"""Reading the parts of an HTTP answer every platform shares: Retry-After, 5xx, JSON error bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from vigie_platforms.outbound.base import Failed, RetryAfter

SERVER_RETRY_SECONDS = 5.0
RATE_LIMIT_RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 24 * 3600.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def _bounded(seconds: float) -> float:
    return min(max(seconds, 0.0), MAX_RETRY_SECONDS)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """RFC 9110 Retry-After: delta-seconds (fractions accepted, Discord sends them) or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return _bounded(float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _bounded((when - now).total_seconds())


def parse_epoch(value: str | None, now: datetime) -> float | None:
    """Seconds until a Unix timestamp header (Twitch's `Ratelimit-Reset`)."""
    if not value:
        return None
    try:
        return _bounded(float(value) - now.timestamp())
    except ValueError:
        return None


def parse_iso_reset(value: str | None, now: datetime) -> float | None:
    """Seconds until an ISO 8601 instant header (Mastodon's `X-RateLimit-Reset`)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _bounded((when - now).total_seconds())


def seconds_until_midnight(now: datetime, zone: str) -> float:
    """Until the next midnight in `zone` (YouTube's quota day is Pacific time)."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tz)
    return max(1.0, (midnight - local).total_seconds())


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} when it is empty, not JSON or not an object."""
    if not response.content:
        return {}
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def rate_limited(
    response: httpx.Response, now: datetime, *, default: float = RATE_LIMIT_RETRY_SECONDS
) -> RetryAfter:
    """A 429: the platform refused before acting, so never ambiguous."""
    seconds = parse_retry_after(response.headers.get("retry-after"), now)
    return RetryAfter(default if seconds is None else seconds, "rate_limited", ambiguous=False)


def server_error(response: httpx.Response, now: datetime, *, creates: bool) -> RetryAfter:
    """A 5xx: transient, and ambiguous for a create since the platform may have acted before failing."""
    seconds = parse_retry_after(response.headers.get("retry-after"), now)
    return RetryAfter(
        SERVER_RETRY_SECONDS if seconds is None else seconds,
        f"server_error:{response.status_code}",
        ambiguous=creates,
    )


TOKEN_INVALID = Failed("token_invalid")
OBJECT_GONE = Failed("object_gone")
