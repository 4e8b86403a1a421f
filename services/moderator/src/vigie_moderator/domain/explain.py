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


class ExplanationBudget:
    """How much encoder time explanations may take while the consumer has a backlog.

    An occlusion explanation costs one encoder pass per content word, so explaining
    every flagged comment can cost more than scoring them all. When the consumer is
    behind (its batch came back full), explanations get `share` of the time spent
    scoring, carried over between batches up to `cap` seconds, most severe decision
    first; the rest are decided without named words. When it is not behind, every
    comment the policy does not allow is explained.
    """

    def __init__(self, share: float, cap: float = 5.0) -> None:
        if share < 0.0:
            raise ValueError("share must be >= 0")
        self.share = share
        self.cap = cap
        self.credit = 0.0

    def grant(self, scoring_seconds: float) -> None:
        self.credit = min(self.cap, self.credit + self.share * scoring_seconds)

    def allows(self, cost_seconds: float, *, backlog: bool) -> bool:
        """Whether to run an explanation costing about `cost_seconds`; spends it if so."""
        if not backlog or cost_seconds <= 0:
            return True
        if self.credit <= 0:
            return False
        # May go below zero once: the next batches pay it back.
        self.credit -= cost_seconds
        return True
