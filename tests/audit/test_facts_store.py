"""The facts tables on SQLite and PostgreSQL: out-of-order events, redeliveries, aggregation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from vigie_audit.adapters.facts import CommentFact, DecisionFact, ReportFacts, Scope, Upsert, WorkFact
from vigie_audit.adapters.store import AuditStore
from vigie_audit.domain.bias import Cell, Verdict, score_bin
from vigie_shared.db import create_engine

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
EVERYTHING = Scope(None, None, None)


@pytest.fixture
async def facts(database_url: str) -> AsyncIterator[ReportFacts]:
    engine = create_engine(database_url)
    await AuditStore(engine).migrate()  # the facts tables come with the audit history
    yield ReportFacts(engine)
    await engine.dispose()


def decided(decision_id: str, community: str = "c1", at: datetime = T0, **extra: object) -> Upsert:
    values = {
        "decision_id": decision_id,
        "community": community,
        "platform": "facebook",
        "decided_at": at,
        "language": "fr",
        "identity_groups": "|religion:muslim|",
        "action": "review",
        "harm_score": 0.7321,
        "sentiment": 0.1,
    } | extra
    return Upsert(DecisionFact, values)


def verdict(decision_id: str, value: Verdict) -> Upsert:
    return Upsert(
        DecisionFact,
        {
            "decision_id": decision_id,
            "community": "c1",
            "platform": "facebook",
            "verdict": value.value,
            "reviewed_at": T0,
        },
    )


async def test_a_verdict_before_its_decision_and_redeliveries_land_on_one_row(facts: ReportFacts) -> None:
    await facts.apply([verdict("d1", Verdict.ACCEPTABLE)])
    assert await facts.bias_cells(EVERYTHING) == []  # no decision yet: nothing to report
    await facts.apply([decided("d1"), decided("d1"), decided("d2", action="allow", identity_groups="")])
    cells = await facts.bias_cells(EVERYTHING)
    assert sorted(cells, key=lambda c: c.action) == [
        Cell(frozenset({"language:fr"}), "allow", None, None, None, 1),
        Cell(
            frozenset({"language:fr", "religion:muslim"}),
            "review",
            None,
            Verdict.ACCEPTABLE,
            score_bin(0.7321),
            1,
        ),
    ]


async def test_the_scope_filters_community_and_time(facts: ReportFacts) -> None:
    await facts.apply(
        [
            decided("a", community="c1", at=T0),
            decided("b", community="c2", at=T0),
            decided("c", community="c1", at=T0 + timedelta(days=2)),
        ]
    )

    async def volume(scope: Scope) -> int:
        return sum(cell.count for cell in await facts.bias_cells(scope))

    assert await volume(EVERYTHING) == 3
    assert await volume(Scope(frozenset({"c1"}), None, None)) == 2
    assert await volume(Scope(frozenset({"c1"}), T0, T0 + timedelta(days=1))) == 1
    assert await volume(Scope(frozenset({"c1"}), T0 + timedelta(seconds=1), None)) == 1


async def test_comment_times_keep_the_earliest_value_whatever_the_order(facts: ReportFacts) -> None:
    def comment(**values: object) -> Upsert:
        return Upsert(
            CommentFact, {"correlation_id": "k", "community": "c1", "platform": "facebook"} | values
        )

    await facts.apply([comment(first_reply_at=T0 + timedelta(minutes=30))])
    await facts.apply([comment(created_at=T0, received_at=T0 + timedelta(seconds=1))])
    await facts.apply([comment(first_reply_at=T0 + timedelta(minutes=10))])
    await facts.apply([comment(first_reply_at=T0 + timedelta(minutes=50))])
    (row,) = await facts.comments(EVERYTHING)
    assert row.created_at == T0
    assert row.first_reply_at == T0 + timedelta(minutes=10)


async def test_human_work_is_recorded_once_per_event(facts: ReportFacts) -> None:
    work = Upsert(
        WorkFact, {"event_id": "e1", "community": "c1", "kind": "review", "moderator": "mod_x", "at": T0}
    )
    await facts.apply([work, work])
    assert len(await facts.work(EVERYTHING)) == 1
