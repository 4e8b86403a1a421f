"""The knowledge index, composition and grounding checks, without the encoder (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from vigie_responder.domain.drafting import Intent, Tone, compose, fit
from vigie_responder.domain.grounding import ungrounded
from vigie_responder.domain.knowledge import (
    Entry,
    Hit,
    KnowledgeIndex,
    LanguageCentroids,
    RetrievalParams,
    fold,
)

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
PARAMS = RetrievalParams(threshold=0.5, lexical_weight=0.0)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def rows(vector: np.ndarray, count: int = 2) -> np.ndarray:
    """The same vector for every question and answer of an entry."""
    return np.stack([vector] * count)


def entry(entry_id: str, **kwargs: object) -> Entry:
    return Entry(
        entry_id=entry_id,
        questions=kwargs.pop("questions", {"en": [f"question {entry_id}"]}),  # type: ignore[arg-type]
        answers=kwargs.pop("answers", {"en": f"answer {entry_id}"}),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_best_fitting_entry_comes_first_and_nothing_below_the_threshold() -> None:
    index = KnowledgeIndex.build(
        [
            (
                entry("delivery", questions={"en": ["when do you ship"], "fr": ["quand livrez-vous"]}),
                np.stack([unit(1, 0, 0), unit(0.9, 0.1, 0), unit(1, 0, 0)]),
            ),
            (entry("returns"), rows(unit(0, 1, 0))),
        ],
        3,
    )
    hits = index.search(unit(0.95, 0.2, 0), "x", now=NOW, params=PARAMS)
    assert [h.entry_id for h in hits] == ["delivery"]  # returns scores under 0.5: not offered
    assert hits[0].matched_question in ("when do you ship", "quand livrez-vous")
    assert index.search(unit(0, 0, 1), "x", now=NOW, params=PARAMS) == []


def test_an_entry_outside_its_dates_is_never_offered() -> None:
    seasonal = entry("sale", valid_from=NOW + timedelta(days=1), valid_until=NOW + timedelta(days=8))
    index = KnowledgeIndex.build([(seasonal, rows(unit(1, 0)))], 2)
    assert index.search(unit(1, 0), "x", now=NOW, params=PARAMS) == []
    assert [
        h.entry_id for h in index.search(unit(1, 0), "x", now=NOW + timedelta(days=2), params=PARAMS)
    ] == ["sale"]
    assert index.search(unit(1, 0), "x", now=NOW + timedelta(days=8), params=PARAMS) == []


def test_the_lexical_signal_rescues_a_typo_only_as_much_as_its_weight() -> None:
    index = KnowledgeIndex.build(
        [(entry("track", questions={"en": ["where is my parcel"]}), rows(unit(1, 0)))], 2
    )
    query = unit(0.6, 0.8)  # semantically 0.6
    assert index.search(query, "wher is my parcell", now=NOW, params=RetrievalParams(0.65, 0.0)) == []
    [hit] = index.search(query, "wher is my parcell", now=NOW, params=RetrievalParams(0.65, 0.5))
    assert hit.lexical > 0.6


def test_an_entry_scores_the_mean_of_its_best_question_and_its_best_answer() -> None:
    index = KnowledgeIndex.build([(entry("e"), np.stack([unit(1, 0), unit(0, 1)]))], 2)
    [hit] = index.rank(unit(1, 0), "x", now=NOW, params=PARAMS)
    assert hit.score == pytest.approx(0.5)


def test_language_centring_removes_what_a_language_shares() -> None:
    shared = 0.5**0.5
    centroids = LanguageCentroids(
        en=np.array([0.0, 0.0, shared], dtype=np.float32), fr=np.array([0.0, 0.0, -shared], dtype=np.float32)
    )
    french, english = unit(1, 0, -1), unit(0, 1, 1)
    centred = centroids.centre(np.stack([french, english]))
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0)
    assert centred[0] @ unit(1, 0, 0) == pytest.approx(1.0)
    assert centred[1] @ unit(0, 1, 0) == pytest.approx(1.0)


def test_fold_keeps_letters_and_digits_only() -> None:
    assert fold("Livrez-vous à Québec ?!") == "livrez vous a quebec"


def hit(entry_id: str) -> Hit:
    return Hit(entry_id, 0.9, "q", 0.9, 0.0)


def test_a_french_comment_gets_the_french_answer_in_the_communitys_register() -> None:
    both = entry("d", answers={"en": "Two days.", "fr": "Deux jours."})
    draft = compose(
        intent=Intent.QUESTION,
        comment_language="fr",
        hit=hit("d"),
        entry=both,
        tone=Tone(greeting={"fr": "Bonjour !"}, signature={"fr": "L'équipe"}),
    )
    assert draft is not None
    assert draft.text == "Bonjour ! Deux jours.\nL'équipe"
    assert (draft.kb_entry_id, draft.needs_translation, draft.template) == ("d", False, "kb_answer")


def test_an_answer_missing_in_the_comments_language_is_marked_for_translation() -> None:
    english_only = entry("d", answers={"en": "Two days."})
    draft = compose(
        intent=Intent.QUESTION, comment_language="fr", hit=hit("d"), entry=english_only, tone=Tone()
    )
    assert draft is not None
    assert draft.needs_translation
    assert draft.language == "fr"


@pytest.mark.parametrize(
    ("intent", "address", "expected"),
    [
        (Intent.COMPLAINT, "vous", "message privé"),
        (Intent.COMPLAINT, "tu", "Peux-tu"),
        (Intent.PRAISE, "vous", "Merci beaucoup pour votre message"),
        (Intent.PRAISE, "tu", "ton message"),
    ],
)
def test_templates_follow_intent_and_register(intent: Intent, address: str, expected: str) -> None:
    draft = compose(
        intent=intent, comment_language="fr", hit=None, entry=None, tone=Tone(french_address=address)
    )
    assert draft is not None
    assert expected in draft.text
    assert draft.kb_entry_id is None


def test_no_draft_for_other_and_emoji_only_when_wanted() -> None:
    assert compose(intent=Intent.OTHER, comment_language="en", hit=None, entry=None, tone=Tone()) is None
    plain = compose(intent=Intent.PRAISE, comment_language="en", hit=None, entry=None, tone=Tone())
    smiling = compose(
        intent=Intent.PRAISE, comment_language="en", hit=None, entry=None, tone=Tone(emoji=True)
    )
    assert plain is not None and "🙂" not in plain.text
    assert smiling is not None and smiling.text.endswith("🙂")


def test_a_reply_is_cut_under_the_platforms_limit_at_a_sentence_end() -> None:
    text = "First sentence here. Second sentence is longer than the rest of it."
    assert fit(text, 40) == "First sentence here."
    assert len(fit("x" * 600, 500)) == 500


@pytest.mark.parametrize(
    ("candidate", "problem"),
    [
        ("Delivery takes 2 days, and costs €4.90.", "price"),
        ("See https://example.com/shipping for details.", "url"),
        ("Call us on +33 1 23 45 67 89.", "phone"),
        ("We ship again on 12 January.", "date"),
    ],
)
def test_a_rewrite_that_adds_facts_is_refused(candidate: str, problem: str) -> None:
    reason = ungrounded(candidate, "Delivery takes 2 to 3 working days.")
    assert reason is not None
    assert problem in reason


def test_a_rewrite_that_keeps_to_the_entry_passes() -> None:
    grounded = "Delivery costs 4,90 € and takes 2 to 3 days; call 01 23 45 67 89 or see atelier.fr."
    assert (
        ungrounded("It costs €4.90? No: 4,90 € , 2 to 3 days, 01 23 45 67 89, atelier.fr.", grounded) is None
    )
