"""Scores the moderator computes for a text, and the port the domain scores through.

Pure: no onnxruntime, no file access. The real implementation is
`vigie_moderator.adapters.onnx_scorer.OnnxScorer`; `KeywordScorer` below is the
in-memory test double.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from vigie_shared.events.v1 import TextEmbedding

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
    embedding: TextEmbedding | None = None
    """The sentence embedding the scores were computed from, when the scorer has one; published
    with the decision so the audit service can group comments by topic."""

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


@runtime_checkable
class ExplainingScorer(Scorer, Protocol):
    """A `Scorer` whose explanations cost enough to be asked for separately.

    The consumer scores without them, applies the policy, and explains only what the
    policy does not allow, within a budget (`domain.explain.ExplanationBudget`).
    """

    def score_only(self, texts: Sequence[str]) -> list[TextScores]:
        """Like `score`, with every `top_terms` list empty."""
        ...

    def explanation_cost(self, text: str, categories: Sequence[str]) -> int:
        """Extra encoder passes `explain` would run for this text (0 when already known)."""
        ...

    def explain(
        self, texts: Sequence[str], scored: Sequence[TextScores], categories: Sequence[Sequence[str]]
    ) -> list[dict[str, list[str]]]:
        """Per text, the words behind each of its requested categories."""
        ...


# The ONNX tokenizers pad batches with this private-use character, so no input may
# contain it (see training/common.py).
PAD_CHAR = "\ue000"


def normalise_text(text: str) -> str:
    """The canonical form every model sees, at training and at serving time.

    NFC first: a decomposed "é" (e + U+0301) would otherwise split a word in two,
    since a combining mark is not a word character. Then `str.lower()`, done in
    Python rather than in the ONNX graph, whose C-locale lowercasing differs from
    Python's on a few letters (e.g. "İ").
    """
    text = unicodedata.normalize("NFC", text).lower()
    return text.replace(PAD_CHAR, " ") if PAD_CHAR in text else text


_URL = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|ly|io|fr|be|ch|co)(?:/\S*)?\b")
# Corpora mask links and users differently (OLID "URL"/"@USER", MLMA "@url"/"@user",
# raw tweets); one spelling for all keeps the models from learning the corpus.
_URL_MASKS = re.compile(r"\burl\b|@url\b")
_MENTION = re.compile(r"@\w+")
# Spellings that dodge word filters: digits or symbols standing for letters inside a
# word ("1d10t", "c0nnard", "a$$hole") and stretched letters ("connnnard").
_LEET_WORD = re.compile(r"\b(?=\w*[^\W\d_])(?=\w*[013457])\w+\b")
_LEET_DIGITS = str.maketrans("013457", "oieast")
_LEET_SYMBOL = re.compile(r"(?<=[^\W\d_])[$@]+(?=[^\W\d_])")
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")


def _deobfuscate(text: str) -> str:
    text = _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET_DIGITS), text)
    text = _LEET_SYMBOL.sub(lambda m: "s" * len(m.group(0)), text)
    return _STRETCHED.sub(r"\1\1", text)


def profanity_input(text: str) -> str:
    """Input of the profanity model: `normalise_text`, HTML entities decoded, and the
    same de-obfuscation as `fold_text`, so "1d10t" reaches it as "idiot"."""
    return _deobfuscate(normalise_text(html.unescape(text)))


def fold_text(text: str) -> str:
    """Model input of the trained toxicity, spam and sentiment models.

    `normalise_text`, HTML entities decoded, links and @mentions replaced by one
    placeholder each, common letter-for-digit/symbol swaps undone and stretched
    letters shortened to two, accents stripped (one French corpus has them
    stripped upstream, real comments don't), whitespace collapsed (the ONNX
    character n-grams would otherwise see runs of spaces that scikit-learn
    collapses).
    """
    text = normalise_text(html.unescape(text))
    text = _URL.sub(" url ", text)
    text = _URL_MASKS.sub(" url ", text)
    text = _MENTION.sub(" @user ", text)
    text = _deobfuscate(text)
    stripped = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", stripped).split())


SPAM_SIGNALS: tuple[str, ...] = (
    "links",
    "phone_numbers",
    "email_addresses",
    "digit_share",
    "upper_share",
    "exclamations",
    "repeated_chars",
    "repeated_words",
    "log_length",
    "currency",
)
_RAW_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|ly|io|fr|co\.uk|co)\b", re.I)
_PHONE = re.compile(r"(?:\+?\d[\d .\-()]{6,}\d)")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_REPEAT_CHAR = re.compile(r"(.)\1{3,}")
_CURRENCY = re.compile(r"[$£€]|\b(?:usd|eur|gbp)\b", re.I)


def spam_signals(text: str) -> list[float]:
    """Signals a spammer cannot hide by rewording, in `SPAM_SIGNALS` order.

    Computed on the raw text (case and links matter here), capped so one absurd
    comment cannot dominate the linear model.
    """
    text = unicodedata.normalize("NFC", html.unescape(text))
    letters = [c for c in text if c.isalpha()]
    words = text.lower().split()
    return [
        min(len(_RAW_URL.findall(text)), 5.0),
        min(len(_PHONE.findall(text)), 3.0),
        min(len(_EMAIL.findall(text)), 3.0),
        sum(c.isdigit() for c in text) / max(len(text), 1),
        sum(c.isupper() for c in letters) / max(len(letters), 1),
        min(text.count("!"), 10.0),
        min(len(_REPEAT_CHAR.findall(text)), 5.0),
        (1.0 - len(set(words)) / len(words)) if words else 0.0,
        math.log1p(len(text)),
        min(len(_CURRENCY.findall(text)), 5.0),
    ]


PROFANITY_SIGNALS: tuple[str, ...] = ("profanity_logit_en", "profanity_logit_fr")


def profanity_signals(profanity: float, language: str) -> list[float]:
    """The profanity model's verdict as toxicity-model input, one column per language.

    It is trained on English only: as a shared feature it helps English and hurts
    French, so each language gets its own weight ("und" gets neither). Logit,
    clipped and scaled to the range of the TF-IDF features.
    """
    p = min(max(profanity, 1e-4), 1 - 1e-4)
    logit = math.log(p / (1 - p)) / 3.0
    return [logit if language == "en" else 0.0, logit if language == "fr" else 0.0]


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
