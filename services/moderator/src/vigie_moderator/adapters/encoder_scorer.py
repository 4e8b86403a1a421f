"""`Scorer` on the shared sentence encoder (`vigie_encoder`) and the heads in `heads.onnx`.

One multilingual-e5-small embedding per comment (the process-wide encoder, batched
by token count) feeds small calibrated logistic heads: toxicity, insult, threat,
identity_attack, spam (with `spam_signals` as extra inputs) and 3-class sentiment
(sentiment = P(pos) - P(neg)). Language: py3langid, as before. Data, metrics and
thresholds: docs/models/ and the `heads` entry of manifest.json.

Explanations (`top_terms`) are computed by occlusion: each content word (function
words never count) is removed in turn, the variants are embedded in one batch, and
the words whose removal lowers that category's logit the most are named, up to five.
That is one encoder pass per word, so `score` explains only a category whose score
reaches its suggested threshold, and the consumer asks for less still: it scores
with `score_only`, applies the policy, and `explain`s what the policy does not
allow, within a budget (`ExplanationBudget`).

Identical texts (after NFC) are scored and explained once: an LRU of recent results
(`cache_size`), since repeated spam is common.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import onnxruntime as ort
from vigie_encoder import Encoder, get_encoder
from vigie_shared.events.v1 import TextEmbedding

from vigie_moderator.adapters.onnx_scorer import (
    DEFAULT_MODELS_DIR,
    Artifact,
    ModelArtifactError,
    Py3LangIdDetector,
    read_manifest,
    session_options,
)
from vigie_moderator.domain.explain import content_words, without_word
from vigie_moderator.domain.scores import CATEGORIES, SENTIMENT, TextScores, spam_signals

HEADS = "heads"
LABELS = ("toxicity", "insult", "threat", "identity_attack", "spam")
# At most this many words of one comment are occluded (the longest content words
# first): bounds the extra encoder work for a long flagged comment.
MAX_OCCLUDED_WORDS = 24
# A word is named when removing it lowers the logit by at least this much, and by at
# least this share of the strongest word's effect.
MIN_LOGIT_DROP = 0.15
RELATIVE_FLOOR = 0.25
TOP_TERMS = 5
# Results kept for repeated texts (~1.7 kB each with the embedding); 0 switches the cache off.
DEFAULT_CACHE_SIZE = 10_000
_SPACES = re.compile(r"\s+")


@dataclass(slots=True)
class _Cached:
    scores: TextScores
    terms: dict[str, list[str]] = field(default_factory=dict)


class EncoderScorer:
    """Scores texts with the encoder and the heads. Implements `Scorer`; thread-safe."""

    def __init__(
        self,
        encoder: Encoder,
        heads: ort.InferenceSession,
        artifact: Artifact,
        detector: Py3LangIdDetector,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        labels = tuple(artifact.entry.get("labels", ()))
        if labels != LABELS:
            raise ModelArtifactError(f"heads model labels {labels} != {LABELS}")
        if artifact.entry.get("encoder") != encoder.version:
            raise ModelArtifactError(
                f"heads trained on encoder {artifact.entry.get('encoder')}, loaded {encoder.version}"
            )
        self._encoder = encoder
        self._heads = heads
        self._detector = detector
        self._cache: OrderedDict[bytes, _Cached] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.cache_hits = 0
        self.cache_misses = 0
        self.model_versions: Mapping[str, str] = MappingProxyType(
            {"encoder": encoder.version, HEADS: artifact.version, "language": detector.version}
        )
        thresholds = {
            category: {lang: float(v) for lang, v in per_language.items()}
            for category, per_language in artifact.entry.get("thresholds", {}).items()
        }
        self.suggested_thresholds: Mapping[str, Mapping[str, float]] = MappingProxyType(thresholds)
        """Per category and language: F1-best on validation, raised where needed so that
        at most 10% of that language's validation negatives are flagged."""

    @classmethod
    def load(
        cls,
        models_dir: Path | None = None,
        *,
        encoder: Encoder | None = None,
        intra_op_threads: int = 1,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> EncoderScorer:
        artifacts = read_manifest(models_dir or DEFAULT_MODELS_DIR)
        if HEADS not in artifacts:
            raise ModelArtifactError(f"manifest lacks the {HEADS} artifact")
        artifact = artifacts[HEADS]
        session = ort.InferenceSession(
            str(artifact.path),
            sess_options=session_options(intra_op_threads),
            providers=["CPUExecutionProvider"],
        )
        return cls(encoder or get_encoder(), session, artifact, Py3LangIdDetector(), cache_size=cache_size)

    def score(self, texts: Sequence[str]) -> list[TextScores]:
        scored = self.score_only(texts)
        flagged = [[c for c in LABELS if r.scores[c] >= self._threshold(c, r.language)] for r in scored]
        terms = self.explain(texts, scored, flagged)
        return [
            TextScores(r.language, r.scores, {c: found.get(c, []) for c in CATEGORIES}, r.embedding)
            for r, found in zip(scored, terms, strict=True)
        ]

    def score_only(self, texts: Sequence[str]) -> list[TextScores]:
        if not texts:
            return []
        keys = [_key(t) for t in texts]
        found: dict[bytes, TextScores] = {}
        with self._lock:
            for key in keys:
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    found[key] = cached.scores
        # A text repeated within the batch is scored once too.
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                todo.setdefault(key, text)
        fresh = self._score(list(todo.values())) if todo else []
        with self._lock:
            self.cache_hits += len(keys) - len(todo)
            self.cache_misses += len(todo)
            for key, result in zip(todo, fresh, strict=True):
                found[key] = result
                self._remember(key, _Cached(result))
        return [_copy(found[key]) for key in keys]

    def explanation_cost(self, text: str, categories: Sequence[str]) -> int:
        with self._lock:
            cached = self._cache.get(_key(text))
            if cached is not None and all(c in cached.terms for c in categories):
                return 0
        return min(len(content_words(text)), MAX_OCCLUDED_WORDS) if categories else 0

    def explain(
        self, texts: Sequence[str], scored: Sequence[TextScores], categories: Sequence[Sequence[str]]
    ) -> list[dict[str, list[str]]]:
        out: list[dict[str, list[str]]] = [{} for _ in texts]
        missing: dict[int, list[str]] = {}
        keys = [_key(t) for t in texts]
        with self._lock:
            for i, (key, wanted) in enumerate(zip(keys, categories, strict=True)):
                cached = self._cache.get(key)
                known = cached.terms if cached is not None else {}
                out[i] = {c: list(known[c]) for c in wanted if c in known}
                if len(out[i]) < len(wanted):
                    missing[i] = [c for c in wanted if c not in known]
        if not missing:
            return out
        logits = np.array([[_logit(r.scores[c]) for c in LABELS] for r in scored], dtype=np.float64)
        computed = self._explain(texts, logits, missing)
        with self._lock:
            for i, wanted in missing.items():
                terms = {c: computed.get(i, {}).get(c, []) for c in wanted}
                out[i].update(terms)
                cached = self._cache.get(keys[i])
                if cached is not None:
                    cached.terms.update({c: list(v) for c, v in terms.items()})
        return out

    def _remember(self, key: bytes, entry: _Cached) -> None:
        if self._cache_size <= 0:
            return
        self._cache[key] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _score(self, texts: list[str]) -> list[TextScores]:
        languages = [self._detector.detect(unicodedata.normalize("NFC", t)) for t in texts]
        embedding, logits, sentiment = self._run(texts)
        probabilities = 1.0 / (1.0 + np.exp(-logits))
        results = []
        for i, language in enumerate(languages):
            scores = {c: _unit(float(probabilities[i, j])) for j, c in enumerate(LABELS)}
            scores[SENTIMENT] = max(-1.0, min(1.0, float(sentiment[i, 2] - sentiment[i, 0])))
            results.append(
                TextScores(
                    language=language,
                    scores=scores,
                    top_terms={c: [] for c in CATEGORIES},
                    embedding=compact_embedding(embedding[i], self._encoder.version),
                )
            )
        return results

    def _run(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        embedding = self._encoder.embed(texts)
        signals = np.array([spam_signals(t) for t in texts], dtype=np.float32)
        logits, sentiment = self._heads.run(
            ["logits", "sentiment"], {"embedding": embedding, "signals": signals}
        )
        return embedding, np.asarray(logits, dtype=np.float64), np.asarray(sentiment, dtype=np.float64)

    def _threshold(self, category: str, language: str) -> float:
        per_language = self.suggested_thresholds.get(category, {})
        found = per_language.get(language)
        return float(found if found is not None else max(per_language.values(), default=0.5))

    def _explain(
        self, texts: Sequence[str], logits: np.ndarray, flagged: Mapping[int, list[str]]
    ) -> dict[int, dict[str, list[str]]]:
        variants: list[str] = []
        owners: list[tuple[int, str]] = []
        for i in flagged:
            words = sorted(content_words(texts[i]), key=len, reverse=True)[:MAX_OCCLUDED_WORDS]
            for word in words:
                variants.append(_SPACES.sub(" ", without_word(texts[i], word)).strip())
                owners.append((i, word))
        if not variants:
            return {}
        _, occluded, _ = self._run(variants)
        drops: dict[int, dict[str, list[tuple[float, str]]]] = {}
        for (i, word), row in zip(owners, occluded, strict=True):
            for category in flagged[i]:
                j = LABELS.index(category)
                drops.setdefault(i, {}).setdefault(category, []).append((float(logits[i, j] - row[j]), word))
        out: dict[int, dict[str, list[str]]] = {}
        for i, per_category in drops.items():
            for category, pairs in per_category.items():
                pairs.sort(key=lambda p: (-p[0], p[1]))
                if not pairs or pairs[0][0] < MIN_LOGIT_DROP:
                    continue
                floor = max(MIN_LOGIT_DROP, RELATIVE_FLOOR * pairs[0][0])
                out.setdefault(i, {})[category] = [w for d, w in pairs if d >= floor][:TOP_TERMS]
        return out


def compact_embedding(vector: np.ndarray, encoder: str) -> TextEmbedding:
    """One embedding as the decision event carries it: unit length, float16 (half the bytes of
    float32; cosines move by about 1e-3, far below what separates topics), base64."""
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    unit = vector / norm if norm > 0 else vector
    packed = unit.astype("<f2").tobytes()
    return TextEmbedding(
        encoder=encoder, dimension=int(unit.shape[0]), float16=base64.b64encode(packed).decode()
    )


def _key(text: str) -> bytes:
    return hashlib.blake2b(unicodedata.normalize("NFC", text).encode(), digest_size=16).digest()


def _logit(probability: float) -> float:
    # Scores are kept as probabilities; the occlusion compares logits.
    p = min(max(probability, 1e-15), 1 - 1e-15)
    return math.log(p) - math.log1p(-p)


def _copy(scores: TextScores) -> TextScores:
    # Cached results are shared between callers: each gets its own dicts.
    return TextScores(
        language=scores.language,
        scores=dict(scores.scores),
        top_terms={c: list(v) for c, v in scores.top_terms.items()},
        embedding=scores.embedding,  # immutable: shared as is
    )


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))
