"""The intent head: a linear layer over encoder embeddings, as ONNX, shipped in this package.

Trained by training/intent.py on the team-written French and English set in training/data/intent/;
the manifest beside the graph pins its sha256 and records its measured accuracy.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

from vigie_responder.domain.drafting import Intent
from vigie_responder.domain.knowledge import LanguageCentroids

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


class IntentModelError(RuntimeError):
    pass


def _artifact(directory: Path, name: str) -> tuple[dict[str, object], bytes]:
    """An artifact's manifest entry and bytes, refused when they do not match its sha256."""
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise IntentModelError(f"no manifest at {manifest_path}: run `make models`") from None
    spec: dict[str, object] = manifest["artifacts"][name]
    path = directory / str(spec["file"])
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != spec["sha256"]:
        raise IntentModelError(f"{path.name} does not match the sha256 in its manifest")
    return spec, data


def load_centroids(directory: Path = MODELS_DIR) -> LanguageCentroids:
    """Mean French and English comment embeddings: retrieval centres every row on its language."""
    _, data = _artifact(directory, "language_centroids")
    return LanguageCentroids.from_mapping(json.loads(data))


class IntentModel:
    def __init__(self, session: ort.InferenceSession, labels: list[Intent], version: str) -> None:
        self._session = session
        self._input = session.get_inputs()[0].name
        self._labels = labels
        self.version = version

    @classmethod
    def load(cls, directory: Path = MODELS_DIR) -> IntentModel:
        spec, data = _artifact(directory, "intent")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        labels = spec["labels"]
        assert isinstance(labels, list)
        return cls(session, [Intent(label) for label in labels], str(spec.get("version", "1")))

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        if len(embeddings) == 0:
            return np.zeros((0, len(self._labels)), dtype=np.float32)
        outputs = self._session.run(None, {self._input: np.asarray(embeddings, dtype=np.float32)})
        probabilities = outputs[-1]
        if isinstance(probabilities, list):  # a ZipMap output: one {label: p} per row
            return np.array([[row[label.value] for label in self._labels] for row in probabilities])
        return np.asarray(probabilities)

    def predict(self, embeddings: np.ndarray) -> list[tuple[Intent, float]]:
        probabilities = self.probabilities(embeddings)
        best = probabilities.argmax(axis=1)
        return [(self._labels[i], float(probabilities[n, i])) for n, i in enumerate(best)]
