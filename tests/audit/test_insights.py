from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from vigie_audit.domain.insights import (
    CommentTimes,
    DecisionSummary,
    HumanWork,
    build_insights,
    csv_rows,
)

MONDAY_9 = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def test_activity_response_times_sentiment_and_moderators() -> None:
    comments = [
        CommentTimes(MONDAY_9, MONDAY_9, MONDAY_9 + timedelta(minutes=10)),
        CommentTimes(
            MONDAY_9 + timedelta(minutes=20), MONDAY_9 + timedelta(minutes=20), MONDAY_9 + timedelta(hours=1)
        ),
        CommentTimes(MONDAY_9 + timedelta(days=1, hours=5), MONDAY_9 + timedelta(days=1, hours=5), None),
        # A reply that arrived before the comment was seen (clock skew) counts as zero, not negative.
        CommentTimes(MONDAY_9, MONDAY_9 + timedelta(minutes=5), MONDAY_9),
    ]
    decisions = [
        DecisionSummary(MONDAY_9, "allow", 0.8),
        DecisionSummary(MONDAY_9, "review", -0.6),
        DecisionSummary(MONDAY_9, "allow", 0.1),
        DecisionSummary(MONDAY_9 + timedelta(days=1), "hide", None),
    ]
    work = [
        HumanWork("review", "mod_a", MONDAY_9),
        HumanWork("reply", "mod_a", MONDAY_9 + timedelta(days=1)),
        HumanWork("review", "mod_b", MONDAY_9),
    ]
    insights = build_insights(comments, decisions, work, UTC, "UTC")
    assert insights.comments == 4
    assert insights.by_weekday_hour[0][9] == 3  # Monday 09:xx
    assert insights.by_weekday_hour[1][14] == 1  # Tuesday 14:15
    assert insights.most_active_hours == (9, 14)
    assert insights.received == 4 and insights.replied == 3
    assert insights.response_rate == pytest.approx(0.75)
    assert insights.median_first_response_s == pytest.approx(600)  # of 0, 600, 2400 s
    assert insights.action_rates == pytest.approx({"allow": 0.5, "review": 0.25, "hide": 0.25, "remove": 0.0})
    (day,) = insights.sentiment
    assert (day.negative, day.neutral, day.positive) == (1, 1, 1)
    assert [(m.moderator, m.reviews, m.replies, m.active_days) for m in insights.moderators] == [
        ("mod_a", 1, 1, 2),
        ("mod_b", 1, 0, 1),
    ]
    assert insights.topics == ()  # no decision carried an embedding


def test_hours_and_days_follow_the_requested_time_zone() -> None:
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # Monday in UTC, Tuesday 00:30 in Paris
    paris = build_insights([CommentTimes(late, None, None)], [], [], ZoneInfo("Europe/Paris"), "Europe/Paris")
    assert paris.by_weekday_hour[1][0] == 1
    assert paris.received == 0 and paris.response_rate is None


def test_csv_is_long_format_with_every_section() -> None:
    insights = build_insights([CommentTimes(MONDAY_9, MONDAY_9, None)], [], [], UTC, "UTC")
    rows = csv_rows(insights)
    assert ("summary", "comments", "", "1") in rows
    assert ("volume", "mon", "09", "1") in rows
    assert ("most_active_hour", "1", "09", "1") in rows
    assert sum(1 for row in rows if row[0] == "volume") == 7 * 24
