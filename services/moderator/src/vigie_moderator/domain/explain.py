"""Which words of a comment an explanation may name. Pure.

A reviewer reads "top terms" to see why a comment was flagged; "te", "les" or "the"
tell them nothing, so function words (French and English articles, pronouns,
prepositions, conjunctions, auxiliaries) are never candidates, nor are numbers or
one-letter tokens. Pronouns that carry the target of a threat ("you") are function
words too: the verb or noun around them is the useful part.
"""

from __future__ import annotations

import re

from vigie_shared.words import FUNCTION_WORDS, content_words

__all__ = ["FUNCTION_WORDS", "content_words", "without_word"]


def without_word(text: str, word: str) -> str:
    """`text` with every whole-word occurrence of `word` (any case) removed."""
    pattern = re.compile(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", re.IGNORECASE)
    return pattern.sub(" ", text)
