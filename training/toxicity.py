"""Train the bilingual toxicity model (toxicity, insult, threat, identity_attack).

    uv run python -m training.toxicity

Word (1-2) + character (2-5) TF-IDF n-grams over `fold_text`, plus the
alt-profanity-check model's verdict as a per-language feature
(`profanity_signals`), one logistic regression per category trained on the rows
whose corpus labels that category (see training/data.py for how labels are
derived). Thresholds are chosen per language on validation; metrics are reported
on the test splits, with the profanity model alone as a baseline.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np
import onnxruntime as ort
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from vigie_moderator.domain.scores import (
    PROFANITY_SIGNALS,
    fold_text,
    profanity_input,
    profanity_signals,
)

from training import data
from training.common import MODELS_DIR, SEED, log, record_artifact, save_model, setup_logging
from training.data import Row
from training.evaluate import binary_report, choose_threshold
from training.linear_onnx import Head, build_onnx, fit_features, make_features, onnx_predict
from training.splits import record, split_indices

NAME = "toxicity"
FILE = "toxicity.onnx"
VERSION = "2.1.0"
LABELS = ("toxicity", "insult", "threat", "identity_attack")
C = 1.0
WORD_MAX = 30_000
CHAR_MAX = 60_000
PROFANITY_HEADS = ("toxicity",)
# OLID ships an official test set: its training file only needs train/val.
FRACTIONS = {"olid": (0.85, 0.15, 0.0)}


def _stratum(row: Row) -> int:
    return row.labels.get("toxicity", row.labels.get("identity_attack", 0))


def load_splits() -> tuple[dict[str, list[Row]], dict[str, dict[str, list[Row]]]]:
    sources = data.toxicity_sources()
    by_split: dict[str, dict[str, list[Row]]] = {}
    indices = {}
    for name, rows in sources.items():
        parts = split_indices(rows, _stratum, FRACTIONS.get(name, (0.70, 0.15, 0.15)))
        indices[f"toxicity/{name}"] = parts
        by_split[name] = {k: [rows[i] for i in v] for k, v in parts.items()}
    by_split["olid"]["test"] = data.olid_test_full()
    record(indices, {f"toxicity/{k}": v for k, v in sources.items()})
    return sources, by_split


def _labelled(rows: list[Row], label: str) -> tuple[np.ndarray, np.ndarray]:
    mask = np.array([label in r.labels for r in rows], dtype=bool)
    y = np.array([r.labels.get(label, 0) for r in rows], dtype=int)
    return mask, y


def main() -> None:
    setup_logging()
    started = time.monotonic()
    _, by_split = load_splits()
    train = [r for parts in by_split.values() for r in parts["train"]]
    val = [r for parts in by_split.values() for r in parts["val"]]
    test = [r for parts in by_split.values() for r in parts["test"]]
    log.info("rows: train=%d val=%d test=%d", len(train), len(val), len(test))

    features = make_features(word_max=WORD_MAX, char_max=CHAR_MAX)
    x_text = fit_features(features, [fold_text(r.text) for r in train])
    s_train, s_val, s_test = (_signals(rows) for rows in (train, val, test))
    x_train = sparse.hstack([x_text, sparse.csr_matrix(s_train)]).tocsr()
    models = []
    for label in LABELS:
        mask, y = _labelled(train, label)
        model = LogisticRegression(C=C, solver="liblinear", random_state=SEED)
        if label in PROFANITY_HEADS:
            model.fit(x_train[mask], y[mask])
        else:
            # Swearing is not insulting or threatening by itself: on the other heads
            # the profanity verdict made untargeted swearing look like an insult.
            model.fit(x_text[mask], y[mask])
            model.coef_ = np.hstack([model.coef_, np.zeros((1, s_train.shape[1]))])
        models.append(model)
        log.info("fitted %s on %d rows (%d positive)", label, mask.sum(), y[mask].sum())
    head = Head.from_binary(LABELS, models)

    n_signals = len(PROFANITY_SIGNALS)
    onx = build_onnx(
        features,
        head,
        signal_mean=np.zeros(n_signals),
        signal_scale=np.ones(n_signals),
        explain=LABELS,
    )
    path = save_model(onx, FILE, "Vigie toxicity: word+char TF-IDF + profanity, logistic heads")
    p_val = onnx_predict(str(path), [fold_text(r.text) for r in val], s_val)
    p_test = onnx_predict(str(path), [fold_text(r.text) for r in test], s_test)

    probe = val[:400]
    x_probe = features.transform([fold_text(r.text) for r in probe])
    reference = head.predict(sparse.hstack([x_probe, sparse.csr_matrix(s_val[: len(probe)])]).tocsr())
    gap = float(np.max(np.abs(p_val[: len(probe)] - reference)))
    if gap > 1e-4:
        raise SystemExit(f"ONNX and scikit-learn disagree by {gap:.2e}")
    log.info("parity ok: %.2e", gap)

    baseline = _profanity(test)  # also the signal, recomputed for the report
    thresholds: dict[str, dict[str, float]] = defaultdict(dict)
    metrics: dict[str, Any] = {
        "test": {},
        "validation": {},
        "per_source_test": {},
        "per_group_test": {},
        "baseline_profanity_test": {},
    }
    for column, label in enumerate(LABELS):
        for language in ("en", "fr"):
            v_mask, v_y = _labelled(val, label)
            v_mask &= np.array([r.language == language for r in val])
            t_mask, t_y = _labelled(test, label)
            t_mask &= np.array([r.language == language for r in test])
            if v_y[v_mask].sum() == 0 or t_y[t_mask].sum() == 0:
                continue
            threshold = choose_threshold(v_y[v_mask], p_val[v_mask, column])
            thresholds[label][language] = threshold
            key = f"{label}/{language}"
            metrics["validation"][key] = binary_report(v_y[v_mask], p_val[v_mask, column], threshold)
            metrics["test"][key] = binary_report(t_y[t_mask], p_test[t_mask, column], threshold)
            if label == "toxicity":
                metrics["baseline_profanity_test"][key] = binary_report(t_y[t_mask], baseline[t_mask], 0.5)
            log.info("%s test roc_auc=%s", key, metrics["test"][key].get("roc_auc"))
        for source in sorted({r.source for r in test}):
            s_mask, s_y = _labelled(test, label)
            s_mask &= np.array([r.source == source for r in test])
            if s_y[s_mask].sum() and s_mask.sum() > s_y[s_mask].sum():
                language = test[int(np.argmax(s_mask))].language
                metrics["per_source_test"][f"{label}/{source}"] = binary_report(
                    s_y[s_mask],
                    p_test[s_mask, column],
                    thresholds[label].get(language, 0.5),
                )
    metrics["per_group_test"] = _per_group(test, p_test, thresholds)
    metrics["parity_max_abs_diff"] = gap

    record_artifact(
        {
            "name": NAME,
            "version": VERSION,
            "file": FILE,
            "kind": "sklearn-tfidf-word-char-logreg",
            "task": "multi-label toxicity: P(toxicity), P(insult), P(threat), P(identity_attack)",
            "languages": ["en", "fr"],
            "labels": list(LABELS),
            "inputs": [
                {
                    "name": "text",
                    "type": "string",
                    "shape": [None, 1],
                    "preprocessing": "vigie_moderator.domain.scores.fold_text",
                },
                {
                    "name": "signals",
                    "type": "float32",
                    "shape": [None, len(PROFANITY_SIGNALS)],
                    "columns": list(PROFANITY_SIGNALS),
                    "preprocessing": "vigie_moderator.domain.scores.profanity_signals("
                    "profanity model P(profane), language)",
                },
            ],
            "outputs": [
                {
                    "name": "probabilities",
                    "type": "float32",
                    "shape": [None, len(LABELS)],
                    "meaning": "columns in `labels` order, independent sigmoids",
                },
                *[
                    {"name": f"top_{kind}_{label}", "type": dtype, "shape": [None, 5]}
                    for label in LABELS
                    for kind, dtype in (("terms", "string"), ("weights", "float32"))
                ],
            ],
            "data": {
                "sources": sorted(by_split),
                "splits": "training/splits.json (keys toxicity/<source>); grouped by "
                "scenario (cyberagression) or exact text, stratified, seed "
                f"{SEED}; OLID test = official test set",
                "rows": {"train": len(train), "val": len(val), "test": len(test)},
                "label_derivation": "training/data.py, docs/models/toxicity.md",
            },
            "hyperparameters": {
                "C": C,
                "word_max_features": WORD_MAX,
                "char_max_features": CHAR_MAX,
                "ngrams": "word 1-2, char 2-5",
                "extra_features": list(PROFANITY_SIGNALS),
            },
            "metrics": metrics,
            "thresholds": dict(thresholds),
            "command": "uv run python -m training.toxicity",
            "train_seconds": round(time.monotonic() - started, 1),
        }
    )
    log.info("wrote %s in %.0fs", path, time.monotonic() - started)


def _signals(rows: list[Row]) -> np.ndarray:
    # Training uses each corpus's language; the service uses the detected one.
    profanity = _profanity(rows)
    return np.array(
        [profanity_signals(float(p), r.language) for p, r in zip(profanity, rows, strict=True)],
        dtype=np.float64,
    )


def _profanity(rows: list[Row]) -> np.ndarray:
    session = ort.InferenceSession(str(MODELS_DIR / "profanity.onnx"), providers=["CPUExecutionProvider"])
    texts = np.array([profanity_input(r.text) for r in rows], dtype=object).reshape(-1, 1)
    out = [
        session.run(["probabilities"], {"text": texts[i : i + 512]})[0][:, 1]
        for i in range(0, len(texts), 512)
    ]
    return np.concatenate(out).astype(np.float64)


def _per_group(
    test: list[Row], p_test: np.ndarray, thresholds: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """Per MLMA target group: toxicity recall on hostile tweets, and false positives on
    the 'normal' ones, at the language's threshold. MLMA is nearly all hostile, so
    ROC-AUC per group is reported only where both classes have >= 10 rows."""
    out: dict[str, Any] = {}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(test):
        if r.source.startswith("mlma") and r.meta.get("target"):
            groups[(r.language, r.meta["target"])].append(i)
    for (language, target), idx in sorted(groups.items()):
        y = np.array([test[i].labels["toxicity"] for i in idx])
        p = p_test[idx, 0]
        report = binary_report(y, p, thresholds["toxicity"].get(language, 0.5))
        if min(int(y.sum()), len(y) - int(y.sum())) < 10:
            report.pop("roc_auc", None)
            report.pop("pr_auc", None)
        out[f"{language}/{target}"] = report
    return out


if __name__ == "__main__":
    main()
