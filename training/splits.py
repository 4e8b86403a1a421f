"""Deterministic train/validation/test splits, recorded so they can be audited."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from vigie_moderator.domain.scores import normalise_text

from training.common import SEED
from training.data import Row

SPLITS_FILE = Path(__file__).resolve().parent / "splits.json"
FRACTIONS = (0.70, 0.15, 0.15)


def group_key(row: Row) -> str:
    # Exact duplicates (spam templates, retweets) must not straddle a split.
    return (
        row.group
        or hashlib.sha1(
            " ".join(normalise_text(row.text).split()).encode(), usedforsecurity=False
        ).hexdigest()
    )


def split_indices(
    rows: Sequence[Row],
    stratify: Callable[[Row], int],
    fractions: tuple[float, float, float] = FRACTIONS,
    seed: int = SEED,
) -> dict[str, list[int]]:
    """Grouped, stratified split: whole groups go to one side, each stratum apart."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[group_key(row)].append(i)
    strata: dict[int, list[str]] = defaultdict(list)
    for key, members in groups.items():
        strata[max(stratify(rows[i]) for i in members)].append(key)
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for stratum in sorted(strata):
        keys = sorted(strata[stratum])
        rng.shuffle(keys)
        total = sum(len(groups[k]) for k in keys)
        filled = 0
        for key in keys:
            # Fill test, then val, then train, by rows rather than by groups.
            if filled < fractions[2] * total:
                side = "test"
            elif filled < (fractions[2] + fractions[1]) * total:
                side = "val"
            else:
                side = "train"
            out[side].extend(groups[key])
            filled += len(groups[key])
    return {k: sorted(v) for k, v in out.items()}


def fingerprint(rows: Sequence[Row], indices: Sequence[int]) -> str:
    digest = hashlib.sha256()
    for i in indices:
        digest.update(hashlib.sha256(rows[i].text.encode()).digest())
    return digest.hexdigest()[:16]


def record(splits: dict[str, dict[str, list[int]]], rows: dict[str, Sequence[Row]]) -> None:
    """Write val/test row indices (train is the rest) and a fingerprint of each side.

    Indices refer to row order in the loaders of training/data.py; no text is stored.
    """
    existing = json.loads(SPLITS_FILE.read_text()) if SPLITS_FILE.exists() else {}
    for source, parts in splits.items():
        existing[source] = {
            "seed": SEED,
            "rows": len(rows[source]),
            "sizes": {k: len(v) for k, v in parts.items()},
            "fingerprints": {k: fingerprint(rows[source], v) for k, v in parts.items()},
            "val": parts["val"],
            "test": parts["test"],
        }
    SPLITS_FILE.write_text(json.dumps(dict(sorted(existing.items())), separators=(",", ":")))
