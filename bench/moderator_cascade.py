"""A cheap first pass in front of the encoder: how much it would clear, and what it would cost (issue 12).

    uv run python bench/moderator_cascade.py

First pass: the n-gram models (`OnnxScorer`: profanity, toxicity, spam, sentiment; still in
models/). A comment is cleared (allowed without the encoder) when each category's n-gram
score is below `ratio` x that model's own suggested threshold; the rest go to the encoder.
Measured on the team's functional cases (tests/moderator/models/functional_cases.toml),
which neither model was trained or tuned on, so they stand for out-of-distribution text:
- the share the first pass clears (what the encoder no longer sees);
- the pass rate of the cascade against the encoder alone (a cleared case passes only if
  it expects no category high) and per-category ROC-AUC on the cases' high/low labels
  (a cleared case scores 0);
- the rate the cascade would reach: 1 / (1/ngram + share_sent/encoder), both rates timed
  here in one run on the same texts.
Only figures are printed, never a case text.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from vigie_moderator.adapters.encoder_scorer import EncoderScorer
from vigie_moderator.adapters.onnx_scorer import OnnxScorer
from vigie_moderator.domain.scores import CATEGORIES, TextScores

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from training.functional import load_cases, threshold

RATIOS = (0.1, 0.25, 0.5, 0.75, 1.0)


def timed(score: Callable[[Sequence[str]], list[TextScores]], texts: list[str]) -> float:
    score(texts[:32])
    started = time.perf_counter()
    for i in range(0, len(texts), 32):
        score(texts[i : i + 32])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    cases = load_cases()
    texts = [c["text"] for c in cases]
    ngram = OnnxScorer.load()
    encoder = EncoderScorer.load(cache_size=0)
    load = os.getloadavg()[0]
    ngram_rate = timed(ngram.score, texts)
    encoder_rate = timed(encoder.score_only, texts)
    ngram_rate = (ngram_rate + timed(ngram.score, texts)) / 2
    ng = ngram.score(texts)
    full = encoder.score_only(texts)

    def passes(case: dict[str, object], scores: TextScores | None) -> bool:
        lang = str(case["lang"])
        high = list(case.get("high", []))  # type: ignore[call-overload]
        low = list(case.get("low", []))  # type: ignore[call-overload]
        if scores is None:  # cleared: nothing flagged
            return not high
        t = encoder.suggested_thresholds
        return all(scores.scores[c] >= threshold(t, c, lang) for c in high) and all(
            scores.scores[c] < threshold(t, c, lang) for c in low
        )

    def aucs(scored: list[TextScores | None]) -> dict[str, float]:
        out = {}
        for c in CATEGORIES:
            labelled = [
                (1 if c in case.get("high", []) else 0, s.scores[c] if s else 0.0)
                for case, s in zip(cases, scored, strict=True)
                if c in case.get("high", []) or c in case.get("low", [])
            ]
            y = np.array([label for label, _ in labelled])
            if 0 < y.sum() < len(y):
                out[c] = float(roc_auc_score(y, [p for _, p in labelled]))
        return out

    full_pass = np.mean([passes(c, s) for c, s in zip(cases, full, strict=True)])
    full_auc = aucs(list(full))
    print(
        f"{len(cases)} functional cases; load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    )
    print(
        f"n-gram first pass {ngram_rate:,.0f} texts/s, encoder (score_only) {encoder_rate:,.0f} texts/s, batch 32\n"
    )
    print(
        f"| clear below | cleared | pass rate (encoder alone {full_pass:.3f}) | worst AUC change (category) | cascade texts/s |"
    )
    print("|---|---:|---:|---:|---:|")
    for ratio in RATIOS:
        cleared = [
            all(
                n.scores[c]
                < ratio
                * threshold(
                    ngram.suggested_thresholds, c, n.language if n.language != "und" else str(case["lang"])
                )
                for c in CATEGORIES
            )
            for n, case in zip(ng, cases, strict=True)
        ]
        cascade = [None if k else s for k, s in zip(cleared, full, strict=True)]
        rate = np.mean([passes(c, s) for c, s in zip(cases, cascade, strict=True)])
        auc = aucs(cascade)
        worst = min(auc, key=lambda c: auc[c] - full_auc[c])
        share = float(np.mean(cleared))
        speed = 1 / (1 / ngram_rate + (1 - share) / encoder_rate)
        print(
            f"| {ratio:g} x n-gram threshold | {share:.0%} | {rate:.3f} | "
            f"{auc[worst] - full_auc[worst]:+.3f} ({worst}) | {speed:,.0f} |"
        )


if __name__ == "__main__":
    main()
