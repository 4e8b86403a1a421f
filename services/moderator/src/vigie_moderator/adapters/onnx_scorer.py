"""`Scorer` backed by the ONNX artifacts in `vigie_moderator/models` (onnxruntime).

`OnnxScorer.load()` reads `manifest.json`, checks every artifact's sha256, and
creates one `InferenceSession` per artifact with explicit thread settings. Build it
once (in the app lifespan) and share it: `score()` is thread-safe because
onnxruntime sessions are.

What each score means in this version (see docs/models/):
- toxicity: P(profane) from the `profanity` model (alt-profanity-check, English-trained;
  weak on French).
- insult, threat, identity_attack, spam: 0.0 (no model for them yet).
- sentiment: 0.0 (no model yet).
- language: py3langid over all its languages; "fr" or "en" when it picks one of
  them, otherwise "und".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import onnxruntime as ort

from vigie_moderator.domain.scores import (
    CATEGORIES,
    SENTIMENT,
    TextScores,
    normalise_text,
)

DEFAULT_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
REQUIRED_ARTIFACTS = ("profanity",)


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
    """Language identifier from the py3langid package (its bundled model)."""

    version: str

    def __init__(self) -> None:
        from importlib.metadata import version

        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self.version = f"py3langid-{version('py3langid')}"

    def detect(self, text: str) -> str:
        if not any(ch.isalpha() for ch in text):
            return "und"
        language, _ = self._identifier.classify(text)
        return language if language in ("fr", "en") else "und"


def _positive_terms(terms: np.ndarray, weights: np.ndarray) -> list[str]:
    return [str(t) for t, w in zip(terms, weights, strict=True) if w > 0]


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
        versions = {name: a.version for name, a in artifacts.items()}
        versions["language"] = detector.version
        self.model_versions: Mapping[str, str] = MappingProxyType(versions)

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
        if not texts:
            return []
        normalised = [normalise_text(t) for t in texts]
        batch = np.array(normalised, dtype=object).reshape(-1, 1)
        probabilities, top_weights, top_terms = self._sessions["profanity"].run(
            ["probabilities", "top_weights", "top_terms"], {"text": batch}
        )
        results = []
        for i, text in enumerate(normalised):
            scores = dict.fromkeys(CATEGORIES, 0.0)
            scores["toxicity"] = _unit(float(probabilities[i, 1]))
            scores[SENTIMENT] = 0.0
            terms = {"toxicity": _positive_terms(top_terms[i], top_weights[i])}
            results.append(
                TextScores(language=self._detector.detect(text), scores=scores, top_terms=terms)
            )
        return results


def _unit(value: float) -> float:
    # float32 rounding can land a hair outside [0, 1].
    return min(1.0, max(0.0, value))
