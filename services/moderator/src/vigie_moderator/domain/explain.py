"""Which words of a comment an explanation may name. Pure.

A reviewer reads "top terms" to see why a comment was flagged; "te", "les" or "the"
tell them nothing, so function words (French and English articles, pronouns,
prepositions, conjunctions, auxiliaries) are never candidates, nor are numbers or
one-letter tokens. Pronouns that carry the target of a threat ("you") are function
words too: the verb or noun around them is the useful part.
"""

from __future__ import annotations

import re

# One whitespace-separated block reads and diffs better than ~250 quoted strings.
FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    a an the this that these those some any each every no not nor and or but if then so than as
    of to in on at by for with from into onto about over under after before between through
    during without within up down out off again very too just also only even still yet
    i me my mine myself you your yours yourself we us our ours they them their theirs he him his
    she her hers it its itself who whom whose which what where when why how there here
    am is are was were be been being have has had having do does did doing will would shall
    should can could may might must im youre dont doesnt didnt isnt arent wasnt werent wont
    ll ve re d s t m
    le la les l un une des du de d au aux ce cet cette ces ça ca cela ceci
    et ou mais donc or ni car que qu qui quoi dont où ou si comme
    je j me m moi tu t te toi il elle on nous vous ils elles se s lui leur leurs eux y en
    mon ma mes ton ta tes son sa ses notre nos votre vos
    à a dans sur sous par pour avec sans chez vers entre pendant depuis avant après
    ne n pas plus moins très trop aussi bien tout tous toute toutes
    est es suis sommes êtes sont été être ai as avons avez ont avait avais étais était
    va vais vas allons allez vont fait faire
    c ç ceux celle celles celui
    """.split()  # noqa: SIM905
)

_WORD = re.compile(r"[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*", re.UNICODE)
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu)['\u2019]", re.IGNORECASE)


def content_words(text: str) -> list[str]:
    """Distinct words worth naming, in order of first appearance (elisions split off:
    "t'égorger" gives "égorger")."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text):
        word = _ELISION.sub("", match.group(0))
        key = word.lower()
        if len(word) < 2 or key in FUNCTION_WORDS or key in seen:
            continue
        seen[key] = None
    return list(seen)


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
