"""Words of a text worth naming: French and English content words. Pure.

Shared by the moderator's explanations (which words moved a score) and the audit service's topic
labels (which words a cluster of comments is about). Function words (articles, pronouns,
prepositions, conjunctions, auxiliaries) are never content words, nor are numbers or one-letter
tokens: "te", "les" or "the" tell a reader nothing.
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
