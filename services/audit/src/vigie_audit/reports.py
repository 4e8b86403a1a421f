"""Bias and insights reports for auditors: JSON, an HTML page (Accept: text/html), CSV for insights."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pydantic import AwareDatetime, BaseModel
from threadpoolctl import threadpool_limits
from vigie_shared.auth import Principal, Role, require

from vigie_audit import charts
from vigie_audit.adapters.facts import ReportFacts, Scope
from vigie_audit.domain.bias import (
    ACTIONS,
    BiasReport,
    Finding,
    GroupFigures,
    Interval,
    ReportConfig,
    ShadowFigures,
    build_report,
)
from vigie_audit.domain.identity_lexicon import GROUPS_BY_ID
from vigie_audit.domain.insights import Insights, build_insights, csv_rows
from vigie_audit.domain.topics import LanguageComments, LanguageTopics, TopicConfig, find_topics
from vigie_audit.settings import AuditSettings

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR))]
DEFAULT_PERIOD = timedelta(days=30)
NONE = "\u2013"  # an en dash where a figure is withheld or undefined
# Report pages run no script and load nothing: everything they show is in the document.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


class Format(StrEnum):
    JSON = "json"
    HTML = "html"
    CSV = "csv"


def get_facts(request: Request) -> ReportFacts:
    facts: ReportFacts = request.app.state.report_facts
    return facts


FactsDep = Annotated[ReportFacts, Depends(get_facts)]


@dataclass(frozen=True, slots=True)
class Period:
    community: str | None
    since: datetime
    until: datetime
    scope: Scope

    def describe(self) -> dict[str, str]:
        return {
            "community": self.community or "all you can see",
            "since": self.since.isoformat(timespec="minutes"),
            "until": self.until.isoformat(timespec="minutes"),
        }


def period(
    principal: Auditor,
    community: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="start, inclusive (default: until - 30 days)")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="end, exclusive (default: now)")] = None,
) -> Period:
    if community is not None and not principal.can_access(community):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this token is not allowed on that community")
    end = (until or datetime.now(UTC)).astimezone(UTC)
    start = (since or end - DEFAULT_PERIOD).astimezone(UTC)
    if start >= end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "since must be before until")
    communities = frozenset({community}) if community is not None else principal.community_filter()
    return Period(community, start, end, Scope(communities, start, end))


PeriodDep = Annotated[Period, Depends(period)]


def wanted(request: Request, explicit: Format | None, offered: tuple[Format, ...]) -> Format:
    """?format= wins; otherwise the first offered type the Accept header names; JSON by default."""
    if explicit is not None:
        if explicit not in offered:
            raise HTTPException(status.HTTP_406_NOT_ACCEPTABLE, f"offered: {', '.join(offered)}")
        return explicit
    accept = request.headers.get("accept", "")
    media = {Format.HTML: "text/html", Format.CSV: "text/csv", Format.JSON: "application/json"}
    for option in (Format.HTML, Format.CSV):
        if option in offered and media[option] in accept:
            return option
    return Format.JSON


def label(group: str) -> str:
    dimension, _, name = group.partition(":")
    if dimension == "language":
        return f"Language: {name}"
    known = GROUPS_BY_ID.get(group)
    if known is None:
        return group
    return f"{known.category.value.capitalize()}: {known.label_en} ({known.label_fr})"


def pct(value: float | None) -> str:
    return NONE if value is None else f"{100 * value:.1f}%"


def interval_text(value: Interval | None) -> str:
    return NONE if value is None else f"{value.value:.3f} [{value.low:.3f}, {value.high:.3f}]"


def describe(finding: Finding) -> str:
    if finding.metric == "flag_rate":
        return (
            f"flagged {pct(finding.value)} of the time against {pct(finding.reference)} for the reference "
            f"({100 * finding.gap:+.1f} points)"
        )
    if finding.metric == "overturn_rate":
        return (
            f"moderators overturned {pct(finding.value)} of its held comments against "
            f"{pct(finding.reference)} for the reference ({100 * finding.gap:+.1f} points)"
        )
    name = {"subgroup_auc": "subgroup AUC", "bpsn_auc": "BPSN AUC", "bnsp_auc": "BNSP AUC"}[finding.metric]
    return f"{name} {finding.value:.3f} against {finding.reference:.3f} overall ({finding.gap:+.3f})"


def report_templates() -> Environment:
    """The page templates, autoescaped; built by the app factory and kept on app.state."""
    environment = Environment(
        loader=PackageLoader("vigie_audit", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(pct=pct, interval=interval_text, describe=describe)
    return environment


def page(request: Request, template: str, **context: object) -> HTMLResponse:
    templates: Environment = request.app.state.report_templates
    html = templates.get_template(template).render(
        generated=datetime.now(UTC).isoformat(timespec="seconds"), **context
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"})


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    svg: Markup
    caption: str


def draw(specs: list[tuple[str, Callable[[], str | None], str]]) -> list[Chart]:
    drawn = []
    for name, render, caption in specs:
        svg = render()
        if svg is not None:
            # Produced by matplotlib from numbers, with text drawn as paths: no data reaches markup.
            drawn.append(Chart(name, Markup(svg), caption))  # noqa: S704
    return drawn


# ---- bias ------------------------------------------------------------------------------------


class IntervalOut(BaseModel):
    value: float
    low: float
    high: float


class FindingOut(BaseModel):
    metric: Literal["flag_rate", "overturn_rate", "subgroup_auc", "bpsn_auc", "bnsp_auc"]
    value: float
    reference: float
    gap: float
    description: str


class ShadowOut(BaseModel):
    compared: int
    differ_rate: float
    stricter_rate: float
    more_lenient_rate: float
    candidate_flag_rate: float


class GroupOut(BaseModel):
    group: str
    dimension: str
    label: str
    volume: int
    reviewed: int
    shown: bool
    flagged: bool
    flag_rate: float | None
    action_rates: dict[str, float]
    overturn_rate: float | None
    reference_flag_rate: float | None
    reference_overturn_rate: float | None
    subgroup_auc: IntervalOut | None
    bpsn_auc: IntervalOut | None
    bnsp_auc: IntervalOut | None
    shadow: ShadowOut | None
    findings: list[FindingOut]


class BiasReportOut(BaseModel):
    community: str | None
    since: datetime
    until: datetime
    volume: int
    reviewed: int
    flag_rate: float | None
    action_rates: dict[str, float]
    overturn_rate: float | None
    overall_auc: IntervalOut | None
    shadow: ShadowOut | None
    margin: float
    min_group_size: int
    bootstrap: int
    confidence: float
    groups: list[GroupOut]


def _interval_out(value: Interval | None) -> IntervalOut | None:
    return None if value is None else IntervalOut(value=value.value, low=value.low, high=value.high)


def _shadow_out(value: ShadowFigures | None) -> ShadowOut | None:
    if value is None:
        return None
    return ShadowOut(
        compared=value.compared,
        differ_rate=value.differ_rate,
        stricter_rate=value.stricter_rate,
        more_lenient_rate=value.more_lenient_rate,
        candidate_flag_rate=value.candidate_flag_rate,
    )


def _group_out(group: GroupFigures) -> GroupOut:
    return GroupOut(
        group=group.group,
        dimension=group.dimension,
        label=label(group.group),
        volume=group.volume,
        reviewed=group.reviewed,
        shown=group.shown,
        flagged=group.flagged,
        flag_rate=group.flag_rate,
        action_rates=group.action_rates,
        overturn_rate=group.overturn_rate,
        reference_flag_rate=group.reference_flag_rate,
        reference_overturn_rate=group.reference_overturn_rate,
        subgroup_auc=_interval_out(group.subgroup_auc),
        bpsn_auc=_interval_out(group.bpsn_auc),
        bnsp_auc=_interval_out(group.bnsp_auc),
        shadow=_shadow_out(group.shadow),
        findings=[
            FindingOut(
                metric=finding.metric,
                value=finding.value,
                reference=finding.reference,
                gap=finding.gap,
                description=describe(finding),
            )
            for finding in group.findings
        ],
    )


def report_config(settings: AuditSettings) -> ReportConfig:
    reports = settings.reports
    return ReportConfig(
        margin=reports.margin,
        min_group_size=reports.min_group_size,
        bootstrap=reports.bootstrap,
        confidence=reports.confidence,
    )


def bias_charts(report: BiasReport, labels: dict[str, str]) -> list[Chart]:
    return draw(
        [
            ("flag-rates", lambda: charts.flag_rates(report, labels),
             "Share of each group's comments the live policy flagged; red: flagged groups."),
            ("overturn-rates", lambda: charts.overturn_rates(report, labels),
             "Share of each group's held comments a moderator approved (the flag was wrong)."),
            ("aucs", lambda: charts.aucs(report, labels),
             "Subgroup, BPSN and BNSP AUC per group with 95% bootstrap intervals."),
            ("shadow", lambda: charts.shadow_differences(report, labels),
             "How often the shadow policy would have decided differently, per group."),
        ]
    )  # fmt: skip


@router.get(
    "/bias",
    summary="Bias report: rates, overturns and AUCs per language and identity group",
    response_model=BiasReportOut,
    responses={200: {"content": {"text/html": {}}}},
)
async def bias_report(
    request: Request,
    facts: FactsDep,
    scope: PeriodDep,
    format: Annotated[
        Format | None, Query(description="json or html; otherwise the Accept header decides")
    ] = None,
) -> Response | BiasReportOut:
    chosen = wanted(request, format, (Format.JSON, Format.HTML))
    settings: AuditSettings = request.app.state.settings
    cells = await facts.bias_cells(scope.scope)
    report = await asyncio.to_thread(build_report, cells, report_config(settings))
    if chosen is Format.HTML:
        labels = {group.group: label(group.group) for group in report.groups}
        drawn = await asyncio.to_thread(bias_charts, report, labels)
        return page(
            request,
            "bias.html.j2",
            report=report,
            labels=labels,
            flagged=[group for group in report.groups if group.flagged],
            actions=ACTIONS,
            charts=drawn,
            scope=scope.describe(),
        )
    return BiasReportOut(
        community=scope.community,
        since=scope.since,
        until=scope.until,
        volume=report.volume,
        reviewed=report.reviewed,
        flag_rate=report.flag_rate,
        action_rates=report.action_rates,
        overturn_rate=report.overturn_rate,
        overall_auc=_interval_out(report.overall_auc),
        shadow=_shadow_out(report.shadow),
        margin=report.config.margin,
        min_group_size=report.config.min_group_size,
        bootstrap=report.config.bootstrap,
        confidence=report.config.confidence,
        groups=[_group_out(group) for group in report.groups],
    )


# ---- insights --------------------------------------------------------------------------------


class SentimentDayOut(BaseModel):
    day: str
    negative: int
    neutral: int
    positive: int


class ModeratorOut(BaseModel):
    moderator: str
    reviews: int
    replies: int
    active_days: int
    per_active_day: float


class TopicOut(BaseModel):
    words: list[str]
    size: int
    share: float


class LanguageTopicsOut(BaseModel):
    language: str
    comments: int
    clusters: int
    silhouette: float | None
    withheld: int
    topics: list[TopicOut]


class InsightsOut(BaseModel):
    community: str | None
    since: datetime
    until: datetime
    timezone: str
    comments: int
    volume_by_weekday_hour: list[list[int]]
    volume_by_hour: list[int]
    most_active_hours: list[int]
    received: int
    replied: int
    response_rate: float | None
    median_first_response_s: float | None
    decisions: int
    action_rates: dict[str, float]
    sentiment: list[SentimentDayOut]
    moderators: list[ModeratorOut]
    topics: list[LanguageTopicsOut]
    topics_sampled: bool


def duration(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def topic_config(settings: AuditSettings) -> TopicConfig:
    reports = settings.reports
    return TopicConfig(
        min_cluster_size=reports.topic_min_cluster_size,
        max_clusters=reports.topic_max_clusters,
        max_sample=reports.topic_max_sample,
        min_word_comments=reports.topic_min_word_comments,
    )


def cluster_topics(comments: list[LanguageComments], config: TopicConfig) -> tuple[LanguageTopics, ...]:
    """One BLAS thread: the request shares two cores with the consumers, and OpenBLAS's thread per
    core turned 0.25 s of clustering into 2-7 s under load (bench/audit/topics.py)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return find_topics(comments, config)


def insights_charts(insights: Insights) -> list[Chart]:
    return draw(
        [
            ("activity", lambda: charts.activity(insights),
             f"Comments by weekday and hour ({insights.timezone})."),
            ("sentiment", lambda: charts.sentiment(insights),
             "Share of negative, neutral and positive comments per day."),
        ]
    )  # fmt: skip


@router.get(
    "/insights",
    summary="Community insights: activity, response times, sentiment, actions, topics, moderators",
    response_model=InsightsOut,
    responses={200: {"content": {"text/html": {}, "text/csv": {}}}},
)
async def insights_report(
    request: Request,
    facts: FactsDep,
    scope: PeriodDep,
    tz: Annotated[str, Query(max_length=64, description="IANA time zone for hours and days")] = "UTC",
    format: Annotated[Format | None, Query(description="json, html or csv; otherwise Accept decides")] = None,
) -> Response | InsightsOut:
    chosen = wanted(request, format, (Format.JSON, Format.HTML, Format.CSV))
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        # Shaped like any other invalid parameter, as the OpenAPI document promises for 422.
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "tz"), "msg": "unknown time zone"}]
        ) from None
    comments = await facts.comments(scope.scope)
    decisions = await facts.decisions(scope.scope)
    work = await facts.work(scope.scope)
    settings: AuditSettings = request.app.state.settings
    embedded, sampled = await facts.topic_comments(scope.scope, settings.reports.topic_max_comments)
    topics = await asyncio.to_thread(cluster_topics, embedded, topic_config(settings))
    insights = await asyncio.to_thread(build_insights, comments, decisions, work, zone, tz, topics, sampled)
    if chosen is Format.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(("section", "key", "subkey", "value"))
        writer.writerows(csv_rows(insights))
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="vigie-insights.csv"'},
        )
    if chosen is Format.HTML:
        drawn = await asyncio.to_thread(insights_charts, insights)
        return page(
            request,
            "insights.html.j2",
            insights=insights,
            charts=drawn,
            scope=scope.describe(),
            duration=duration,
            min_topic_size=settings.reports.topic_min_cluster_size,
        )
    return InsightsOut(
        community=scope.community,
        since=scope.since,
        until=scope.until,
        timezone=insights.timezone,
        comments=insights.comments,
        volume_by_weekday_hour=[list(row) for row in insights.by_weekday_hour],
        volume_by_hour=list(insights.by_hour),
        most_active_hours=list(insights.most_active_hours),
        received=insights.received,
        replied=insights.replied,
        response_rate=insights.response_rate,
        median_first_response_s=insights.median_first_response_s,
        decisions=insights.decisions,
        action_rates=insights.action_rates,
        sentiment=[
            SentimentDayOut(
                day=d.day.isoformat(), negative=d.negative, neutral=d.neutral, positive=d.positive
            )
            for d in insights.sentiment
        ],
        moderators=[
            ModeratorOut(
                moderator=m.moderator,
                reviews=m.reviews,
                replies=m.replies,
                active_days=m.active_days,
                per_active_day=m.per_active_day,
            )
            for m in insights.moderators
        ],
        topics=[
            LanguageTopicsOut(
                language=language.language,
                comments=language.comments,
                clusters=language.clusters,
                silhouette=language.silhouette,
                withheld=language.withheld,
                topics=[TopicOut(words=list(t.words), size=t.size, share=t.share) for t in language.topics],
            )
            for language in insights.topics
        ],
        topics_sampled=insights.topics_sampled,
    )
