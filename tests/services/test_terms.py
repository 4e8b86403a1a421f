from __future__ import annotations

import pytest
from vigie_moderator.domain.terms import candidate_words, fold, matches, squeeze

TERMS = ["connard", "idiot", "salope", "kill yourself"]


@pytest.mark.parametrize(
    "disguised",
    [
        "quel CONNARD",
        "quel c0nn4rd",
        "quel connnnnard",
        "quel c o n n a r d",
        "quel c.o.n.n.a.r.d",
        "quel cônnârd",
        "you 1d10t",
        "you i-d-i-o-t",
        "you IIIDIOOOT",
        "just k1ll    yourself",
    ],
)
def test_disguises_do_not_hide_a_listed_term(disguised: str) -> None:
    assert matches(disguised, TERMS), disguised


@pytest.mark.parametrize(
    "innocent",
    ["Scunthorpe United", "une idiotie de plus", "killing it today, yourself included", "la salopette bleue"],
)
def test_words_that_merely_contain_a_term_are_not_hits(innocent: str) -> None:
    assert matches(innocent, TERMS) == []


def test_allow_listed_words_never_count() -> None:
    assert matches("idiot savant", TERMS, allowed=["idiot"]) == []


def test_folding_is_what_both_sides_see() -> None:
    assert fold("Ça Été 4LL3Z") == "ca ete allez"
    assert squeeze("connnard") == squeeze("connard") == "conard"
    assert "idiot" in candidate_words("i d i o t")


def test_an_exclamation_mark_after_a_word_is_punctuation_not_a_letter() -> None:
    from vigie_moderator.domain.policy import DEFAULT_THREAT_RULE

    assert fold("I will kill you!").split() == ["i", "will", "kill", "you"]
    assert fold("sh!t") == "shit"
    assert DEFAULT_THREAT_RULE.hits("I will kill you!", "en", frozenset())
