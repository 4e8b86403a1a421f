"""TextScores invariants and the KeywordScorer test double."""

from __future__ import annotations

import pytest
from vigie_moderator.domain.scores import (
    CATEGORIES,
    PAD_CHAR,
    SPAM_SIGNALS,
    KeywordScorer,
    Scorer,
    TextScores,
    fold_text,
    normalise_text,
    profanity_input,
    profanity_signals,
    spam_signals,
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


def test_fold_text_harmonises_corpora_and_undoes_obfuscation() -> None:
    assert fold_text("@Bob42 regarde https://t.co/x &amp; URL") == "@user regarde url & url"
    assert fold_text("T'es qu'un C0NNARD, a$$hole, connnnnard") == "t'es qu'un connard, asshole, connard"
    assert fold_text("Élève   très\n\tdoué") == "eleve tres doue"
    assert PAD_CHAR not in fold_text(f"a{PAD_CHAR}b")


def test_spam_signals_see_what_rewording_cannot_hide() -> None:
    plain = dict(zip(SPAM_SIGNALS, spam_signals("nice song"), strict=True))
    loud = dict(
        zip(
            SPAM_SIGNALS,
            spam_signals("CHECK www.win.com!!! call +44 7700 900123 now $$$ mail me@x.io"),
            strict=True,
        )
    )
    assert plain["links"] == 0 and loud["links"] >= 1
    assert loud["phone_numbers"] >= 1 and plain["phone_numbers"] == 0
    assert loud["email_addresses"] >= 1
    assert loud["upper_share"] > plain["upper_share"]
    assert loud["currency"] >= 1
    assert len(spam_signals("")) == len(SPAM_SIGNALS)


def test_profanity_signals_route_by_language() -> None:
    en, fr, und = (profanity_signals(0.9, lang) for lang in ("en", "fr", "und"))
    assert en[0] > 0 and en[1] == 0
    assert fr[0] == 0 and fr[1] == en[0]
    assert und == [0.0, 0.0]
    assert profanity_signals(0.0, "en")[0] < 0


def test_profanity_input_keeps_accents_but_undoes_obfuscation() -> None:
    assert profanity_input("You 1D10T &amp; élève") == "you idiot & élève"
