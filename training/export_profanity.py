"""Export the scikit-learn profanity model shipped in `alt-profanity-check` to ONNX.

    uv run python -m training.export_profanity

The package ships a TfidfVectorizer and a CalibratedClassifierCV(LinearSVC) as
joblib files; we convert them unchanged (no retraining), fix the tokenizer so
non-ASCII words survive, add explanation outputs, check parity against
scikit-learn, and record the artifact in manifest.json.
"""

from __future__ import annotations

from importlib import metadata, resources
from typing import Any

import joblib
import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from skl2onnx.common.data_types import StringTensorType
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from vigie_moderator.domain.scores import normalise_text

from training import data
from training.common import (
    ONNX_LOCALE,
    TARGET_OPSET,
    UNICODE_WORD_TOKENEXP,
    add_top_terms_output,
    consumer_input,
    fix_tokenizer_padding,
    log,
    record_artifact,
    save_model,
    setup_logging,
    vocabulary_list,
)

NAME = "profanity"
FILE = "profanity.onnx"
THRESHOLD = 0.5  # the package's own predict() cut-off

# Parity probes: English and French, accents, apostrophes, ç, œ, emoji, mixed case.
PROBES = [
    "You are a complete idiot",
    "What a lovely day, thanks!",
    "FUCK this shit",
    "Ça suffit, espèce d'idiot !",
    "Cœur brisé, l'œuvre est magnifique",
    "Ta gueule connard 😡",
    "naïve façon de penser… MERDE",
    "e\u0301le\u0300ve",  # decomposed accents
    "",
]


def load_pipeline() -> Pipeline:
    data_dir = resources.files("profanity_check") / "data"
    vectorizer = joblib.load(str(data_dir / "vectorizer.joblib"))
    model = joblib.load(str(data_dir / "model.joblib"))
    return Pipeline([("vectorizer", vectorizer), ("classifier", model)])


def convert(pipeline: Pipeline) -> Any:
    options: dict[Any, Any] = {
        TfidfVectorizer: {"tokenexp": UNICODE_WORD_TOKENEXP, "locale": ONNX_LOCALE},
        CalibratedClassifierCV: {"zipmap": False},
    }
    onx = to_onnx(
        pipeline,
        initial_types=[("text", StringTensorType([None, 1]))],
        options=options,
        target_opset=TARGET_OPSET,
    )
    fix_tokenizer_padding(onx)
    classifier: CalibratedClassifierCV = pipeline.named_steps["classifier"]
    # The calibrated model averages 5 fold models; their mean weight vector ranks terms.
    weights = np.mean([c.estimator.coef_[0] for c in classifier.calibrated_classifiers_], axis=0)
    return add_top_terms_output(
        onx,
        consumer_input(onx, "LinearClassifier"),
        weights,
        vocabulary_list(pipeline.named_steps["vectorizer"]),
    )


def onnx_proba(session: ort.InferenceSession, texts: list[str]) -> np.ndarray:
    batch = np.array([normalise_text(t) for t in texts], dtype=object).reshape(-1, 1)
    probabilities = session.run(["probabilities"], {"text": batch})[0]
    return np.asarray(probabilities[:, 1], dtype=np.float64)


def main() -> None:
    setup_logging()
    pipeline = load_pipeline()
    model = convert(pipeline)
    version = metadata.version("alt-profanity-check")
    path = save_model(
        model,
        FILE,
        f"alt-profanity-check {version} TF-IDF + calibrated LinearSVC, converted by skl2onnx",
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    reference = pipeline.predict_proba([normalise_text(t) for t in PROBES])[:, 1]
    gap = float(np.max(np.abs(onnx_proba(session, PROBES) - reference)))
    if gap > 1e-4:
        raise SystemExit(f"ONNX and scikit-learn disagree by {gap:.2e}")
    log.info("parity ok: max |onnx - sklearn| = %.2e", gap)

    metrics: dict[str, Any] = {}
    for key, rows in {"olid_test_en": data.olid_test(), "toxifrench_fr": data.toxifrench()}.items():
        y = np.array([r.labels["toxicity"] for r in rows])
        p = onnx_proba(session, [r.text for r in rows])
        pred = p >= THRESHOLD
        tp = int(np.sum(pred & (y == 1)))
        metrics[key] = {
            "n": len(rows),
            "positives": int(y.sum()),
            "roc_auc": round(float(roc_auc_score(y, p)), 4),
            "precision_at_threshold": round(tp / max(int(pred.sum()), 1), 4),
            "recall_at_threshold": round(tp / max(int(y.sum()), 1), 4),
        }
        log.info("%s roc_auc=%.4f", key, metrics[key]["roc_auc"])

    record_artifact(
        {
            "name": NAME,
            "version": f"{version}+onnx.1",
            "file": FILE,
            "kind": "sklearn-tfidf-linearsvc-calibrated",
            "task": "profanity: P(text is offensive/profane), English-trained",
            "languages": ["en"],
            "inputs": [
                {
                    "name": "text",
                    "type": "string",
                    "shape": [None, 1],
                    "preprocessing": "vigie_moderator.domain.scores.normalise_text (NFC + lower)",
                }
            ],
            "outputs": [
                {"name": "label", "type": "int64", "shape": [None]},
                {
                    "name": "probabilities",
                    "type": "float32",
                    "shape": [None, 2],
                    "meaning": "column 1 = P(profane)",
                },
                {"name": "top_weights", "type": "float32", "shape": [None, 5]},
                {"name": "top_terms", "type": "string", "shape": [None, 5]},
            ],
            "data": {
                "training": "none here: pre-trained weights from the PyPI package "
                f"alt-profanity-check=={version} (its authors' English data)",
                "evaluation": [
                    "olid-offenseval2019-en official test (level A)",
                    "toxifrench-balanced-fr (whole)",
                ],
            },
            "metrics": metrics,
            "thresholds": {"profane": THRESHOLD},
            "parity": {"max_abs_diff_vs_sklearn": gap, "probes": len(PROBES)},
            "converter": {
                "skl2onnx": metadata.version("skl2onnx"),
                "tokenexp": UNICODE_WORD_TOKENEXP,
                "locale": ONNX_LOCALE,
                "target_opset": TARGET_OPSET,
            },
            "command": "uv run python -m training.export_profanity",
        }
    )
    log.info("wrote %s", path)


if __name__ == "__main__":
    main()
