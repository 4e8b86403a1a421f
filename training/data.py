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


# Label derivation (see docs/models/toxicity.md). A category is 1 when the corpus
# says so, 0 when the corpus rules it out, and absent (unknown) otherwise. Any text
# a corpus calls non-toxic is 0 in every category.
NEG_ALL = {"toxicity": 0, "insult": 0, "threat": 0, "identity_attack": 0}
MLMA_IDENTITY_TARGETS = {"origin", "gender", "sexual_orientation", "religion", "disability"}


def davidson() -> list[Row]:
    out = []
    for r in _read_csv(DATA_DIR / "davidson-hate-offensive-en/labeled_data.csv"):
        cls = int(r["class"])
        # "Offensive but not hate" is the annotators' explicit verdict on hate.
        labels = dict(NEG_ALL) if cls == 2 else {"toxicity": 1, "identity_attack": int(cls == 0)}
        out.append(Row(r["tweet"], "davidson", "en", labels))
    return out


def olid_train() -> list[Row]:
    path = DATA_DIR / "olid-offenseval2019-en/olid-training-v1.0.tsv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    out = []
    for r in rows:
        if r["subtask_a"] == "NOT":
            labels = dict(NEG_ALL)
        else:
            # TIN = targeted insult *or threat*: an insult label, threat unknown.
            labels = {"toxicity": 1, "insult": int(r["subtask_b"] == "TIN")}
        out.append(Row(r["tweet"], "olid", "en", labels, meta={"target": r["subtask_c"]}))
    return out


def olid_test_full() -> list[Row]:
    """Official test set with level A (offensive) and level B (targeted) labels."""
    base = DATA_DIR / "olid-offenseval2019-en"
    with (base / "labels-levelb.csv").open(encoding="utf-8") as fh:
        level_b = dict(line.strip().split(",") for line in fh if line.strip())
    with (base / "testset-levela.tsv").open(encoding="utf-8", newline="") as fh:
        ids = [r["id"] for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]
    out = []
    for row, tweet_id in zip(olid_test(), ids, strict=True):
        if not row.labels["toxicity"]:
            labels = dict(NEG_ALL)
        else:
            labels = {"toxicity": 1, "insult": int(level_b.get(tweet_id) == "TIN")}
        out.append(Row(row.text, row.source, row.language, labels))
    return out


def mlma(language: str) -> list[Row]:
    name = "en_dataset.csv" if language == "en" else "fr_dataset_train70.csv"
    out = []
    for r in _read_csv(DATA_DIR / "mlma-hate-speech-fr-en" / name):
        hostility = set(r["sentiment"].split("_"))
        if hostility == {"normal"}:
            labels = dict(NEG_ALL)
        else:
            labels = {
                "toxicity": 1,
                "identity_attack": int(r["target"] in MLMA_IDENTITY_TARGETS or "hateful" in hostility),
            }
        out.append(
            Row(
                r["tweet"],
                f"mlma_{language}",
                language,
                labels,
                meta={"target": r["target"], "group": r["group"]},
            )
        )
    return out


def ftr() -> list[Row]:
    out = []
    for r in _read_csv(DATA_DIR / "ftr-racism-fr/FTR_train70.csv"):
        # Not racist says nothing about insults or profanity.
        racist = int(r["label"])
        labels = {"toxicity": 1, "identity_attack": 1} if racist else {"identity_attack": 0}
        out.append(Row(r["tweet"], "ftr", "fr", labels))
    return out


def toxifrench_full() -> list[Row]:
    return [
        Row(r.text, r.source, r.language, dict(NEG_ALL) if not r.labels["toxicity"] else r.labels)
        for r in toxifrench()
    ]


CYBER_INSULTS = {"name_calling", "denigration"}


def cyberagression() -> list[Row]:
    out = []
    for path in sorted((DATA_DIR / "cyberagressionado-v1-fr/scenarii").glob("*.csv")):
        # Scenario family: the same chat script across _bis/_third replays.
        family = path.stem.removesuffix("_bis").removesuffix("_third")
        for r in _read_csv(path):
            abuse = r["VERBAL_ABUSE"].strip()
            hate = r["HATE_SPEECH"].strip() == "yes"
            labels = {
                "toxicity": int(abuse != "none" or hate),
                "insult": int(abuse in CYBER_INSULTS),
                "threat": int(abuse == "threat"),
                "identity_attack": int(hate),
            }
            out.append(
                Row(r["TEXT"], "cyberagression", "fr", labels, group=family, meta={"role": r["ROLE"].strip()})
            )
    return out


def toxicity_sources() -> dict[str, list[Row]]:
    return {
        "davidson": davidson(),
        "olid": olid_train(),
        "mlma_en": mlma("en"),
        "mlma_fr": mlma("fr"),
        "ftr": ftr(),
        "toxifrench": toxifrench_full(),
        "cyberagression": cyberagression(),
    }


def youtube() -> list[Row]:
    out = []
    for path in sorted((DATA_DIR / "youtube-spam-collection-en").glob("Youtube*.csv")):
        for r in _read_csv(path):
            out.append(
                Row(r["CONTENT"], "youtube", "en", {"spam": int(r["CLASS"])}, meta={"video": path.stem})
            )
    return out


def sms() -> list[Row]:
    path = DATA_DIR / "sms-spam-collection-en/SMSSpamCollection"
    out = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            label, _, text = line.rstrip("\n").partition("\t")
            out.append(Row(text, "sms", "en", {"spam": int(label == "spam")}))
    return out


def umsab(language: str) -> dict[str, list[Row]]:
    base = DATA_DIR / "umsab-tweet-sentiment-fr-en" / ("french" if language == "fr" else "english")
    splits = {}
    for split in ("train", "val", "test"):
        texts = (base / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
        labels = (base / f"{split}_labels.txt").read_text(encoding="utf-8").split("\n")
        pairs = [(t, y) for t, y in zip(texts, labels, strict=False) if y.strip()]
        splits[split] = [Row(t, f"umsab_{language}", language, {"sentiment": int(y)}) for t, y in pairs]
    return splits
