"""The committed intent head and language centroids: pinned bytes, graph interface, behaviour.

The last test needs the encoder built (`make install` builds it).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnxruntime as ort
import pytest
from vigie_encoder import DIMENSION, Encoder

from training.intent import CENTROIDS_FILE, FILE, RESPONDER_MODELS_DIR
from training.kb_eval import LanguageCentroids

MANIFEST = json.loads((RESPONDER_MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
INTENT = MANIFEST["artifacts"]["intent"]


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    return ort.InferenceSession(str(RESPONDER_MODELS_DIR / FILE), providers=["CPUExecutionProvider"])


def test_every_artifact_matches_its_manifest_entry() -> None:
    assert set(MANIFEST["artifacts"]) == {"intent", "language_centroids"}
    for entry in MANIFEST["artifacts"].values():
        data = (RESPONDER_MODELS_DIR / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
    assert INTENT["labels"] == ["complaint", "other", "praise", "question", "request"]
    assert {"accuracy", "macro_f1", "f1"} <= set(INTENT["metrics"]["test"]["fr"])


def test_graph_takes_embeddings_and_returns_label_and_probabilities(session: ort.InferenceSession) -> None:
    (inp,) = session.get_inputs()
    assert (inp.name, inp.type, inp.shape[1]) == ("embedding", "tensor(float)", DIMENSION)
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    rows = np.random.default_rng(1).normal(size=(7, DIMENSION)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    labels, probabilities = session.run(None, {"embedding": rows})
    assert probabilities.shape == (7, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert list(labels) == [INTENT["labels"][i] for i in probabilities.argmax(axis=1)]


def test_centroids_file_holds_one_row_per_language() -> None:
    raw = json.loads((RESPONDER_MODELS_DIR / CENTROIDS_FILE).read_text(encoding="utf-8"))
    centroids = LanguageCentroids.from_json(raw)
    assert centroids.en.shape == centroids.fr.shape == (DIMENSION,)


def test_clear_comments_get_their_intent(session: ort.InferenceSession) -> None:
    # Not in any split: plain cases every reasonable model must get right.
    comments = {
        "Vous livrez en Italie ?": "question",
        "How much does the Nova floor lamp cost?": "question",
        "Merci de m'envoyer ma facture par mail": "request",
        "Please cancel my order today": "request",
        "Ma lampe est arrivée en morceaux, je suis furieuse": "complaint",
        "Still waiting for my refund, this is ridiculous": "complaint",
        "Elle est magnifique, merci pour ce travail": "praise",
        "Absolutely beautiful lamp, love it": "praise",
        "@paul tu as vu ?": "other",
        "Good morning from Berlin": "other",
    }
    encoder = Encoder.load(threads=1)
    labels, _ = session.run(None, {"embedding": encoder.embed(list(comments))})
    assert dict(zip(comments, labels, strict=True)) == comments
