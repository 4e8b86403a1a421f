"""TextScores invariants and the KeywordScorer test double."""

from __future__ import annotations

import pytest
from vigie_moderator.domain.scores import (
    CATEGORIES,
    KeywordScorer,
    Scorer,
    TextScores,
    normalise_text,
)

FULL = {**dict.fromkeys(CATEGORIES, 0.0), "sentiment": 0.0}


def test_categories_are_the_contract() -> None:
    assert CATEGORIES == ("toxicity", "insult", "threat", "identity_attack", "spam")


def test_missing_category_is_refused() -> None:
    scores = dict(FULL)
    del scores["spam"]
    with pytest.raises(ValueError, match="spam"):
        TextScores(language="en", scores=scores, top_terms={})


@pytest.mark.parametrize(("name", "value"), [("toxicity", 1.01), ("threat", -0.1), ("sentiment", -1.5)])
def test_out_of_range_is_refused(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        TextScores(language="en", scores={**FULL, name: value}, top_terms={})


def test_negative_sentiment_is_allowed() -> None:
    assert TextScores(language="fr", scores={**FULL, "sentiment": -1.0}).scores["sentiment"] == -1


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        TextScores(language="de", scores=FULL)


def test_normalise_text_composes_and_lowercases() -> None:
    assert normalise_text("E\u0301LE\u0300VE Œuvre") == "élève œuvre"


def test_keyword_scorer_is_a_scorer() -> None:
    scorer = KeywordScorer()
    assert isinstance(scorer, Scorer)
    assert scorer.model_versions == {"keyword": "test"}


def test_keyword_scorer_scores_in_order() -> None:
    results = KeywordScorer().score(
        ["Tu es un CONNARD", "Subscribe to my channel", "the weather is nice", "🙂"]
    )
    assert [r.language for r in results] == ["fr", "en", "en", "und"]
    assert results[0].scores["insult"] == 1.0
    assert results[0].top_terms["insult"] == ["connard"]
    assert results[0].scores["sentiment"] == -1.0
    assert results[1].scores["spam"] == 1.0
    assert results[1].scores["toxicity"] == 0.0
    assert all(v == 0.0 for v in results[2].scores.values())


def test_keyword_scorer_accepts_custom_keywords() -> None:
    scorer = KeywordScorer(keywords={"threat": frozenset({"boom"})})
    [result] = scorer.score(["BOOM"])
    assert result.scores["threat"] == 1.0
    assert result.scores["insult"] == 0.0
