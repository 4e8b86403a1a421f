"""Choose the responder's retrieval parameters on validation data and measure them once on test.

    uv run python -m training.kb_retrieval          (part of `make models`)

Runs the responder's own search (`vigie_responder.domain.knowledge.KnowledgeIndex`, language-centred
encoder rows, questions and answers) over the Atelier Lumière knowledge base and the labelled
comments of training/data/kb_eval, through the harness in training/kb_eval.py: for each lexical
weight in the grid, the threshold its criterion picks on validation. The issue asks for the lexical
signal only "if it measurably helps": a weight replaces a smaller one only when its validation
criterion is higher by at least MARGIN (differences under it are within the noise of a 250-line
split). Test is read once, at the chosen values. Writes services/responder/src/vigie_responder/models/retrieval.json and prints the
figures that docs/models/knowledge-base.md reports.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from vigie_encoder import DIMENSION
from vigie_responder.adapters.intent import MODELS_DIR, load_centroids
from vigie_responder.domain.knowledge import Entry, KnowledgeIndex, RetrievalParams

from training import kb_eval
from training.common import log, setup_logging
from training.embed_cache import EmbeddingCache

WEIGHTS = (0.0, 0.1, 0.2, 0.3)
MARGIN = 0.01
OUTPUT = MODELS_DIR / "retrieval.json"
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def build_index(cache: EmbeddingCache) -> KnowledgeIndex:
    items = []
    for raw in kb_eval.load_entries():
        entry = Entry(entry_id=raw.entry_id, questions=raw.questions, answers=raw.answers, tags=raw.tags)
        items.append((entry, cache.embed(entry.texts_to_embed())))
    return KnowledgeIndex.build(items, DIMENSION, load_centroids())


def searcher(index: KnowledgeIndex, cache: EmbeddingCache, weight: float) -> kb_eval.Search:
    params = RetrievalParams(threshold=-math.inf, lexical_weight=weight)

    def search(text: str) -> list[tuple[str, float]]:
        [vector] = cache.embed([text])
        return [
            (hit.entry_id, hit.score) for hit in index.rank(np.asarray(vector), text, now=NOW, params=params)
        ]

    return search


def main() -> dict[str, Any]:
    setup_logging()
    started = time.monotonic()
    cache = EmbeddingCache()
    index = build_index(cache)
    validation, test = kb_eval.load_split("validation"), kb_eval.load_split("test")
    best: tuple[float, dict[str, Any]] | None = None
    grid = {}
    for weight in WEIGHTS:
        chosen = kb_eval.choose_threshold(kb_eval.collect(validation, searcher(index, cache, weight)))
        grid[str(weight)] = {"threshold": chosen["threshold"], "criterion": chosen["criterion"]}
        log.info(
            "lexical weight %.1f: validation criterion %.4f at %.4f",
            weight,
            chosen["criterion"],
            chosen["threshold"],
        )
        if best is None or chosen["criterion"] >= best[1]["criterion"] + MARGIN:
            best = (weight, chosen)
    assert best is not None
    weight, chosen = best
    search = searcher(index, cache, weight)
    test_outcomes = kb_eval.collect(test, search)
    result = {
        "threshold": round(float(chosen["threshold"]), 4),
        "lexical_weight": weight,
        "criterion": "training/kb_eval.py: best mean of answer F1 and abstention F1 on validation",
        "floors_met_on_validation": chosen["floors_met"],
        "validation": {k: v for k, v in chosen.items() if k != "floors_met"},
        "validation_grid": grid,
        "test": {
            "at_threshold": kb_eval.at_threshold(test_outcomes, chosen["threshold"]),
            "top1": kb_eval.top1(test_outcomes),
        },
        "data": "training/data/kb (43 entries) and training/data/kb_eval (written for Vigie, CC0)",
        "command": "uv run python -m training.kb_retrieval",
    }
    OUTPUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    log.info("retrieval parameters written to %s in %.0fs", Path(OUTPUT).name, time.monotonic() - started)
    log.info("chosen: threshold %.4f, lexical weight %.1f", result["threshold"], weight)
    log.info("test: %s", json.dumps(result["test"]))
    return result


if __name__ == "__main__":
    main()
