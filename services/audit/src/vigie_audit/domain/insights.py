"""What a community's audience is doing and how fast the team answers. Pure.

Times are bucketed in the time zone the caller asks for (UTC by default), since "the hours the
community is most active" only mean something on the community's own clock.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from statistics import median

from vigie_audit.domain.bias import ACTIONS
from vigie_audit.domain.topics import LanguageTopics

SENTIMENT_BANDS = (-0.25, 0.25)
"""The moderator's sentiment is P(positive) - P(negative), in [-1, 1]: below -0.25 counts as
negative, above 0.25 as positive, and the rest as neutral."""
MOST_ACTIVE = 3


@dataclass(frozen=True, slots=True)
class CommentTimes:
    created_at: datetime | None
    received_at: datetime | None
    first_reply_at: datetime | None


@dataclass(frozen=True, slots=True)
class DecisionSummary:
    decided_at: datetime
    action: str
    sentiment: float | None


@dataclass(frozen=True, slots=True)
class HumanWork:
    kind: str
    moderator: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SentimentDay:
    day: date
    negative: int
    neutral: int
    positive: int

    @property
    def total(self) -> int:
        return self.negative + self.neutral + self.positive


@dataclass(frozen=True, slots=True)
class ModeratorThroughput:
    moderator: str
    reviews: int
    replies: int
    active_days: int

    @property
    def total(self) -> int:
        return self.reviews + self.replies

    @property
    def per_active_day(self) -> float:
        return self.total / self.active_days if self.active_days else 0.0


@dataclass(frozen=True, slots=True)
class Insights:
    comments: int
    by_weekday_hour: tuple[tuple[int, ...], ...]
    """7 rows (Monday first) of 24 counts."""
    most_active_hours: tuple[int, ...]
    received: int
    replied: int
    response_rate: float | None
    median_first_response_s: float | None
    decisions: int
    action_rates: dict[str, float]
    sentiment: tuple[SentimentDay, ...]
    moderators: tuple[ModeratorThroughput, ...]
    timezone: str
    topics: tuple[LanguageTopics, ...] = ()
    """Per language (vigie_audit.domain.topics); empty when no decision carried an embedding."""
    topics_sampled: bool = False
    """True when the period held more comments than a report reads: topics come from a sample."""

    @property
    def by_hour(self) -> tuple[int, ...]:
        return tuple(sum(row[hour] for row in self.by_weekday_hour) for hour in range(24))


def sentiment_band(value: float) -> str:
    low, high = SENTIMENT_BANDS
    if value < low:
        return "negative"
    if value > high:
        return "positive"
    return "neutral"


def build_insights(
    comments: Iterable[CommentTimes],
    decisions: Iterable[DecisionSummary],
    work: Iterable[HumanWork],
    zone: tzinfo,
    zone_name: str,
    topics: tuple[LanguageTopics, ...] = (),
    topics_sampled: bool = False,
) -> Insights:
    grid = [[0] * 24 for _ in range(7)]
    count = received = 0
    delays: list[float] = []
    for comment in comments:
        if comment.created_at is not None:
            local = comment.created_at.astimezone(zone)
            grid[local.weekday()][local.hour] += 1
            count += 1
        if comment.received_at is not None:
            received += 1
            if comment.first_reply_at is not None:
                delays.append(max(0.0, (comment.first_reply_at - comment.received_at).total_seconds()))
    by_hour = [sum(row[hour] for row in grid) for hour in range(24)]
    active = sorted((hour for hour in range(24) if by_hour[hour]), key=lambda h: (-by_hour[h], h))

    actions: Counter[str] = Counter()
    days: dict[date, Counter[str]] = defaultdict(Counter)
    for decision in decisions:
        actions[decision.action] += 1
        if decision.sentiment is not None:
            days[decision.decided_at.astimezone(zone).date()][sentiment_band(decision.sentiment)] += 1
    total_decisions = sum(actions.values())

    return Insights(
        comments=count,
        by_weekday_hour=tuple(tuple(row) for row in grid),
        most_active_hours=tuple(active[:MOST_ACTIVE]),
        received=received,
        replied=len(delays),
        response_rate=len(delays) / received if received else None,
        median_first_response_s=median(delays) if delays else None,
        decisions=total_decisions,
        action_rates={a: actions[a] / total_decisions for a in ACTIONS} if total_decisions else {},
        sentiment=tuple(
            SentimentDay(day, bands["negative"], bands["neutral"], bands["positive"])
            for day, bands in sorted(days.items())
        ),
        moderators=_throughput(work, zone),
        timezone=zone_name,
        topics=topics,
        topics_sampled=topics_sampled,
    )


def _throughput(work: Iterable[HumanWork], zone: tzinfo) -> tuple[ModeratorThroughput, ...]:
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    days: dict[str, set[date]] = defaultdict(set)
    for item in work:
        kinds[item.moderator][item.kind] += 1
        days[item.moderator].add(item.at.astimezone(zone).date())
    rows = [
        ModeratorThroughput(name, counts["review"], counts["reply"], len(days[name]))
        for name, counts in kinds.items()
    ]
    rows.sort(key=lambda row: (-row.total, row.moderator))
    return tuple(rows)


def csv_rows(insights: Insights) -> Sequence[tuple[str, str, str, str]]:
    """Long format (section, key, sub-key, value): one file a spreadsheet can pivot any way."""
    rows: list[tuple[str, str, str, str]] = [
        ("summary", "comments", "", str(insights.comments)),
        ("summary", "received", "", str(insights.received)),
        ("summary", "replied", "", str(insights.replied)),
        ("summary", "response_rate", "", _number(insights.response_rate)),
        ("summary", "median_first_response_s", "", _number(insights.median_first_response_s)),
        ("summary", "decisions", "", str(insights.decisions)),
        ("summary", "timezone", "", insights.timezone),
        ("summary", "topics_sampled", "", str(insights.topics_sampled).lower()),
    ]
    weekdays = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for weekday, row in zip(weekdays, insights.by_weekday_hour, strict=True):
        rows += [("volume", weekday, f"{hour:02d}", str(n)) for hour, n in enumerate(row)]
    rows += [("most_active_hour", str(rank), f"{hour:02d}", str(insights.by_hour[hour]))
             for rank, hour in enumerate(insights.most_active_hours, 1)]  # fmt: skip
    rows += [("action_rate", action, "", _number(rate)) for action, rate in insights.action_rates.items()]
    for day in insights.sentiment:
        rows += [
            ("sentiment", day.day.isoformat(), "negative", str(day.negative)),
            ("sentiment", day.day.isoformat(), "neutral", str(day.neutral)),
            ("sentiment", day.day.isoformat(), "positive", str(day.positive)),
        ]
    for moderator in insights.moderators:
        rows += [
            ("moderator", moderator.moderator, "reviews", str(moderator.reviews)),
            ("moderator", moderator.moderator, "replies", str(moderator.replies)),
            ("moderator", moderator.moderator, "active_days", str(moderator.active_days)),
        ]
    for language in insights.topics:
        rows += [
            ("topics", language.language, "comments", str(language.comments)),
            ("topics", language.language, "clusters", str(language.clusters)),
            ("topics", language.language, "silhouette", _number(language.silhouette)),
            ("topics", language.language, "withheld", str(language.withheld)),
        ]
        for rank, topic in enumerate(language.topics, 1):
            key = f"{language.language}:{rank}"
            rows += [
                ("topic", key, "size", str(topic.size)),
                ("topic", key, "share", _number(topic.share)),
                # Words are letters only (topic_words), so no cell can start a spreadsheet formula.
                ("topic", key, "words", " ".join(topic.words)),
            ]
    return rows


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
