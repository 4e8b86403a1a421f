"""Erasure, retention and redaction in the moderator's and the responder's stores, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from vigie_moderator.adapters.store import EXPIRED_TEXT, ReviewRow, ReviewStore
from vigie_responder.adapters.store import DraftRow, DraftStore, JobRow
from vigie_responder.privacy import erase_subject as erase_drafts
from vigie_responder.privacy import purge_expired as purge_drafts
from vigie_shared.db import create_engine, session_factory
from vigie_shared.privacy import ERASED_PSEUDONYM, ERASED_TEXT, merge_personal, scrub_personal, split_personal
from vigie_shared.retention import Cutoffs

NOW = datetime.now(UTC)


def review(
    review_id: str, *, pseudonym: str, text: str, community: str = "page-1", age_days: int = 0
) -> ReviewRow:
    return ReviewRow(
        id=review_id,
        platform="facebook",
        community=community,
        thread_id="t",
        comment_id=review_id,
        correlation_id=f"corr-{review_id}",
        author_pseudonym=pseudonym,
        text=text,
        language="fr",
        scores={"toxicity": 0.7},
        reasons=["toxicity 0.70 >= 0.50"],
        categories=["toxicity"],
        policy_version="p-1",
        status="pending",
        created_at=NOW - timedelta(days=age_days),
    )


@pytest.fixture
async def reviews(database_url: str) -> AsyncIterator[ReviewStore]:
    engine = create_engine(database_url)
    store = ReviewStore(engine)
    store.redaction_key = b"k"
    await store.migrate()
    yield store
    await engine.dispose()


async def test_reviews_are_redacted_at_write_time(reviews: ReviewStore) -> None:
    await reviews.add_if_absent(review("r1", pseudonym="psn_a", text="mon mail: a.b@example.org"))
    stored = await reviews.get("r1")
    assert "a.b@example.org" not in stored.text
    assert stored.text.startswith("mon mail: [email:")


async def test_erasure_blanks_one_persons_reviews_and_keeps_the_decisions(reviews: ReviewStore) -> None:
    await reviews.add_if_absent(
        review("r1", pseudonym="psn_a", text="un"),
        review("r2", pseudonym="psn_a", text="deux"),
        review("r3", pseudonym="psn_b", text="trois"),
    )
    assert await reviews.erase_subject("facebook", "psn_a") == {"moderator_reviews": 2}
    assert await reviews.erase_subject("youtube", "psn_b") == {"moderator_reviews": 0}
    erased = await reviews.get("r1")
    assert (erased.text, erased.author_pseudonym) == (ERASED_TEXT, ERASED_PSEUDONYM)
    assert erased.scores == {"toxicity": 0.7} and erased.reasons == ["toxicity 0.70 >= 0.50"]
    assert (await reviews.get("r3")).text == "trois"


async def test_retention_blanks_texts_per_community_once(reviews: ReviewStore) -> None:
    await reviews.add_if_absent(
        review("old", pseudonym="p", text="vieux", age_days=10),
        review("new", pseudonym="p", text="neuf", age_days=1),
        review("kept", pseudonym="p", text="gardé", community="page-2", age_days=10),
        review("default", pseudonym="p", text="défaut", community="page-3", age_days=100),
    )
    cutoffs = Cutoffs.at(NOW, {"page-1": 7, "page-2": 30, "*": 90})
    assert await reviews.purge_expired(cutoffs) == {"moderator_reviews": 2}
    assert await reviews.purge_expired(cutoffs) == {"moderator_reviews": 0}
    texts = {row_id: (await reviews.get(row_id)).text for row_id in ("old", "new", "kept", "default")}
    assert texts == {"old": EXPIRED_TEXT, "new": "neuf", "kept": "gardé", "default": EXPIRED_TEXT}


def draft(draft_id: str, pseudonym: str | None, *, age_days: int = 0) -> DraftRow:
    return DraftRow(
        id=draft_id,
        platform="facebook",
        community="page-1",
        thread_id="t",
        comment_id=draft_id,
        correlation_id=f"corr-{draft_id}",
        comment_text=f"question {draft_id}",
        author_pseudonym=pseudonym,
        language="fr",
        text=f"réponse {draft_id}",
        source="faq",
        status="edited",
        created_at=NOW - timedelta(days=age_days),
        final_text=f"réponse revue {draft_id}",
    )


async def test_responder_drafts_are_erased_by_author_and_purged_by_age(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        store = DraftStore(engine)
        await store.migrate()
        for row in (draft("d1", "psn_a"), draft("d2", "psn_b", age_days=40), draft("d3", None)):
            await store.add_if_absent(row)
        async with session_factory(engine)() as session, session.begin():
            session.add_all(
                [JobRow.for_reply(await store.get("d1")), JobRow.for_reply(await store.get("d2"))]
            )
        assert await erase_drafts(engine, "facebook", "psn_a") == {"responder_drafts": 1, "responder_jobs": 1}
        async with session_factory(engine)() as session:
            job_texts = dict((await session.execute(select(JobRow.draft_id, JobRow.text))).all())
        assert job_texts == {"d1": ERASED_TEXT, "d2": "réponse revue d2"}
        erased = await store.get("d1")
        assert (erased.comment_text, erased.text, erased.final_text) == (ERASED_TEXT, ERASED_TEXT, None)
        assert erased.author_pseudonym == ERASED_PSEUDONYM and erased.status == "edited"
        assert await purge_drafts(engine, Cutoffs.at(NOW, {"*": 30})) == {"responder_drafts": 1}
        async with session_factory(engine)() as session:
            texts = dict((await session.execute(select(DraftRow.id, DraftRow.comment_text))).all())
        assert texts == {"d1": ERASED_TEXT, "d2": "[expired]", "d3": "question d3"}
    finally:
        await engine.dispose()


def test_personal_fields_split_merge_and_scrub() -> None:
    body = {
        "comment": {"platform": "facebook"},
        "author": {"pseudonym": "psn_a", "display_name": "Zoé"},
        "text": "bonjour",
        "scores": {"toxicity": 0.1},
        "reason": None,
    }
    public, personal = split_personal(body)
    assert public == {
        "comment": {"platform": "facebook"},
        "author": {},
        "scores": {"toxicity": 0.1},
        "reason": None,
    }
    assert personal == {"author.pseudonym": "psn_a", "author.display_name": "Zoé", "text": "bonjour"}
    assert merge_personal(public, personal) == body
    scrubbed, count = scrub_personal(body)
    assert count == 3
    assert scrubbed["author"] == {"pseudonym": ERASED_PSEUDONYM} and scrubbed["text"] == ERASED_TEXT


def test_cutoffs_in_python_match_the_sql_rule() -> None:
    cutoffs = Cutoffs.at(NOW, {"a": 1, "*": 10})
    assert cutoffs.is_expired("a", NOW - timedelta(days=2))
    assert not cutoffs.is_expired("b", NOW - timedelta(days=2))
    assert cutoffs.is_expired(None, NOW - timedelta(days=11))
    assert Cutoffs.at(NOW, {}).empty
