"""Word lists that survive the usual disguises: accents, leetspeak, spacing, repeated letters. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_LEET = str.maketrans(
    {"0": "o", "1": "i", "!": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t", "+": "t"}
)
_TOKEN = re.compile(r"[\w@$!+]+", re.UNICODE)
_REPEATS = re.compile(r"(.)\1+")
# A symbol stands for a letter inside or at the start of a word ("sh!t", "@ss"); after a word it is
# punctuation ("I will kill you!" must still read "you", not "youi").
_TRAILING_SYMBOLS = re.compile(r"(?<=\w)[!@$+]+(?!\w)")


def fold(text: str) -> str:
    """Lowercase, accents stripped, look-alike digits and symbols mapped back to letters."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = _TRAILING_SYMBOLS.sub(lambda match: " " * len(match.group()), bare)
    return bare.translate(_LEET)


def squeeze(word: str) -> str:
    """Letters only, runs collapsed: "fuuuuck" and "fuck" meet at "fuck", "connnnard" and "connard" at "conard"."""
    return _REPEATS.sub(r"\1", "".join(ch for ch in word if ch.isalpha()))


def candidate_words(text: str) -> set[str]:
    """The squeezed words of a text, plus words spelt out with separators ("i d i o t", "c.o.n")."""
    tokens = [fold(t) for t in _TOKEN.findall(text.replace("_", " "))]
    words = {squeeze(t) for t in tokens}
    run: list[str] = []
    # Single letters in a row are read as one word: the common way to dodge a filter.
    for token in [*(squeeze(t) for t in tokens), ""]:
        if len(token) == 1:
            run.append(token)
            continue
        if len(run) >= 3:
            words.add(squeeze("".join(run)))
        run = []
    for spaced in re.findall(r"(?:\b\w[\W_]){2,}\w\b", fold(text)):
        words.add(squeeze(spaced))
    words.discard("")
    return words


def matches(text: str, terms: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
    """The listed terms the text contains, after both sides are folded and squeezed."""
    allowed_words = {squeeze(fold(word)) for word in allowed}
    words = candidate_words(text) - allowed_words
    phrase_text = " " + " ".join(squeeze(fold(t)) for t in _TOKEN.findall(text)) + " "
    found = []
    for term in terms:
        parts = [squeeze(fold(p)) for p in term.split()]
        if len(parts) > 1:
            if f" {' '.join(parts)} " in phrase_text:
                found.append(term)
        elif parts and parts[0] and parts[0] in words:
            found.append(term)
    return sorted(found)
