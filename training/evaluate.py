"""Metrics helpers (no texts ever leave these functions)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score


def choose_threshold(y: np.ndarray, p: np.ndarray, max_fpr: float = 0.10) -> float:
    """F1-best threshold on validation, raised if needed so that at most `max_fpr` of
    the negatives are flagged.

    F1 alone follows each corpus's prevalence, and most of ours are mostly toxic
    (keyword-collected), so it picks thresholds that would flag many ordinary
    comments; a false-positive cap does not depend on prevalence.
    """
    if len(set(y.tolist())) < 2:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best_f1 = float(thresholds[int(np.argmax(f1))])
    negatives = np.sort(p[y == 0])
    # Smallest threshold leaving at most max_fpr of the negatives at or above it.
    cap_index = int(np.ceil(len(negatives) * (1 - max_fpr)))
    cap = float(negatives[cap_index]) + 1e-6 if cap_index < len(negatives) else best_f1
    return round(max(best_f1, cap), 4)


def binary_report(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    y = np.asarray(y).astype(int)
    pred = p >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    positives = int(y.sum())
    report: dict[str, Any] = {"n": len(y), "positives": positives}
    if 0 < positives < len(y):
        report["roc_auc"] = round(float(roc_auc_score(y, p)), 4)
        report["pr_auc"] = round(float(average_precision_score(y, p)), 4)
    precision = tp / max(tp + fp, 1)
    recall = tp / max(positives, 1)
    report.update(
        {
            "threshold": threshold,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(2 * precision * recall / max(precision + recall, 1e-12), 4),
            "false_positive_rate": round(fp / max(len(y) - positives, 1), 4),
        }
    )
    return report
