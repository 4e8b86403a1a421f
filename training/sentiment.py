"""Train the bilingual sentiment model (negative / neutral / positive).

    uv run python -m training.sentiment

UMSAB tweets (French DEFT-2017, English SemEval-2017) with their own train / val /
test splits. Word + character TF-IDF over `fold_text`, one multinomial logistic
regression for both languages. The service reports sentiment = P(pos) - P(neg).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from vigie_moderator.domain.scores import fold_text

from training import data
from training.common import SEED, log, record_artifact, save_model, setup_logging
from training.linear_onnx import Head, build_onnx, fit_features, make_features, onnx_predict

NAME = "sentiment"
FILE = "sentiment.onnx"
VERSION = "1.0.0"
LABELS = ("negative", "neutral", "positive")
C_GRID = (0.5, 1.0, 2.0, 4.0)
WORD_MAX = 20_000
CHAR_MAX = 40_000


def _report(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    polar = y != 1
    score = p[:, 2] - p[:, 0]
    return {
        "n": len(y),
        "accuracy": round(float(accuracy_score(y, p.argmax(axis=1))), 4),
        "macro_f1": round(float(f1_score(y, p.argmax(axis=1), average="macro")), 4),
        "roc_auc_pos_vs_neg": round(float(roc_auc_score(y[polar] == 2, score[polar])), 4),
    }


def main() -> None:
    setup_logging()
    started = time.monotonic()
    splits = {lang: data.umsab(lang) for lang in ("en", "fr")}
    train = splits["en"]["train"] + splits["fr"]["train"]
    features = make_features(word_max=WORD_MAX, char_max=CHAR_MAX)
    x_train = fit_features(features, [fold_text(r.text) for r in train])
    y_train = np.array([r.labels["sentiment"] for r in train])

    val = splits["en"]["val"] + splits["fr"]["val"]
    x_val = features.transform([fold_text(r.text) for r in val])
    y_val = np.array([r.labels["sentiment"] for r in val])
    best: tuple[float, float, LogisticRegression] | None = None
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=3000, random_state=SEED).fit(x_train, y_train)
        score = f1_score(y_val, model.predict(x_val), average="macro")
        log.info("C=%s val macro-F1=%.4f", c, score)
        if best is None or score > best[0]:
            best = (score, c, model)
    assert best is not None
    _, c_best, model = best
    head = Head.from_multiclass(LABELS, model)
    onx = build_onnx(features, head, explain=["negative", "positive"])
    path = save_model(onx, FILE, "Vigie sentiment: word+char TF-IDF, multinomial logistic")

    p_val = onnx_predict(str(path), [fold_text(r.text) for r in val])
    gap = float(np.max(np.abs(p_val - model.predict_proba(x_val))))
    if gap > 1e-4:
        raise SystemExit(f"ONNX and scikit-learn disagree by {gap:.2e}")

    metrics: dict[str, Any] = {"test": {}, "validation": {}, "parity_max_abs_diff": gap}
    for lang, parts in splits.items():
        for side, key in (("val", "validation"), ("test", "test")):
            rows = parts[side]
            p = onnx_predict(str(path), [fold_text(r.text) for r in rows])
            metrics[key][lang] = _report(np.array([r.labels["sentiment"] for r in rows]), p)
        log.info("sentiment %s test %s", lang, metrics["test"][lang])

    record_artifact(
        {
            "name": NAME,
            "version": VERSION,
            "file": FILE,
            "kind": "sklearn-tfidf-word-char-multinomial-logreg",
            "task": "sentiment: P(negative), P(neutral), P(positive); score = P(pos) - P(neg)",
            "languages": ["en", "fr"],
            "labels": list(LABELS),
            "inputs": [
                {
                    "name": "text",
                    "type": "string",
                    "shape": [None, 1],
                    "preprocessing": "vigie_moderator.domain.scores.fold_text",
                }
            ],
            "outputs": [
                {
                    "name": "probabilities",
                    "type": "float32",
                    "shape": [None, 3],
                    "meaning": "softmax over `labels`",
                },
                {"name": "top_terms_negative", "type": "string", "shape": [None, 5]},
                {"name": "top_weights_negative", "type": "float32", "shape": [None, 5]},
                {"name": "top_terms_positive", "type": "string", "shape": [None, 5]},
                {"name": "top_weights_positive", "type": "float32", "shape": [None, 5]},
            ],
            "data": {
                "sources": ["umsab-tweet-sentiment-fr-en (french, english)"],
                "splits": "the upstream train/val/test files, unchanged",
                "rows": {
                    "train": len(train),
                    "val": len(val),
                    "test": sum(len(p["test"]) for p in splits.values()),
                },
            },
            "hyperparameters": {
                "C": c_best,
                "C_grid": list(C_GRID),
                "word_max_features": WORD_MAX,
                "char_max_features": CHAR_MAX,
            },
            "metrics": metrics,
            "thresholds": {},
            "command": "uv run python -m training.sentiment",
            "train_seconds": round(time.monotonic() - started, 1),
        }
    )
    log.info("wrote %s in %.0fs", path, time.monotonic() - started)


if __name__ == "__main__":
    main()
