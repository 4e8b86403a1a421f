from __future__ import annotations

import pytest
from vigie_audit.domain.identity_lexicon import GROUPS, IdentityLexicon, fold


@pytest.fixture(scope="module")
def lexicon() -> IdentityLexicon:
    return IdentityLexicon()


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        # Grammatical gender is not a mention of women: only the words for women are.
        ("Les MUSULMANES de mon quartier", {"religion:muslim"}),
        ("des femmes musulmanes", {"religion:muslim", "gender:women"}),
        ("les chrétiens et les juifs", {"religion:christian", "religion:jewish"}),
        ("Muslims and Jews live here", {"religion:muslim", "religion:jewish"}),
        ("une personne non-binaire", {"gender:nonbinary"}),
        ("une personne non binaire", {"gender:nonbinary"}),
        ("les demandeurs d\u2019asile", {"origin:migrant"}),
        ("l'islam", {"religion:muslim"}),
        ("an autistic kid in a wheelchair", {"disability:cognitive", "disability:disabled"}),
        ("les personnes noires", {"origin:black"}),
        ("LGBTQ rights", {"orientation:lgbt"}),
    ],
)
def test_mentions_are_found_in_french_and_english(
    lexicon: IdentityLexicon, text: str, groups: set[str]
) -> None:
    assert lexicon.mentions(text) == groups


@pytest.mark.parametrize(
    "text",
    [
        "le chat noir",  # "noir" alone is a colour far more often than a people
        "une journée gaie",  # "gai" is cheerful
        "Islamabad is far",  # a term inside a longer word
        "great video, thanks",
        "transport en commun",
    ],
)
def test_words_that_only_look_like_a_mention_are_not_counted(lexicon: IdentityLexicon, text: str) -> None:
    assert lexicon.mentions(text) == frozenset()


def test_every_term_finds_its_own_group() -> None:
    lexicon = IdentityLexicon()
    for group in GROUPS:
        for term in group.terms:
            assert group.id in lexicon.mentions(f"à propos de {term}."), (group.id, term)


def test_folding_drops_case_and_accents() -> None:
    assert fold("Hétérosexuelle ÉVANGÉLIQUE") == "heterosexuelle evangelique"
