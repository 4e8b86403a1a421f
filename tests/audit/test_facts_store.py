"""The facts tables on SQLite and PostgreSQL: out-of-order events, redeliveries, aggregation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import cast

import numpy as np
import pytest
from vigie_audit.adapters.facts import (
    CommentFact,
    DecisionFact,
    ReportFacts,
    Scope,
    TopicFact,
    Upsert,
    WorkFact,
)
from vigie_audit.adapters.store import AuditStore
from vigie_audit.domain.bias import Cell, Verdict, score_bin
from vigie_audit.privacy import AuditEraser
from vigie_shared.bus import Bus
from vigie_shared.db import create_engine
from vigie_shared.retention import Cutoffs

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


def topic(decision_id: str, who: str, community: str = "c1", at: datetime = T0, seed: int = 0) -> Upsert:
    vector = np.random.default_rng(seed).normal(size=384)
    vector /= np.linalg.norm(vector)
    return Upsert(
        TopicFact,
        {
            "decision_id": decision_id,
            "community": community,
            "subject": f"facebook:{who}",
            "decided_at": at,
            "language": "fr",
            "encoder": "e5-test",
            "vector": vector.astype("<f2").tobytes(),
            "words": "colis|retard",
        },
    )


async def test_topic_rows_are_read_per_language_and_one_encoder(facts: ReportFacts) -> None:
    other_encoder = topic("d3", "psn_b", seed=3)
    other_encoder.values["encoder"] = "older"
    await facts.apply([topic("d1", "psn_a", seed=1), topic("d2", "psn_b", seed=2), other_encoder])
    comments, sampled = await facts.topic_comments(EVERYTHING, limit=100)
    (french,) = comments
    assert french.language == "fr" and french.vectors.shape == (2, 384) and not sampled
    assert list(french.words) == [("colis", "retard"), ("colis", "retard")]
    assert (await facts.topic_comments(EVERYTHING, limit=2))[1] is True


async def test_an_erasure_deletes_the_person_s_topic_rows_and_only_theirs(facts: ReportFacts) -> None:
    await facts.apply([topic("d1", "psn_a"), topic("d2", "psn_a"), topic("d3", "psn_b")])
    assert await facts.erase_subject("facebook:psn_a") == {"report_topics": 2}
    (left,), _ = await facts.topic_comments(EVERYTHING, limit=100)
    assert left.vectors.shape[0] == 1
    assert await facts.erase_subject("facebook:psn_a") == {"report_topics": 0}


async def test_retention_purges_topic_rows_past_their_community_s_window(facts: ReportFacts) -> None:
    now = T0 + timedelta(days=100)
    await facts.apply(
        [
            topic("old-short", "psn_a", community="short", at=T0),
            topic("old-long", "psn_a", community="long", at=T0),
            topic("new-short", "psn_a", community="short", at=now - timedelta(days=1)),
        ]
    )
    cutoffs = Cutoffs.at(now, {"short": 30, "*": 365})
    assert await facts.purge_expired(cutoffs) == {"report_topics": 1}
    (left,), _ = await facts.topic_comments(EVERYTHING, limit=100)
    assert left.vectors.shape[0] == 2
    assert await facts.purge_expired(cutoffs) == {"report_topics": 0}


async def test_the_audit_eraser_reaches_topic_rows_for_erasure_and_retention(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        store = AuditStore(engine)
        await store.migrate()
        facts = ReportFacts(engine)
        # A bus that is not the embedded one: there is no bus file to scrub.
        eraser = AuditEraser(store, cast(Bus, object()), facts)
        await facts.apply([topic("d1", "psn_a"), topic("d2", "psn_b", at=T0 - timedelta(days=400))])
        assert await eraser.erase("facebook", "psn_a") == {"audit_personal": 0, "report_topics": 1}
        purged = await eraser.purge(Cutoffs.at(T0, {"*": 365}))
        assert purged == {"audit_personal": 0, "report_topics": 1}
        assert (await facts.topic_comments(EVERYTHING, limit=10))[0] == []
    finally:
        await engine.dispose()
