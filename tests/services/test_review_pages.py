"""The review queue is filtered and paged in SQL, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigie_moderator.adapters.store import ReviewRow, ReviewStore
from vigie_shared.db import open_store

from tests.conftest import Tokens
from tests.services.apps import build, running

BASE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def review(n: int, *, community: str = "c", categories: list[str], at: datetime | None = None) -> ReviewRow:
    return ReviewRow(
        id=f"r{n:03d}",
        platform="discord",
        community=community,
        thread_id="t",
        comment_id=str(n),
        correlation_id=f"corr-{n}",
        author_pseudonym="psn",
        text=f"comment {n}",
        language="en",
        scores={"toxicity": 0.6},
        reasons=[],
        categories=categories,
        policy_version="p1",
        status="pending",
        created_at=at or BASE + timedelta(minutes=n),
    )


async def test_pages_cover_the_queue_once_in_order_and_filter_in_sql(database_url: str) -> None:
    async with open_store(ReviewStore, database_url) as store:
        rows = [
            review(
                n,
                categories=["toxicity"] if n % 2 else ["spam", "rule:links"],
                community="c" if n < 9 else "d",
            )
            for n in range(12)
        ]
        # Two rows created at the same instant: the id breaks the tie, so no page skips one.
        rows.append(review(50, categories=["toxicity"], at=BASE + timedelta(minutes=3)))
        await store.add_if_absent(*rows)
        seen: list[str] = []
        after = None
        while True:
            page = await store.pending(communities=frozenset({"c"}), after=after, limit=4)
            if not page:
                break
            seen += [row.id for row in page]
            after = (page[-1].created_at, page[-1].id)
        assert seen == ["r000", "r001", "r002", "r003", "r050", "r004", "r005", "r006", "r007", "r008"]
        spam = await store.pending(category="spam")
        assert [row.id for row in spam] == ["r000", "r002", "r004", "r006", "r008", "r010"]
        rule = await store.pending(category="rule:links", communities=frozenset({"d"}))
        assert [row.id for row in rule] == ["r010"]
        # A category that is a prefix or a substring of another is not a match.
        assert await store.pending(category="rule") == []
        assert await store.pending(category="tox") == []


async def test_the_list_route_hands_out_a_cursor_until_the_last_page(tmp_path: Path, tokens: Tokens) -> None:
    app = build("moderator", tmp_path, tokens)
    async with running(app) as svc:
        store: ReviewStore = app.state.reviews
        await store.add_if_absent(*(review(n, categories=["spam"]) for n in range(5)))
        auth = Tokens.header(tokens.moderator)
        first = await svc.client.get("/v1/reviews", params={"limit": 2}, headers=auth)
        assert [item["id"] for item in first.json()] == ["r000", "r001"]
        cursor = first.headers["x-next-cursor"]
        second = await svc.client.get("/v1/reviews", params={"limit": 2, "cursor": cursor}, headers=auth)
        assert [item["id"] for item in second.json()] == ["r002", "r003"]
        third = await svc.client.get(
            "/v1/reviews", params={"limit": 2, "cursor": second.headers["x-next-cursor"]}, headers=auth
        )
        assert [item["id"] for item in third.json()] == ["r004"]
        assert "x-next-cursor" not in third.headers
        bad = await svc.client.get("/v1/reviews", params={"cursor": "not-a-cursor"}, headers=auth)
        assert bad.status_code == 422
        huge = await svc.client.get("/v1/reviews", params={"min_age_seconds": 10**12}, headers=auth)
        assert huge.status_code == 422
