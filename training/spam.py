"""Train the comment spam model.

    uv run python -m training.spam

YouTube comment spam (3 videos) plus SMS spam as extra data. Word + character
TF-IDF over `fold_text`, plus `spam_signals` (links, phone numbers, e-mail
addresses, digits, shouting, repetition, length, currency) that rewording cannot
hide, into one logistic regression. The threshold is chosen on YouTube validation
(comments are the target domain). Also reports leave-one-video-out ROC-AUC, a
cross-video estimate closer to the project's held-out videos.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from vigie_moderator.domain.scores import SPAM_SIGNALS, fold_text, spam_signals

from training import data
from training.common import SEED, log, record_artifact, save_model, setup_logging
from training.data import Row
from training.evaluate import binary_report, choose_threshold
from training.linear_onnx import Head, build_onnx, fit_features, make_features, onnx_predict
from training.splits import record, split_indices

NAME = "spam"
FILE = "spam.onnx"
VERSION = "1.0.0"
C = 4.0
WORD_MAX = 20_000
CHAR_MAX = 40_000


def _signals(rows: list[Row]) -> np.ndarray:
    return np.array([spam_signals(r.text) for r in rows], dtype=np.float64)


def _fit(
    train: list[Row],
) -> tuple[Any, LogisticRegression, np.ndarray, np.ndarray]:
    features = make_features(word_max=WORD_MAX, char_max=CHAR_MAX)
    x_text = fit_features(features, [fold_text(r.text) for r in train])
    signals = _signals(train)
    mean, scale = signals.mean(axis=0), signals.std(axis=0) + 1e-6
    x = sparse.hstack([x_text, sparse.csr_matrix((signals - mean) / scale)]).tocsr()
    y = np.array([r.labels["spam"] for r in train])
    model = LogisticRegression(C=C, solver="liblinear", random_state=SEED).fit(x, y)
    return features, model, mean, scale


def _predict(
    features: Any, model: LogisticRegression, mean: np.ndarray, scale: np.ndarray, rows: list[Row]
) -> np.ndarray:
    x_text = features.transform([fold_text(r.text) for r in rows])
    x = sparse.hstack([x_text, sparse.csr_matrix((_signals(rows) - mean) / scale)]).tocsr()
    return np.asarray(model.predict_proba(x)[:, 1])


def main() -> None:
    setup_logging()
    started = time.monotonic()
    sources = {"youtube": data.youtube(), "sms": data.sms()}
    parts = {n: split_indices(rows, lambda r: r.labels["spam"]) for n, rows in sources.items()}
    record({f"spam/{n}": p for n, p in parts.items()}, {f"spam/{n}": r for n, r in sources.items()})
    split = {
        side: {n: [sources[n][i] for i in parts[n][side]] for n in sources}
        for side in ("train", "val", "test")
    }
    train = split["train"]["youtube"] + split["train"]["sms"]
    features, model, mean, scale = _fit(train)
    head = Head.from_binary(["spam"], [model])
    onx = build_onnx(features, head, signal_mean=mean, signal_scale=scale, explain=["spam"])
    path = save_model(onx, FILE, "Vigie spam: word+char TF-IDF + spam signals, logistic")

    def onnx_scores(rows: list[Row]) -> np.ndarray:
        texts = [fold_text(r.text) for r in rows]
        return onnx_predict(str(path), texts, _signals(rows))[:, 0]

    val_yt = split["val"]["youtube"]
    p_val = onnx_scores(val_yt)
    gap = float(np.max(np.abs(p_val - _predict(features, model, mean, scale, val_yt))))
    if gap > 1e-4:
        raise SystemExit(f"ONNX and scikit-learn disagree by {gap:.2e}")
    threshold = choose_threshold(np.array([r.labels["spam"] for r in val_yt]), p_val)

    metrics: dict[str, Any] = {"test": {}, "validation": {}, "parity_max_abs_diff": gap}
    for side in ("val", "test"):
        for name in sources:
            rows = split[side][name]
            y = np.array([r.labels["spam"] for r in rows])
            key = "validation" if side == "val" else "test"
            metrics[key][name] = binary_report(y, onnx_scores(rows), threshold)
    log.info("spam youtube test roc_auc=%s", metrics["test"]["youtube"].get("roc_auc"))

    # Cross-video: train on two videos (+ all SMS), test on the third.
    cross = {}
    youtube = sources["youtube"]
    for video in sorted({r.meta["video"] for r in youtube}):
        held = [r for r in youtube if r.meta["video"] == video]
        rest = [r for r in youtube if r.meta["video"] != video] + sources["sms"]
        f, m, mu, sd = _fit(rest)
        y = np.array([r.labels["spam"] for r in held])
        cross[video] = binary_report(y, _predict(f, m, mu, sd, held), threshold)
        log.info("held-out video %s roc_auc=%s", video, cross[video].get("roc_auc"))
    metrics["leave_one_video_out"] = cross

    record_artifact(
        {
            "name": NAME,
            "version": VERSION,
            "file": FILE,
            "kind": "sklearn-tfidf-word-char+signals-logreg",
            "task": "comment spam: P(spam)",
            "languages": ["en"],
            "labels": ["spam"],
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
                    "shape": [None, len(SPAM_SIGNALS)],
                    "preprocessing": "vigie_moderator.domain.scores.spam_signals (raw text)",
                    "columns": list(SPAM_SIGNALS),
                },
            ],
            "outputs": [
                {"name": "probabilities", "type": "float32", "shape": [None, 1]},
                {"name": "top_terms_spam", "type": "string", "shape": [None, 5]},
                {"name": "top_weights_spam", "type": "float32", "shape": [None, 5]},
            ],
            "data": {
                "sources": ["youtube-spam-collection-en (Psy, KatyPerry, LMFAO)", "sms-spam-collection-en"],
                "splits": "training/splits.json (keys spam/<source>); grouped by exact "
                f"text, stratified, seed {SEED}",
                "rows": {side: sum(len(v) for v in split[side].values()) for side in split},
            },
            "hyperparameters": {"C": C, "word_max_features": WORD_MAX, "char_max_features": CHAR_MAX},
            "signal_weights": dict(
                zip(SPAM_SIGNALS, [round(float(w), 3) for w in model.coef_[0][-len(mean) :]], strict=True)
            ),
            "metrics": metrics,
            "thresholds": {"spam": threshold},
            "command": "uv run python -m training.spam",
            "train_seconds": round(time.monotonic() - started, 1),
        }
    )
    log.info("wrote %s in %.0fs", path, time.monotonic() - started)


if __name__ == "__main__":
    main()
