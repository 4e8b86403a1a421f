"""Text n-gram features + linear heads, fitted with scikit-learn, served as ONNX.

The feature extractor (a FeatureUnion of TfidfVectorizers) is converted by skl2onnx;
the heads (one or more fitted LogisticRegression) are appended by hand as
MatMul + Add + Sigmoid/Softmax, because their training rows differ per category
(labels are partial) and no scikit-learn meta-estimator converts that directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from scipy import sparse
from skl2onnx import to_onnx
from skl2onnx.common.data_types import StringTensorType
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from training.common import (
    ONNX_LOCALE,
    TARGET_OPSET,
    UNICODE_WORD_TOKENEXP,
    fix_tokenizer_padding,
)

WORD = "word"
CHAR = "char"
# scikit-learn's default, spelled out: UNICODE_WORD_TOKENEXP is its RE2 twin.
SKLEARN_WORD_PATTERN = r"(?u)\b\w\w+\b"


def make_features(
    word_max: int = 60_000, char_max: int = 120_000, char_range: tuple[int, int] = (2, 5)
) -> FeatureUnion:
    # Inputs arrive folded (lowercased, accents stripped), so no lowercasing here:
    # that keeps StringNormalizer, and its locale, out of the graph.
    return FeatureUnion(
        [
            (
                WORD,
                TfidfVectorizer(
                    token_pattern=SKLEARN_WORD_PATTERN,
                    ngram_range=(1, 2),
                    min_df=2,
                    max_features=word_max,
                    sublinear_tf=False,
                    lowercase=False,
                    dtype=np.float32,
                ),
            ),
            (
                CHAR,
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=char_range,
                    min_df=3,
                    max_features=char_max,
                    sublinear_tf=False,
                    lowercase=False,
                    dtype=np.float32,
                ),
            ),
        ]
    )


def fit_features(features: FeatureUnion, texts: Sequence[str]) -> sparse.csr_matrix:
    """Fit, then drop word bigrams that skl2onnx would convert wrongly.

    skl2onnx only treats "a b" as a bigram when "a" and "b" are both unigrams of the
    vocabulary; otherwise it looks for one token "a b", which never occurs, and the
    feature silently goes dead in ONNX. `max_features` can keep such a bigram while
    cutting one of its words at a tie, so remove them from both sides.
    """
    features.fit(texts)
    word: TfidfVectorizer = features.named_transformers[WORD]
    vocabulary = word.vocabulary_
    keep = sorted(
        (term, column)
        for term, column in vocabulary.items()
        if " " not in term or all(part in vocabulary for part in term.split(" "))
    )
    if len(keep) < len(vocabulary):
        # A fixed vocabulary refit gives the kept terms the same document frequencies.
        word.set_params(vocabulary=[term for term, _ in keep])
        word.fit(texts)
    return features.transform(texts).tocsr()


@dataclass(frozen=True, slots=True)
class Head:
    """Fitted linear head(s) over the union features (+ optional numeric signals)."""

    labels: Sequence[str]
    coef: np.ndarray  # [n_features, n_outputs]
    intercept: np.ndarray  # [n_outputs]
    activation: str  # "sigmoid" (independent binary heads) or "softmax" (one multiclass)

    @classmethod
    def from_binary(cls, labels: Sequence[str], models: Sequence[LogisticRegression]) -> Head:
        return cls(
            labels,
            np.stack([m.coef_[0] for m in models], axis=1),
            np.array([m.intercept_[0] for m in models]),
            "sigmoid",
        )

    @classmethod
    def from_multiclass(cls, labels: Sequence[str], model: LogisticRegression) -> Head:
        return cls(labels, model.coef_.T.copy(), model.intercept_.copy(), "softmax")

    def predict(self, x: sparse.spmatrix | np.ndarray) -> np.ndarray:
        z = np.asarray(x @ self.coef) + self.intercept
        if self.activation == "sigmoid":
            return np.asarray(1.0 / (1.0 + np.exp(-z)))
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))


def _options(features: FeatureUnion) -> dict[int, dict[str, Any]]:
    word = features.named_transformers[WORD]
    return {id(word): {"tokenexp": UNICODE_WORD_TOKENEXP, "locale": ONNX_LOCALE}}


def build_onnx(
    features: FeatureUnion,
    head: Head,
    *,
    signal_mean: np.ndarray | None = None,
    signal_scale: np.ndarray | None = None,
    explain: Sequence[str] = (),
    top_k: int = 5,
) -> onnx.ModelProto:
    """Graph: text [N,1] (+ signals [N,S]) -> probabilities [N,C] (+ top terms per label).

    Explanations rank word n-grams only: character n-grams mean little to a
    reviewer. Entries with a weight <= 0 did not push the score up.
    """
    model = to_onnx(
        features,
        initial_types=[("text", StringTensorType([None, 1]))],
        options=_options(features),
        target_opset=TARGET_OPSET,
    )
    fix_tokenizer_padding(model)
    graph = model.graph
    text_features = graph.output[0].name
    del graph.output[:]
    n_text = sum(len(t.vocabulary_) for _, t in features.transformer_list)
    n_word = len(features.named_transformers[WORD].vocabulary_)
    inits = graph.initializer
    nodes = graph.node

    joined = text_features
    n_signals = 0
    if signal_mean is not None and signal_scale is not None:
        n_signals = len(signal_mean)
        graph.input.append(helper.make_tensor_value_info("signals", TensorProto.FLOAT, [None, n_signals]))
        inits.extend(
            [
                numpy_helper.from_array(signal_mean.astype(np.float32).reshape(1, -1), "sig_mean"),
                numpy_helper.from_array(
                    (1.0 / signal_scale).astype(np.float32).reshape(1, -1), "sig_inv_scale"
                ),
            ]
        )
        nodes.extend(
            [
                helper.make_node("Sub", ["signals", "sig_mean"], ["sig_centered"]),
                helper.make_node("Mul", ["sig_centered", "sig_inv_scale"], ["sig_scaled"]),
                helper.make_node("Concat", [text_features, "sig_scaled"], ["joined"], axis=1),
            ]
        )
        joined = "joined"
    if head.coef.shape[0] != n_text + n_signals:
        raise ValueError("head width does not match the features")

    inits.extend(
        [
            numpy_helper.from_array(head.coef.astype(np.float32), "head_w"),
            numpy_helper.from_array(head.intercept.astype(np.float32), "head_b"),
        ]
    )
    activation = "Sigmoid" if head.activation == "sigmoid" else "Softmax"
    act_attrs: dict[str, Any] = {} if activation == "Sigmoid" else {"axis": 1}
    nodes.extend(
        [
            helper.make_node("MatMul", [joined, "head_w"], ["logits_raw"]),
            helper.make_node("Add", ["logits_raw", "head_b"], ["logits"]),
            helper.make_node(activation, ["logits"], ["probabilities"], **act_attrs),
        ]
    )
    graph.output.append(
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(head.labels)])
    )

    if explain:
        word_vocab = features.named_transformers[WORD].get_feature_names_out()
        k = min(top_k, n_word)
        inits.extend(
            [
                numpy_helper.from_array(np.array([0], dtype=np.int64), "word_start"),
                numpy_helper.from_array(np.array([n_word], dtype=np.int64), "word_end"),
                numpy_helper.from_array(np.array([1], dtype=np.int64), "word_axis"),
                numpy_helper.from_array(np.array([k], dtype=np.int64), "top_k"),
                numpy_helper.from_array(np.array(list(word_vocab), dtype=object), "word_vocab"),
            ]
        )
        nodes.append(
            helper.make_node("Slice", [text_features, "word_start", "word_end", "word_axis"], ["word_feats"])
        )
        for label in explain:
            column = list(head.labels).index(label)
            w = head.coef[:n_word, column].astype(np.float32).reshape(1, -1)
            inits.append(numpy_helper.from_array(w, f"explain_w_{label}"))
            nodes.extend(
                [
                    helper.make_node("Mul", ["word_feats", f"explain_w_{label}"], [f"contrib_{label}"]),
                    helper.make_node(
                        "TopK",
                        [f"contrib_{label}", "top_k"],
                        [f"top_weights_{label}", f"top_idx_{label}"],
                        axis=1,
                    ),
                    helper.make_node(
                        "Gather",
                        ["word_vocab", f"top_idx_{label}"],
                        [f"top_terms_{label}"],
                        axis=0,
                    ),
                ]
            )
            graph.output.extend(
                [
                    helper.make_tensor_value_info(f"top_weights_{label}", TensorProto.FLOAT, [None, k]),
                    helper.make_tensor_value_info(f"top_terms_{label}", TensorProto.STRING, [None, k]),
                ]
            )
    onnx.checker.check_model(model)
    checked: onnx.ModelProto = model
    return checked


def onnx_predict(
    model: onnx.ModelProto | str,
    texts: Sequence[str],
    signals: np.ndarray | None = None,
    batch: int = 256,
) -> np.ndarray:
    source = model if isinstance(model, str) else model.SerializeToString()
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    out = []
    for start in range(0, len(texts), batch):
        feed: dict[str, np.ndarray] = {
            "text": np.array(texts[start : start + batch], dtype=object).reshape(-1, 1)
        }
        if signals is not None:
            feed["signals"] = signals[start : start + batch].astype(np.float32)
        out.append(session.run(["probabilities"], feed)[0])
    return np.vstack(out) if out else np.zeros((0, 0))
