"""Scores the moderator computes for a text, and the port the domain scores through.

Pure: no onnxruntime, no file access. The real implementation is
`vigie_moderator.adapters.onnx_scorer.OnnxScorer`; `KeywordScorer` below is the
in-memory test double.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

CATEGORIES: tuple[str, ...] = ("toxicity", "insult", "threat", "identity_attack", "spam")
SENTIMENT = "sentiment"
LANGUAGES: tuple[str, ...] = ("fr", "en", "und")


@dataclass(frozen=True, slots=True)
class TextScores:
    """What the models say about one text.

    `scores` holds every name in `CATEGORIES` as a probability-like value in [0, 1]
    and `"sentiment"` in [-1, 1] (negative to positive). `top_terms` maps a category
    to the tokens or n-grams that pushed its score up the most; it explains a
    score to a human reviewer and may be empty.
    """

    language: str
    scores: dict[str, float]
    top_terms: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A missing key or an out-of-range value would silently turn into a wrong
        # moderation action downstream, so refuse it where it is made.
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, got {self.language!r}")
        missing = [c for c in (*CATEGORIES, SENTIMENT) if c not in self.scores]
        if missing:
            raise ValueError(f"scores lack {missing}")
        for name, value in self.scores.items():
            low = -1.0 if name == SENTIMENT else 0.0
            if not low <= value <= 1.0:
                raise ValueError(f"score {name}={value} outside [{low}, 1]")


@runtime_checkable
class Scorer(Protocol):
    """Port: turns texts into `TextScores`, one per text, in order."""

    model_versions: Mapping[str, str]

    def score(self, texts: Sequence[str]) -> list[TextScores]: ...


def normalise_text(text: str) -> str:
    """The canonical form every model sees, at training and at serving time.

    NFC first: a decomposed "é" (e + U+0301) would otherwise split a word in two,
    since a combining mark is not a word character. Then `str.lower()`, done in
    Python rather than in the ONNX graph, whose C-locale lowercasing differs from
    Python's on a few letters (e.g. "İ").
    """
    return unicodedata.normalize("NFC", text).lower()


_WORD = re.compile(r"\w+")


class KeywordScorer:
    """Deterministic in-memory `Scorer` for unit tests. Not a moderation model.

    A text scores 1.0 in a category when one of its words (after
    `normalise_text`) is in that category's keyword set, else 0.0; sentiment is
    -1.0 when any category fired, else 0.0. Language is "fr" when a French
    marker word appears, "en" when an English one does, else "und".
    """

    DEFAULT_KEYWORDS: Mapping[str, frozenset[str]] = {
        "toxicity": frozenset({"idiot", "connard", "stupid", "crétin"}),
        "insult": frozenset({"idiot", "connard", "stupid", "crétin"}),
        "threat": frozenset({"kill", "tuer", "crever"}),
        "identity_attack": frozenset({"vermine", "vermin"}),
        "spam": frozenset({"subscribe", "abonnez", "http", "https", "www"}),
    }
    _FRENCH = frozenset({"le", "la", "les", "est", "et", "un", "une", "tu", "je", "vous", "pas"})
    _ENGLISH = frozenset({"the", "is", "and", "a", "you", "i", "not", "are", "my"})

    def __init__(
        self,
        keywords: Mapping[str, frozenset[str]] | None = None,
        model_versions: Mapping[str, str] | None = None,
    ) -> None:
        self._keywords = dict(keywords or self.DEFAULT_KEYWORDS)
        self.model_versions: Mapping[str, str] = dict(model_versions or {"keyword": "test"})

    def score(self, texts: Sequence[str]) -> list[TextScores]:
        return [self._score_one(t) for t in texts]

    def _score_one(self, text: str) -> TextScores:
        words = set(_WORD.findall(normalise_text(text)))
        scores: dict[str, float] = {}
        terms: dict[str, list[str]] = {}
        for category in CATEGORIES:
            hits = sorted(words & self._keywords.get(category, frozenset()))
            scores[category] = 1.0 if hits else 0.0
            terms[category] = hits
        scores[SENTIMENT] = -1.0 if any(scores[c] for c in CATEGORIES) else 0.0
        if words & self._FRENCH:
            language = "fr"
        elif words & self._ENGLISH:
            language = "en"
        else:
            language = "und"
        return TextScores(language=language, scores=scores, top_terms=terms)
