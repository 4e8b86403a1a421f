"""Loaders for the labelled sets under shared/data (see each folder's PROVENANCE.md).

Every loader returns plain rows; none of them prints or logs a text.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from training.common import DATA_DIR


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    source: str
    language: str
    labels: dict[str, int]
    # Grouping key for splits (a chat scenario, a video); rows sharing it stay together.
    group: str = ""
    meta: dict[str, str] = field(default_factory=dict)


def _read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    # FTR holds a few truncated UTF-8 sequences (PROVENANCE): replace, don't fail.
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def olid_test() -> list[Row]:
    base = DATA_DIR / "olid-offenseval2019-en"
    with (base / "labels-levela.csv").open(encoding="utf-8") as fh:
        gold = dict(line.strip().split(",") for line in fh if line.strip())
    with (base / "testset-levela.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [Row(r["tweet"], "olid", "en", {"toxicity": int(gold[r["id"]] == "OFF")}) for r in rows]


def toxifrench() -> list[Row]:
    rows = _read_csv(DATA_DIR / "toxifrench-balanced-fr/ToxiFrenchBalanced.csv")
    return [Row(r["content"], "toxifrench", "fr", {"toxicity": int(r["label"])}) for r in rows]
