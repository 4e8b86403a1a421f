"""Helpers shared by the training and export scripts (training-time only)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from vigie_moderator.domain.scores import PAD_CHAR

REPO_ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO_ROOT / "services/moderator/src/vigie_moderator/models"
MANIFEST = MODELS_DIR / "manifest.json"
# CI lays shared/ beside the clone, as on a developer's machine.
DATA_DIR = Path(os.environ.get("VIGIE_DATA_DIR", REPO_ROOT.parent / "shared/data"))
SEED = 20261130

# The scikit-learn default token pattern `(?u)\b\w\w+\b` is Unicode-aware in Python,
# but skl2onnx replaces it by `[a-zA-Z0-9_]+`, which the ONNX Tokenizer (RE2) runs
# ASCII-only: "élève" would come out as "l", "ve". Python's `\w` is "letter, number
# or underscore"; tokens of one character never reach a vocabulary built with that
# pattern, and they must not be emitted either: word bigrams would then be built
# across them ("c'était" gives the tokens "c", "était" to ONNX but only "était" to
# scikit-learn).
UNICODE_WORD_TOKENEXP = r"[\p{L}\p{N}_]{2,}"
# The ONNX StringNormalizer needs a locale that exists on the serving host;
# "en_US.UTF-8" (the default) is missing from slim images, "C.UTF-8" is built into
# glibc. Inputs are already lowercased in Python (`normalise_text`), so this only
# matters for callers that feed raw text.
ONNX_LOCALE = "C.UTF-8"
# The ONNX Tokenizer pads short rows of a batch with `pad_value` ("#" by default) and
# TfIdfVectorizer then counts n-grams over the padding: character n-grams such as
# '"#' are real vocabulary entries, so a text's score would depend on the longest
# text in its batch. Pad with a private-use character that `fold_text` removes.
TOKEN_PAD = PAD_CHAR
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}

log = logging.getLogger("training")


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_manifest(models_dir: Path = MODELS_DIR) -> dict[str, Any]:
    manifest_path = models_dir / MANIFEST.name
    if manifest_path.exists():
        data: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        return data
    return {"schema_version": 1, "artifacts": {}}


def record_artifact(entry: dict[str, Any], models_dir: Path = MODELS_DIR) -> None:
    """Write or replace one artifact's entry, keyed by its name, with its sha256."""
    manifest = load_manifest(models_dir)
    path = models_dir / entry["file"]
    entry = {**entry, "sha256": sha256_of(path), "bytes": path.stat().st_size}
    manifest["artifacts"][entry["name"]] = entry
    manifest["artifacts"] = dict(sorted(manifest["artifacts"].items()))
    (models_dir / MANIFEST.name).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n",
        encoding="utf-8",
    )


def add_top_terms_output(
    model: onnx.ModelProto,
    features: str,
    weights: np.ndarray,
    vocabulary: Sequence[str],
    k: int = 5,
    prefix: str = "",
) -> onnx.ModelProto:
    """Add outputs naming the k features that pushed a linear score up the most.

    contribution = feature value x weight; the graph returns the k largest
    contributions (`<prefix>top_weights`) and their names (`<prefix>top_terms`,
    gathered from a string constant). Callers drop entries whose weight is <= 0:
    those did not push the score up. Doing it in the graph keeps explanations
    exactly consistent with the features the model saw.
    """
    graph = model.graph
    k = min(k, len(vocabulary))
    names = {
        "w": f"{prefix}explain_weights",
        "k": f"{prefix}explain_k",
        "vocab": f"{prefix}explain_vocab",
        "contrib": f"{prefix}explain_contrib",
        "idx": f"{prefix}explain_idx",
    }
    graph.initializer.extend(
        [
            numpy_helper.from_array(weights.astype(np.float32).reshape(1, -1), names["w"]),
            numpy_helper.from_array(np.array([k], dtype=np.int64), names["k"]),
            numpy_helper.from_array(np.array(list(vocabulary), dtype=object), names["vocab"]),
        ]
    )
    top_w, top_t = f"{prefix}top_weights", f"{prefix}top_terms"
    graph.node.extend(
        [
            helper.make_node("Mul", [features, names["w"]], [names["contrib"]]),
            helper.make_node("TopK", [names["contrib"], names["k"]], [top_w, names["idx"]], axis=1),
            helper.make_node("Gather", [names["vocab"], names["idx"]], [top_t], axis=0),
        ]
    )
    graph.output.extend(
        [
            helper.make_tensor_value_info(top_w, TensorProto.FLOAT, [None, k]),
            helper.make_tensor_value_info(top_t, TensorProto.STRING, [None, k]),
        ]
    )
    onnx.checker.check_model(model)
    return model


def fix_tokenizer_padding(model: onnx.ModelProto) -> onnx.ModelProto:
    for node in model.graph.node:
        if node.op_type == "Tokenizer":
            for attribute in node.attribute:
                if attribute.name == "pad_value":
                    attribute.s = TOKEN_PAD.encode("utf-8")
    return model


def vocabulary_list(vectorizer: Any) -> list[str]:
    """Feature names in column order (the order the ONNX graph uses)."""
    return [str(t) for t in vectorizer.get_feature_names_out()]


def consumer_input(model: onnx.ModelProto, op_type: str) -> str:
    """Name of the first input of the first node of `op_type` (the features it reads)."""
    for node in model.graph.node:
        if node.op_type == op_type:
            return str(node.input[0])
    raise LookupError(f"no {op_type} node in graph")


def save_model(model: onnx.ModelProto, file_name: str, doc: str, models_dir: Path = MODELS_DIR) -> Path:
    model.doc_string = doc
    # Stable bytes for the same inputs: skl2onnx stamps a random graph name and
    # lists opset imports in set order, which changes with string hash seeds.
    model.graph.name = Path(file_name).stem
    opsets = sorted(model.opset_import, key=lambda o: o.domain)
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    path = models_dir / file_name
    models_dir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path
