"""Retry-After and reset headers, the quota day, and transport errors."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from vigie_platforms.outbound import RetryAfter
from vigie_platforms.outbound.classify import (
    MAX_RETRY_SECONDS,
    parse_epoch,
    parse_iso_reset,
    parse_retry_after,
    seconds_until_midnight,
)
from vigie_platforms.outbound.http import send

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("1.5", 1.5),
        ("Wed, 02 Dec 2026 12:01:00 GMT", 60.0),
        ("Wed, 02 Dec 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        (None, None),
        ("-3", 0.0),
        ("99999999", MAX_RETRY_SECONDS),
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_reset_headers() -> None:
    assert parse_epoch(str(NOW.timestamp() + 30), NOW) == 30.0
    assert parse_epoch("x", NOW) is None
    assert parse_iso_reset("2026-12-02T12:05:00.000Z", NOW) == 300.0
    assert parse_iso_reset("garbage", NOW) is None


def test_youtube_quota_day_ends_at_midnight_pacific_across_daylight_saving() -> None:
    assert (
        seconds_until_midnight(datetime(2026, 12, 2, 20, 0, tzinfo=UTC), "America/Los_Angeles") == 12 * 3600
    )
    # 1 a.m. PDT on 2026-07-01 is 08:00 UTC: 23 hours to go.
    assert seconds_until_midnight(datetime(2026, 7, 1, 8, 0, tzinfo=UTC), "America/Los_Angeles") == 23 * 3600


@pytest.mark.parametrize(
    ("error", "reason", "ambiguous_if_creating"),
    [
        (httpx.ConnectError("refused"), "connection_error", False),
        (httpx.ConnectTimeout("slow dns"), "connection_error", False),
        (httpx.PoolTimeout("pool"), "connection_error", False),
        (httpx.ReadTimeout("no answer"), "timeout", True),
        (httpx.WriteTimeout("stuck"), "timeout", True),
        (httpx.RemoteProtocolError("reset"), "connection_lost", True),
        (httpx.ReadError("reset"), "connection_lost", True),
    ],
)
async def test_transport_errors(error: Exception, reason: str, ambiguous_if_creating: bool) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail), base_url="http://x") as client:
        creating = await send(client, "POST", "/", creates=True)
        deleting = await send(client, "DELETE", "/", creates=False)
    assert creating == RetryAfter(2.0, reason, ambiguous=ambiguous_if_creating)
    assert deleting == RetryAfter(2.0, reason, ambiguous=False)
