"""Events in, text-free partial rows out: what the facts consumer keeps of each event."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from pydantic import ValidationError
from vigie_audit.adapters.facts import CommentFact, DecisionFact, TopicFact, WorkFact
from vigie_audit.domain.identity_lexicon import IdentityLexicon
from vigie_audit.report_facts import FactExtractor, moderator_pseudonym
from vigie_moderator.adapters.encoder_scorer import compact_embedding
from vigie_shared.bus import Message
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import (
    TOPICS,
    Action,
    Author,
    CommentChange,
    CommentReceived,
    CommentRef,
    Keyed,
    ModerationDecided,
    ModerationReviewed,
    Platform,
    ReviewVerdict,
    ShadowDecision,
    TextEmbedding,
)

REF = CommentRef(platform=Platform.YOUTUBE, community="chan", thread_id="v1", comment_id="c1")
PARIS = timezone(timedelta(hours=1))
AT = datetime(2026, 11, 30, 10, 0, tzinfo=PARIS)
KEY = b"k"


def message(data: Keyed, event_id: str = "e1") -> Message:
    event = Envelope[Keyed].wrap(data, source="vigie/test", correlationid="corr-1", id=event_id)
    headers = {name: value.decode() for name, value in event.headers()}
    return Message(
        topic=TOPICS[event.type], key=data.key(), value=event.body(), headers=headers, partition=0, offset=0
    )


def extractor() -> FactExtractor:
    return FactExtractor(harm_scores=("toxicity", "insult"), moderator_key=KEY, lexicon=IdentityLexicon())


def test_a_decision_keeps_groups_scores_and_actions_but_not_the_text() -> None:
    decided = ModerationDecided(
        comment=REF,
        author=Author(pseudonym="psn_1", display_name="Camille"),
        text="Les femmes handicapées ont le droit de parler",
        language="fr",
        scores={"toxicity": 0.2, "insult": 0.61, "spam": 0.9, "sentiment": -0.3},
        action=Action.REVIEW,
        reasons=["insult 0.61 >= review"],
        policy_version="chan/live/2",
        model_versions={},
        shadow=ShadowDecision(policy_version="chan/shadow/3", action=Action.HIDE, reasons=[]),
        review_id="e1",
    )
    (upsert,) = extractor().facts(message(decided))
    assert upsert.model is DecisionFact
    assert upsert.values["decision_id"] == "e1"
    assert upsert.values["identity_groups"] == "|disability:disabled|gender:women|"
    assert upsert.values["harm_score"] == 0.61  # spam is not a harm score here
    assert upsert.values["sentiment"] == -0.3
    assert (upsert.values["action"], upsert.values["shadow_action"]) == ("review", "hide")
    assert "Camille" not in str(upsert.values) and "femmes" not in str(upsert.values)
    assert "psn_1" not in str(upsert.values)


def test_a_verdict_lands_on_its_decision_and_counts_as_the_moderator_s_work() -> None:
    reviewed = ModerationReviewed(
        comment=REF, review_id="dec-9", verdict=ReviewVerdict.APPROVE, reviewer="alice", decided_at=AT
    )
    verdict, work = extractor().facts(message(reviewed, "rev-1"))
    assert verdict.model is DecisionFact
    assert verdict.values["decision_id"] == "dec-9"
    assert verdict.values["verdict"] == "acceptable"
    assert verdict.values["reviewed_at"].utcoffset() == timedelta(0)
    assert work.model is WorkFact
    assert (
        work.values["moderator"]
        == moderator_pseudonym(KEY, "alice")
        != moderator_pseudonym(b"other", "alice")
    )
    assert "alice" not in str(work.values)


def test_only_a_comment_s_first_version_counts_as_received() -> None:
    def received(change: CommentChange) -> Message:
        return message(
            CommentReceived(
                comment=REF,
                change=change,
                author=Author(pseudonym="psn_1"),
                text="bonjour",
                created_at=AT,
                received_at=AT + timedelta(seconds=3),
            )
        )

    (created,) = extractor().facts(received(CommentChange.CREATED))
    assert created.model is CommentFact
    assert created.values["correlation_id"] == "corr-1"
    assert created.values["created_at"] == AT
    assert extractor().facts(received(CommentChange.EDITED)) == []


def test_a_decision_with_an_embedding_keeps_its_vector_and_content_words_under_its_subject() -> None:
    vector = np.linspace(-1.0, 1.0, 384, dtype=np.float32)
    decided = ModerationDecided(
        comment=REF,
        author=Author(pseudonym="psn_1"),
        text="Mon colis n'est jamais arrivé, écrivez-moi à camille@example.org ou au 06 12 34 56 78",
        language="fr",
        scores={"toxicity": 0.01, "sentiment": -0.4},
        action=Action.ALLOW,
        reasons=[],
        policy_version="chan/live/2",
        model_versions={"encoder": "e5-test"},
        embedding=compact_embedding(vector, "e5-test"),
    )
    decision, topic = extractor().facts(message(decided))
    assert decision.model is DecisionFact and topic.model is TopicFact
    values = topic.values
    assert values["subject"] == "youtube:psn_1" and values["encoder"] == "e5-test"
    stored = np.frombuffer(values["vector"], dtype="<f2").astype(np.float32)
    assert stored.shape == (384,)
    assert float(stored @ (vector / np.linalg.norm(vector))) > 0.999  # unit length, float16 is close
    assert values["words"] == "colis|arrivé|écrivez-moi"
    assert "example" not in values["words"] and "camille" not in values["words"]
    assert values["decided_at"].utcoffset() == timedelta(0)


def test_an_embedding_whose_length_does_not_match_its_dimension_is_refused() -> None:
    good = compact_embedding(np.ones(8, dtype=np.float32), "e5-test")
    with pytest.raises(ValidationError):
        TextEmbedding(encoder="e5-test", dimension=9, float16=good.float16)
