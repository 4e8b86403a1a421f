"""`Scorer` backed by the ONNX artifacts in `vigie_moderator/models` (onnxruntime).

`OnnxScorer.load()` reads `manifest.json`, checks every artifact's sha256, and
creates one `InferenceSession` per artifact with explicit thread settings. Build it
once (in the app lifespan) and share it: `score()` is thread-safe because
onnxruntime sessions are.

What each score means (details, data and metrics in docs/models/):
- toxicity, insult, threat, identity_attack: the `toxicity` model, one logistic head
  per category over word + character n-grams, trained on French and English corpora.
  Probabilities from differently-labelled corpora: use the per-language thresholds
  in `suggested_thresholds`, not 0.5.
- spam: the `spam` model (YouTube comment spam + SMS spam, plus link / phone /
  shouting / repetition signals).
- sentiment: P(positive) - P(negative) from the `sentiment` model, in [-1, 1].
- language: py3langid (see `Py3LangIdDetector`): "fr", "en" or "und".
- top_terms: per category, up to 5 words or word pairs that raised its score most;
  empty while the score is below half the category's suggested threshold.
The `profanity` artifact (alt-profanity-check) feeds the toxicity model as a feature
for English (and French, with its own weight) and is reported as a baseline.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import onnxruntime as ort

from vigie_moderator.domain.scores import (
    SENTIMENT,
    TextScores,
    fold_text,
    profanity_input,
    profanity_signals,
    spam_signals,
)

DEFAULT_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
REQUIRED_ARTIFACTS = ("profanity", "toxicity", "spam", "sentiment")
TOXICITY_LABELS = ("toxicity", "insult", "threat", "identity_attack")
# Bounds the dense feature matrix onnxruntime builds per run (~0.4 MB per text).
BATCH = 32


class ModelArtifactError(RuntimeError):
    """An artifact is missing, unreadable or differs from its manifest entry."""


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    version: str
    path: Path
    entry: Mapping[str, Any]


def read_manifest(models_dir: Path) -> dict[str, Artifact]:
    manifest_path = models_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelArtifactError(f"no manifest at {manifest_path}") from exc
    artifacts: dict[str, Artifact] = {}
    for name, entry in manifest["artifacts"].items():
        path = models_dir / entry["file"]
        if not path.is_file():
            raise ModelArtifactError(f"artifact {name}: file {path} is missing")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            # A silently swapped or truncated model would moderate with the wrong
            # weights; refuse to start instead.
            raise ModelArtifactError(
                f"artifact {name}: sha256 {digest} does not match manifest {entry['sha256']}"
            )
        artifacts[name] = Artifact(name, str(entry["version"]), path, MappingProxyType(entry))
    return artifacts


def session_options(intra_op_threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning worker threads burn a core between requests in a long-lived service.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


class Py3LangIdDetector:
    """Language identifier on py3langid's bundled model (chosen by training.language_bench).

    Restricted to fr/en it is the most accurate and fastest candidate on our data,
    but it would then call Spanish "fr". So the open model (all its languages)
    speaks first: a confident non-fr/en verdict gives "und". Text without two
    letters is "und" too.
    """

    version: str

    def __init__(self, other_language_confidence: float = 0.99) -> None:
        from importlib.metadata import version

        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self._open = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self._closed = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self._closed.set_languages(["fr", "en"])
        self._other_language_confidence = other_language_confidence
        self.version = f"py3langid-{version('py3langid')}"

    def detect(self, text: str) -> str:
        if sum(ch.isalpha() for ch in text) < 2:
            return "und"
        language, confidence = self._open.classify(text)
        if language in ("fr", "en"):
            return str(language)
        if confidence >= self._other_language_confidence:
            return "und"
        return str(self._closed.classify(text)[0])


# An explanation lists only terms that mattered: at least this share of the top
# term's contribution, and this many logit units in absolute terms.
TERM_RELATIVE_FLOOR = 0.25
TERM_ABSOLUTE_FLOOR = 0.05
EXPLAIN_SHARE_OF_THRESHOLD = 0.5
# alt-profanity-check's own cut-off.
PROFANE = 0.5


def _positive_terms(terms: np.ndarray, weights: np.ndarray) -> list[str]:
    if len(weights) == 0 or weights[0] <= TERM_ABSOLUTE_FLOOR:
        return []
    floor = max(TERM_ABSOLUTE_FLOOR, TERM_RELATIVE_FLOOR * float(weights[0]))
    return [str(t) for t, w in zip(terms, weights, strict=True) if w >= floor]


class OnnxScorer:
    """Scores texts with the committed ONNX models. Implements `Scorer`."""

    def __init__(
        self,
        sessions: Mapping[str, ort.InferenceSession],
        artifacts: Mapping[str, Artifact],
        detector: Py3LangIdDetector,
    ) -> None:
        self._sessions = dict(sessions)
        self._artifacts = dict(artifacts)
        self._detector = detector
        labels = tuple(artifacts["toxicity"].entry.get("labels", ()))
        if labels != TOXICITY_LABELS:
            raise ModelArtifactError(f"toxicity model labels {labels} != {TOXICITY_LABELS}")
        versions = {name: artifacts[name].version for name in sessions}
        versions["language"] = detector.version
        self.model_versions: Mapping[str, str] = MappingProxyType(versions)
        thresholds: dict[str, dict[str, float]] = {}
        for name in ("toxicity", "spam"):
            for category, value in artifacts[name].entry.get("thresholds", {}).items():
                per_language = value if isinstance(value, dict) else {"fr": value, "en": value}
                thresholds[category] = {k: float(v) for k, v in per_language.items()}
        self.suggested_thresholds: Mapping[str, Mapping[str, float]] = MappingProxyType(thresholds)
        """Per category and language: the F1-best threshold on validation data, raised
        where needed so that at most 10% of that language's validation negatives are
        flagged. Categories without data in a language (threat in English) lack it."""

    @classmethod
    def load(cls, models_dir: Path | None = None, *, intra_op_threads: int = 1) -> OnnxScorer:
        if intra_op_threads < 1:
            raise ValueError("intra_op_threads must be >= 1")
        artifacts = read_manifest(models_dir or DEFAULT_MODELS_DIR)
        missing = [n for n in REQUIRED_ARTIFACTS if n not in artifacts]
        if missing:
            raise ModelArtifactError(f"manifest lacks required artifacts {missing}")
        options = session_options(intra_op_threads)
        sessions = {
            name: ort.InferenceSession(
                str(artifacts[name].path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            for name in REQUIRED_ARTIFACTS
        }
        return cls(sessions, artifacts, Py3LangIdDetector())

    def score(self, texts: Sequence[str]) -> list[TextScores]:
        results: list[TextScores] = []
        for start in range(0, len(texts), BATCH):
            results.extend(self._score_batch(texts[start : start + BATCH]))
        return results

    def _score_batch(self, texts: Sequence[str]) -> list[TextScores]:
        languages = [self._detector.detect(unicodedata.normalize("NFC", t)) for t in texts]
        normalised = np.array([profanity_input(t) for t in texts], dtype=object).reshape(-1, 1)
        profanity, profane_terms, profane_weights = self._sessions["profanity"].run(
            ["probabilities", "top_terms", "top_weights"], {"text": normalised}
        )
        toxicity_signals = np.array(
            [
                profanity_signals(float(p), language)
                for p, language in zip(profanity[:, 1], languages, strict=True)
            ],
            dtype=np.float32,
        )
        folded = np.array([fold_text(t) for t in texts], dtype=object).reshape(-1, 1)
        toxicity = self._run("toxicity", {"text": folded, "signals": toxicity_signals}, TOXICITY_LABELS)
        signals = np.array([spam_signals(t) for t in texts], dtype=np.float32)
        spam = self._run("spam", {"text": folded, "signals": signals}, ("spam",))
        sentiment = self._sessions["sentiment"].run(["probabilities"], {"text": folded})[0]
        results = []
        for i, language in enumerate(languages):
            scores = {
                label: _unit(float(toxicity.probabilities[i, j])) for j, label in enumerate(TOXICITY_LABELS)
            }
            scores["spam"] = _unit(float(spam.probabilities[i, 0]))
            scores[SENTIMENT] = max(-1.0, min(1.0, float(sentiment[i, 2] - sentiment[i, 0])))
            found = {**toxicity.terms_at(i), **spam.terms_at(i)}
            if profanity[i, 1] >= PROFANE:
                # The toxicity head leaves swear words to its profanity feature, so
                # they only show up in the profanity model's own explanation.
                swearing = _positive_terms(profane_terms[i], profane_weights[i])
                found["toxicity"] = list(dict.fromkeys(swearing + found["toxicity"]))[:5]
            terms = {
                category: names if scores[category] >= self._explain_floor(category, language) else []
                for category, names in found.items()
            }
            results.append(TextScores(language=language, scores=scores, top_terms=terms))
        return results

    def _explain_floor(self, category: str, language: str) -> float:
        # Terms that nudged a low score ("you" for insult) would only confuse a
        # reviewer: explain a category from half its threshold up.
        per_language = self.suggested_thresholds.get(category, {})
        found = per_language.get(language) or next(iter(per_language.values()), 0.5)
        return EXPLAIN_SHARE_OF_THRESHOLD * found

    def _run(self, name: str, feed: dict[str, np.ndarray], labels: Sequence[str]) -> _Run:
        outputs = ["probabilities"]
        for label in labels:
            outputs += [f"top_terms_{label}", f"top_weights_{label}"]
        values = self._sessions[name].run(outputs, feed)
        terms = {label: (values[1 + 2 * k], values[2 + 2 * k]) for k, label in enumerate(labels)}
        return _Run(values[0], terms)


@dataclass(frozen=True, slots=True)
class _Run:
    probabilities: np.ndarray
    terms: Mapping[str, tuple[np.ndarray, np.ndarray]]

    def terms_at(self, i: int) -> dict[str, list[str]]:
        return {
            label: _positive_terms(names[i], weights[i]) for label, (names, weights) in self.terms.items()
        }


def _unit(value: float) -> float:
    # float32 rounding can land a hair outside [0, 1].
    return min(1.0, max(0.0, value))
