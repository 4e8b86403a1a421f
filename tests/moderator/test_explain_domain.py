"""Which words an explanation may name."""

from __future__ import annotations

from vigie_moderator.domain.explain import FUNCTION_WORDS, content_words, without_word


def test_function_words_are_never_candidates() -> None:
    assert content_words("Je vais te retrouver et tu vas le regretter") == ["retrouver", "regretter"]
    assert content_words("I know where you live") == ["know", "live"]
    assert {"te", "les", "la", "the", "you"} <= FUNCTION_WORDS


def test_elisions_are_split_and_words_deduplicated() -> None:
    assert content_words("T'es qu'un idiot, un IDIOT, l'imbécile") == ["idiot", "imbécile"]


def test_without_word_removes_whole_words_only() -> None:
    assert without_word("idiot idiots Idiot", "idiot").split() == ["idiots"]
