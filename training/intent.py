"""Train the comment-intent head (question, complaint, request, praise, other).

    uv run python -m training.intent

Data: training/data/intent/{train,validation,test}.jsonl, French and English,
written by the team for a fictional shop (see the README there). Features are the
shared sentence encoder's embeddings (kind="query", 384 unit-length floats),
cached by content hash (training/embed_cache.py), so a re-run takes seconds.
Model: one multinomial logistic regression; C is chosen on validation macro-F1,
the model is fitted on train only and measured once on test.

Artifact: services/responder/src/vigie_responder/models/intent.onnx, converted by
skl2onnx. Input `embedding` float32 [N, 384] (the encoder's output for the
comment); outputs `label` string [N] and `probabilities` float32 [N, 5] in the
order of `labels` in manifest.json beside it.

Also exported there: language_centroids.json, the mean embedding of the training
comments per language ({"en": [384 floats], "fr": [...]}), which knowledge-base
retrieval subtracts to match questions across languages (training/kb_eval.py,
`LanguageCentroids`, measured there).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from threadpoolctl import threadpool_limits
from vigie_encoder import DIMENSION

from training.common import (
    REPO_ROOT,
    SEED,
    TARGET_OPSET,
    log,
    record_artifact,
    save_model,
    setup_logging,
)
from training.embed_cache import EmbeddingCache

NAME = "intent"
FILE = "intent.onnx"
VERSION = "1.0.0"
LABELS = ("complaint", "other", "praise", "question", "request")
LANGUAGES = ("en", "fr")
SPLITS = ("train", "validation", "test")
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
DATA_DIR = REPO_ROOT / "training/data/intent"
RESPONDER_MODELS_DIR = REPO_ROOT / "services/responder/src/vigie_responder/models"
INPUT_NAME = "embedding"
CENTROIDS_NAME = "language_centroids"
CENTROIDS_FILE = "language_centroids.json"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    language: str
    intent: str


def load_split(name: str, directory: Path = DATA_DIR) -> list[Example]:
    rows = []
    with (directory / f"{name}.jsonl").open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            raw = json.loads(line)
            if raw["intent"] not in LABELS or raw["language"] not in LANGUAGES:
                raise ValueError(f"{name}.jsonl line {number}: unknown intent or language")
            rows.append(Example(raw["text"], raw["language"], raw["intent"]))
    return rows


def report(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    labels = list(LABELS)
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4
        ),
        "f1": {label: round(float(f), 4) for label, f in zip(labels, per_class, strict=True)},
    }


def full_report(rows: Sequence[Example], predicted: Sequence[str]) -> dict[str, Any]:
    truth = [r.intent for r in rows]
    out: dict[str, Any] = {"all": report(truth, predicted)}
    for language in LANGUAGES:
        idx = [i for i, r in enumerate(rows) if r.language == language]
        out[language] = report([truth[i] for i in idx], [predicted[i] for i in idx])
    out["confusion"] = {
        "rows_true_columns_predicted": list(LABELS),
        "matrix": confusion_matrix(truth, predicted, labels=list(LABELS)).tolist(),
    }
    return out


def to_onnx_model(model: LogisticRegression) -> Any:
    onx = to_onnx(
        model,
        initial_types=[(INPUT_NAME, FloatTensorType([None, DIMENSION]))],
        # Plain tensors, not a list of per-row dictionaries: the runtime indexes columns.
        options={id(model): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    return onx


def onnx_run(path: Path, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    label, probabilities = session.run(["label", "probabilities"], {INPUT_NAME: x.astype(np.float32)})
    return np.asarray(label), np.asarray(probabilities)


def main(models_dir: Path = RESPONDER_MODELS_DIR) -> None:
    setup_logging()
    started = time.monotonic()
    data = {name: load_split(name) for name in SPLITS}
    cache = EmbeddingCache()
    x = {name: cache.embed([r.text for r in rows]) for name, rows in data.items()}
    y = {name: np.array([r.intent for r in rows]) for name, rows in data.items()}
    log.info("embedded %d texts (%d new)", sum(len(v) for v in x.values()), cache.misses)

    best: tuple[float, float, LogisticRegression] | None = None
    grid: dict[str, float] = {}
    for c in C_GRID:
        # One BLAS thread: on a small matrix, more threads on a busy machine made each fit
        # ~50x slower (and the iteration count varied between runs).
        with threadpool_limits(limits=1):
            model = LogisticRegression(C=c, max_iter=5000, random_state=SEED).fit(x["train"], y["train"])
        score = float(f1_score(y["validation"], model.predict(x["validation"]), average="macro"))
        grid[str(c)] = round(score, 4)
        log.info("C=%s validation macro-F1=%.4f", c, score)
        # Ties go to the smaller C (more regularised): the grid is ascending.
        if best is None or score > best[0]:
            best = (score, c, model)
    assert best is not None
    _, c_best, model = best
    if tuple(model.classes_) != LABELS:
        raise SystemExit(f"unexpected class order {model.classes_}")

    path = save_model(
        to_onnx_model(model),
        FILE,
        "Vigie comment intent: multinomial logistic regression over multilingual-e5-small embeddings",
        models_dir=models_dir,
    )
    labels_onnx, p_onnx = onnx_run(path, x["test"])
    gap = float(np.max(np.abs(p_onnx - model.predict_proba(x["test"]))))
    if gap > 1e-4 or list(labels_onnx) != list(model.predict(x["test"])):
        raise SystemExit(f"ONNX and scikit-learn disagree (max probability gap {gap:.2e})")

    metrics: dict[str, Any] = {"parity_max_abs_diff": gap, "validation_macro_f1_by_C": grid}
    for name in ("validation", "test"):
        predicted, _ = onnx_run(path, x[name])
        metrics[name] = full_report(data[name], [str(p) for p in predicted])
    test = metrics["test"]
    log.info(
        "test accuracy %.4f macro-F1 %.4f | en acc %.4f F1 %.4f | fr acc %.4f F1 %.4f",
        test["all"]["accuracy"],
        test["all"]["macro_f1"],
        test["en"]["accuracy"],
        test["en"]["macro_f1"],
        test["fr"]["accuracy"],
        test["fr"]["macro_f1"],
    )
    log.info("test per-class F1 %s", test["all"]["f1"])

    record_artifact(
        {
            "name": NAME,
            "version": VERSION,
            "file": FILE,
            "kind": "sklearn-multinomial-logreg-over-sentence-embeddings",
            "task": "comment intent: question, complaint, request, praise or other",
            "languages": list(LANGUAGES),
            "labels": list(LABELS),
            "encoder": {"package": "vigie_encoder", "build": cache.build, "kind": "query"},
            "inputs": [
                {
                    "name": INPUT_NAME,
                    "type": "float32",
                    "shape": [None, DIMENSION],
                    "preprocessing": 'vigie_encoder.embed(texts, kind="query")',
                }
            ],
            "outputs": [
                {"name": "label", "type": "string", "shape": [None], "meaning": "the most probable label"},
                {
                    "name": "probabilities",
                    "type": "float32",
                    "shape": [None, len(LABELS)],
                    "meaning": "softmax over `labels`, in that order",
                },
            ],
            "data": {
                "sources": ["training/data/intent (written for Vigie, CC0; see its README)"],
                "splits": "stratified by intent and language, no sentence in two splits",
                "rows": {name: len(rows) for name, rows in data.items()},
            },
            "hyperparameters": {"C": c_best, "C_grid": list(C_GRID), "selected_on": "validation macro-F1"},
            "metrics": metrics,
            "thresholds": {},
            "command": "uv run python -m training.intent",
            "train_seconds": round(time.monotonic() - started, 1),
        },
        models_dir=models_dir,
    )
    export_centroids(data["train"], x["train"], cache.build, models_dir)
    log.info("wrote %s in %.0fs", path, time.monotonic() - started)


def export_centroids(rows: Sequence[Example], x: np.ndarray, build: str, models_dir: Path) -> None:
    from training.kb_eval import LanguageCentroids

    centroids = LanguageCentroids.fit(x, [r.language for r in rows])
    (models_dir / CENTROIDS_FILE).write_text(json.dumps(centroids.to_json()) + "\n", encoding="utf-8")
    record_artifact(
        {
            "name": CENTROIDS_NAME,
            "version": VERSION,
            "file": CENTROIDS_FILE,
            "kind": "per-language mean of sentence embeddings",
            "task": "language centring for cross-lingual knowledge-base retrieval",
            "languages": list(LANGUAGES),
            "encoder": {"package": "vigie_encoder", "build": build, "kind": "query"},
            "format": '{"en": [384 float], "fr": [384 float]}',
            "use": (
                "row -> row - centroid[lang] then L2-normalise, lang = 'fr' if row.(fr-en) > "
                "(fr+en).(fr-en)/2 else 'en'; apply to questions, answers and comments alike "
                "(training.kb_eval.LanguageCentroids.centre)"
            ),
            "data": {
                "sources": ["training/data/intent/train.jsonl"],
                "rows": {lang: sum(r.language == lang for r in rows) for lang in LANGUAGES},
            },
            "command": "uv run python -m training.intent",
        },
        models_dir=models_dir,
    )


if __name__ == "__main__":
    main()
