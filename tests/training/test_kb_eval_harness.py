"""The retrieval harness: figures on hand-made outcomes, threshold choice, baselines' parts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.kb_eval import (
    Entry,
    LanguageCentroids,
    LexicalScores,
    Line,
    Outcome,
    ScoringSearch,
    at_threshold,
    choose_threshold,
    collect,
    combined,
    fold,
    top1,
)


def _line(entry_id: str | None, kind: str = "paraphrase", language: str = "fr") -> Line:
    return Line(f"about {entry_id}", language, entry_id, "offtopic" if entry_id is None else kind)


# (text, gold entry, first result, its score): two right and confident, one right but
# unsure, one wrong entry, two off-topic (one scored low, one scored high).
CASES = [
    ("q1", "a", "a", 0.9),
    ("q2", "b", "b", 0.8),
    ("q3", "c", "c", 0.4),
    ("q4", "d", "a", 0.7),
    ("o1", None, "b", 0.3),
    ("o2", None, "c", 0.85),
]


def _outcomes() -> list[Outcome]:
    lines = [
        Line(text, "fr", gold, "offtopic" if gold is None else "paraphrase") for text, gold, _, _ in CASES
    ]
    results = {text: (got, score) for text, _, got, score in CASES}

    def search(text: str) -> list[tuple[str, float]]:
        got, score = results[text]
        return [(got, score), ("zz", score - 0.5)]

    return collect(lines, search)


def test_top1_ignores_the_threshold() -> None:
    figures = top1(_outcomes())
    assert figures["all"] == {"n": 4, "top1": 0.75}
    assert figures["crosslingual"] == {"n": 0, "top1": None}


def test_figures_at_a_threshold_are_counted_by_hand() -> None:
    m = at_threshold(_outcomes(), 0.5)
    # Answered: a (right), b (right), d (wrong entry), off-topic at 0.85. Abstained: c, off-topic at 0.3.
    assert m["answer_precision"] == 0.5
    assert m["answer_recall"] == 0.5
    assert m["abstain_precision"] == 0.5
    assert m["abstain_recall"] == 0.5
    assert m["decision_accuracy"] == round(3 / 6, 4)
    assert m["offtopic_answered"] == 1
    assert m["wrong_entry_answered"] == 1


def test_answering_everything_and_nothing() -> None:
    everything = at_threshold(_outcomes(), -math.inf)
    assert everything["abstain_precision"] is None
    assert everything["answer_recall"] == 0.75
    nothing = at_threshold(_outcomes(), math.inf)
    assert nothing["answer_precision"] is None
    assert nothing["abstain_recall"] == 1.0
    assert nothing["abstain_precision"] == round(2 / 6, 4)


def test_choice_respects_the_floors_and_reports_when_they_cannot_be_met() -> None:
    outcomes = _outcomes()
    free = choose_threshold(outcomes, min_answer_precision=0.0, min_abstain_precision=0.0)
    assert free["floors_met"]
    # Above 0.85 only "a" is answered: precision 1.0; that is the only way to reach it.
    strict = choose_threshold(outcomes, min_answer_precision=1.0, min_abstain_precision=0.0)
    assert strict["floors_met"]
    assert strict["answer_precision"] == 1.0
    assert 0.85 < strict["threshold"] < 0.9
    impossible = choose_threshold(outcomes, min_answer_precision=1.0, min_abstain_precision=1.0)
    assert not impossible["floors_met"]
    assert impossible["criterion"] == free["criterion"]


def test_ties_keep_the_lower_threshold() -> None:
    lines = [_line("a"), Line("off", "en", None, "offtopic")]
    scores = {lines[0].text: 0.9, "off": 0.1}
    outcomes = collect(lines, lambda text: [("a", scores[text])])
    choice = choose_threshold(outcomes, 0.0, 0.0)
    assert choice["criterion"] == 1.0
    assert 0.1 < choice["threshold"] <= 0.5


def test_an_empty_result_is_an_abstention() -> None:
    outcomes = collect([_line("a"), Line("off", "en", None, "offtopic")], lambda text: [])
    m = at_threshold(outcomes, 0.0)
    assert m["abstain_recall"] == 1.0
    assert m["answer_recall"] == 0.0


ENTRIES = [
    Entry("delivery", {"fr": ["Quels sont les délais de livraison ?"]}, {"fr": "2 à 4 jours."}, ("d",)),
    Entry("hours", {"en": ["What are your opening hours?"]}, {"en": "10 to 7."}, ("s",)),
]


def test_fold_lowercases_and_strips_accents_and_punctuation() -> None:
    assert fold("Délais de LIVRAISON ?!") == "delais de livraison"


def test_lexical_search_finds_a_misspelt_question() -> None:
    search = ScoringSearch(ENTRIES, LexicalScores(ENTRIES))
    results = search("delai de livraison svp")
    assert [entry_id for entry_id, _ in results] == ["delivery", "hours"]
    assert results[0][1] > results[1][1]


def test_combined_weighs_two_score_functions() -> None:
    score = combined(lambda t: np.array([1.0, 0.0]), lambda t: np.array([0.0, 1.0]), 0.8)
    np.testing.assert_allclose(score("x"), [0.8, 0.2])


def test_language_centring_gives_unit_rows_and_reads_the_language_from_the_row() -> None:
    rng = np.random.default_rng(0)
    shared = rng.normal(size=8)
    en, fr = shared + np.eye(8)[0], shared - np.eye(8)[0]
    centroids = LanguageCentroids(en.astype(np.float32), fr.astype(np.float32))
    topic = np.eye(8)[3] * 0.5
    rows = np.stack([en + topic, fr + topic]).astype(np.float32)
    centred = centroids.centre(rows)
    np.testing.assert_allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-6)
    # The same topic in two languages becomes the same vector once each language is removed.
    assert float(centred[0] @ centred[1]) == pytest.approx(1.0, abs=1e-6)
    assert LanguageCentroids.from_json(centroids.to_json()).en == pytest.approx(centroids.en)
