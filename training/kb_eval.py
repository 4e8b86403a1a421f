"""Evaluate knowledge-base retrieval and choose its abstention threshold.

    uv run python -m training.kb_eval --split validation
    uv run python -m training.kb_eval --split test [--json report.json]

Data (written for Vigie, see training/data/kb/README.md): the entries of a
fictional shop (training/data/kb/entries.json, the CONTRACT.md entry body plus
its `entry_id`) and labelled comments (training/data/kb_eval/<split>.jsonl: text,
language, the entry that answers it or null, and a kind: paraphrase,
crosslingual, typo, informal, offtopic).

A search is any `search(text) -> [(entry_id, score), ...]`, best first (the
responder's own search fits as it is). Only the first result counts. Figures:

- top-1: among lines an entry answers, the share whose first result is that
  entry, whatever its score (what ranking alone achieves); per kind and language.
  Cross-lingual top-1 is the same over `crosslingual` lines: the comment is in a
  language the entry has no question in.
- At a threshold t, the search answers when the first score >= t, else abstains:
  answer precision = right entry / answered; answer recall = right entry /
  answerable lines; abstention precision = off-topic / abstained; abstention
  recall = abstained / off-topic; decision accuracy = lines answered with the
  right entry or rightly abstained on / all lines.

Threshold criterion (applied to validation only; test is then read at that
threshold): maximise the mean of the answer F1 and the abstention F1 (the F1 of
"answer correctly" and of "abstain correctly") among thresholds where answer
precision >= 0.90 (a reviewer sees a wrong entry in at most one draft in ten)
and abstention precision >= 0.50 (at least half of what is held back is really
off-topic); if no threshold meets both floors, the best mean F1 overall, flagged
`floors_met: false`. Ties go to the lower threshold (more drafts).

Baselines shipped here so the harness runs on its own:
- encoder: max cosine between the comment and each question of an entry, in
  every language, all embedded with kind="query" by the shared encoder;
- encoder+: the same after language centring (`LanguageCentroids`: each row minus
  the mean row of comments in its language, the means exported with the intent
  model), averaged with the max cosine to the entry's answers;
- lexical: character n-gram (2-4, inside word boundaries) TF-IDF over folded text
  (lowercase, accents stripped), fitted on the entries' questions; max cosine;
- combined / combined+: w * encoder(+) + (1 - w) * lexical, w in 0, 0.1, ..., 1
  chosen on validation with the threshold, by the same criterion.

Measuring another search (e.g. the responder's), from Python:

    entries = load_entries()          # load them into the search under test first
    chosen = choose_threshold(collect(load_split("validation"), search))
    figures = at_threshold(collect(load_split("test"), search), chosen["threshold"])
    ranking = top1(collect(load_split("test"), search))

The search must return its best entries whatever their score (no threshold of its
own), or the abstention figures measure that threshold instead.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from training.common import REPO_ROOT
from training.embed_cache import EmbeddingCache

KB_PATH = REPO_ROOT / "training/data/kb/entries.json"
EVAL_DIR = REPO_ROOT / "training/data/kb_eval"
KINDS = ("paraphrase", "crosslingual", "typo", "informal", "offtopic")
LANGUAGES = ("en", "fr")
MIN_ANSWER_PRECISION = 0.90
MIN_ABSTAIN_PRECISION = 0.50
WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))

Search = Callable[[str], Sequence[tuple[str, float]]]


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    questions: Mapping[str, Sequence[str]]
    answers: Mapping[str, str]
    tags: Sequence[str]


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    language: str
    entry_id: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class Outcome:
    line: Line
    top_id: str | None
    top_score: float  # -inf when the search returned nothing


def load_entries(path: Path = KB_PATH) -> list[Entry]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    entries = [Entry(e["entry_id"], e["questions"], e["answers"], tuple(e.get("tags", ()))) for e in raw]
    ids = [e.entry_id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate entry_id in the knowledge base")
    return entries


def load_split(name: str, directory: Path = EVAL_DIR) -> list[Line]:
    lines = []
    with (directory / f"{name}.jsonl").open(encoding="utf-8") as fh:
        for number, text in enumerate(fh, 1):
            raw = json.loads(text)
            if raw["kind"] not in KINDS or raw["language"] not in LANGUAGES:
                raise ValueError(f"{name}.jsonl line {number}: unknown kind or language")
            if (raw["entry_id"] is None) != (raw["kind"] == "offtopic"):
                raise ValueError(f"{name}.jsonl line {number}: off-topic lines, and only they, have no entry")
            lines.append(Line(raw["text"], raw["language"], raw["entry_id"], raw["kind"]))
    return lines


def collect(lines: Iterable[Line], search: Search) -> list[Outcome]:
    outcomes = []
    for line in lines:
        results = search(line.text)
        if results:
            top_id, top_score = results[0]
            outcomes.append(Outcome(line, top_id, float(top_score)))
        else:
            outcomes.append(Outcome(line, None, -math.inf))
    return outcomes


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _f1(p: float | None, r: float | None) -> float:
    if not p or not r:
        return 0.0
    return 2 * p * r / (p + r)


def top1(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Ranking quality on answerable lines, whatever the scores."""

    def share(selected: list[Outcome]) -> dict[str, Any]:
        right = sum(o.top_id == o.line.entry_id for o in selected)
        return {"n": len(selected), "top1": _ratio(right, len(selected))}

    answerable = [o for o in outcomes if o.line.entry_id is not None]
    out: dict[str, Any] = {"all": share(answerable)}
    for kind in KINDS[:-1]:
        out[kind] = share([o for o in answerable if o.line.kind == kind])
    for language in LANGUAGES:
        out[language] = share([o for o in answerable if o.line.language == language])
    return out


def at_threshold(outcomes: Sequence[Outcome], threshold: float) -> dict[str, Any]:
    answered = [o for o in outcomes if o.top_score >= threshold]
    abstained = [o for o in outcomes if o.top_score < threshold]
    answerable = sum(o.line.entry_id is not None for o in outcomes)
    offtopic = len(outcomes) - answerable
    right = sum(o.top_id == o.line.entry_id for o in answered if o.line.entry_id is not None)
    rightly_abstained = sum(o.line.entry_id is None for o in abstained)
    answer_p, answer_r = _ratio(right, len(answered)), _ratio(right, answerable)
    abstain_p, abstain_r = _ratio(rightly_abstained, len(abstained)), _ratio(rightly_abstained, offtopic)
    answer_f1, abstain_f1 = _f1(answer_p, answer_r), _f1(abstain_p, abstain_r)
    return {
        "threshold": threshold,
        "n": len(outcomes),
        "decision_accuracy": _ratio(right + rightly_abstained, len(outcomes)),
        "answer_precision": answer_p,
        "answer_recall": answer_r,
        "answer_f1": round(answer_f1, 4),
        "abstain_precision": abstain_p,
        "abstain_recall": abstain_r,
        "abstain_f1": round(abstain_f1, 4),
        "criterion": round((answer_f1 + abstain_f1) / 2, 4),
        "offtopic_answered": len(outcomes)
        - len(abstained)
        - sum(o.line.entry_id is not None for o in answered),
        "wrong_entry_answered": sum(
            o.line.entry_id is not None and o.top_id != o.line.entry_id for o in answered
        ),
        "crosslingual_answered_right": _ratio(
            sum(o.top_id == o.line.entry_id for o in answered if o.line.kind == "crosslingual"),
            sum(o.line.kind == "crosslingual" for o in outcomes),
        ),
    }


def candidate_thresholds(outcomes: Sequence[Outcome]) -> list[float]:
    """Midpoints between consecutive distinct top scores, plus both extremes."""
    scores = sorted({o.top_score for o in outcomes if math.isfinite(o.top_score)})
    mids = [(a + b) / 2 for a, b in itertools.pairwise(scores)]
    return [-math.inf, *([scores[0] - 1e-6] if scores else []), *mids, math.inf]


def meets_floors(m: Mapping[str, Any], min_answer_p: float, min_abstain_p: float) -> bool:
    return (m["answer_precision"] or 0.0) >= min_answer_p and (m["abstain_precision"] or 0.0) >= min_abstain_p


def choose_threshold(
    outcomes: Sequence[Outcome],
    min_answer_precision: float = MIN_ANSWER_PRECISION,
    min_abstain_precision: float = MIN_ABSTAIN_PRECISION,
) -> dict[str, Any]:
    """The threshold the module docstring's criterion picks, with its figures."""
    best: dict[str, Any] | None = None
    best_any: dict[str, Any] | None = None
    for t in candidate_thresholds(outcomes):
        m = at_threshold(outcomes, t)
        # Strictly greater: the scan is ascending, so ties keep the lower threshold.
        if best_any is None or m["criterion"] > best_any["criterion"]:
            best_any = m
        if meets_floors(m, min_answer_precision, min_abstain_precision) and (
            best is None or m["criterion"] > best["criterion"]
        ):
            best = m
    assert best_any is not None
    chosen = best if best is not None else best_any
    return {**chosen, "floors_met": best is not None}


# --- baselines -------------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lowercase, accents stripped, anything but letters and digits turned to one space."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def _questions(entries: Sequence[Entry]) -> tuple[list[str], np.ndarray]:
    owners, texts = [], []
    for index, entry in enumerate(entries):
        for language in sorted(entry.questions):
            for question in entry.questions[language]:
                owners.append(index)
                texts.append(question)
    return texts, np.array(owners)


def _max_per_entry(similarities: np.ndarray, owners: np.ndarray, n_entries: int) -> np.ndarray:
    best = np.full(n_entries, -np.inf, dtype=np.float64)
    np.maximum.at(best, owners, similarities)
    return best


class ScoringSearch:
    """A search from a function giving every entry a score; results best first."""

    def __init__(self, entries: Sequence[Entry], score_all: Callable[[str], np.ndarray]) -> None:
        self.ids = [e.entry_id for e in entries]
        self.score_all = score_all

    def __call__(self, text: str) -> list[tuple[str, float]]:
        scores = self.score_all(text)
        order = np.argsort(-scores, kind="stable")
        return [(self.ids[i], float(scores[i])) for i in order]


@dataclass(frozen=True, slots=True)
class LanguageCentroids:
    """Mean encoder row ("query") of French and of English comments.

    Subtracting its language's mean from a row (then re-normalising) removes much
    of what every text of that language shares, so a French comment stops
    preferring any French question over the English question it paraphrases.
    The language is read from the row itself: the side of the mid-point between
    the two means it falls on (about 99% right on these comments), so a search
    still needs nothing but the text.
    """

    en: np.ndarray
    fr: np.ndarray

    def centre(self, rows: np.ndarray) -> np.ndarray:
        direction = self.fr - self.en
        midpoint = float((self.fr + self.en) @ direction) / 2
        is_fr = (rows @ direction > midpoint)[:, None]
        centred = rows - np.where(is_fr, self.fr, self.en)
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        return np.asarray(centred / np.maximum(norms, 1e-12), dtype=np.float32)

    def to_json(self) -> dict[str, list[float]]:
        return {"en": [float(v) for v in self.en], "fr": [float(v) for v in self.fr]}

    @classmethod
    def from_json(cls, raw: Mapping[str, Sequence[float]]) -> LanguageCentroids:
        return cls(np.array(raw["en"], dtype=np.float32), np.array(raw["fr"], dtype=np.float32))

    @classmethod
    def fit(cls, rows: np.ndarray, languages: Sequence[str]) -> LanguageCentroids:
        mask = np.array([language == "fr" for language in languages])
        return cls(rows[~mask].mean(axis=0), rows[mask].mean(axis=0))


class EncoderScores:
    """Max cosine between the comment and an entry's questions (all languages, kind="query").

    With `centroids`, every row is language-centred first; with `answers`, the
    score is the mean of that and the max cosine with the entry's answers (also
    embedded as "query": measured better than "passage" here).
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        embed: Callable[[Sequence[str]], np.ndarray],
        centroids: LanguageCentroids | None = None,
        answers: bool = False,
    ) -> None:
        texts, self.owners = _questions(entries)
        self.n = len(entries)
        self.embed = embed
        self.centroids = centroids
        self.matrix = self._rows(texts)
        self.answer_matrix: np.ndarray | None = None
        if answers:
            answer_texts = [e.answers[lang] for e in entries for lang in sorted(e.answers)]
            self.answer_owners = np.array([i for i, e in enumerate(entries) for _ in e.answers])
            self.answer_matrix = self._rows(answer_texts)

    def _rows(self, texts: Sequence[str]) -> np.ndarray:
        rows = self.embed(texts)
        return rows if self.centroids is None else self.centroids.centre(rows)

    def __call__(self, text: str) -> np.ndarray:
        query = self._rows([text])[0]
        scores = _max_per_entry(self.matrix @ query, self.owners, self.n)
        if self.answer_matrix is not None:
            scores = (scores + _max_per_entry(self.answer_matrix @ query, self.answer_owners, self.n)) / 2
        return scores


class LexicalScores:
    """Max cosine of character 2-4-gram TF-IDF vectors between the comment and an entry's questions."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        texts, self.owners = _questions(entries)
        self.n = len(entries)
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, preprocessor=fold
        )
        self.matrix = self.vectorizer.fit_transform(texts)

    def __call__(self, text: str) -> np.ndarray:
        query = self.vectorizer.transform([text])
        similarities = np.asarray((self.matrix @ query.T).todense()).ravel()
        return _max_per_entry(similarities, self.owners, self.n)


def combined(
    encoder: Callable[[str], np.ndarray], lexical: Callable[[str], np.ndarray], weight: float
) -> Callable[[str], np.ndarray]:
    def score(text: str) -> np.ndarray:
        return weight * encoder(text) + (1 - weight) * lexical(text)

    return score


# --- command line ----------------------------------------------------------------------------------------


def _memoised(score: Callable[[str], np.ndarray]) -> Callable[[str], np.ndarray]:
    """Each comment is scored once even though the weight grid searches it eleven times."""
    seen: dict[str, np.ndarray] = {}

    def wrapper(text: str) -> np.ndarray:
        if text not in seen:
            seen[text] = score(text)
        return seen[text]

    return wrapper


def intent_centroids(cache: EmbeddingCache) -> LanguageCentroids:
    """The centroids exported beside the intent model: means over its training comments."""
    from training.intent import load_split as load_intent

    rows = load_intent("train")
    return LanguageCentroids.fit(cache.embed([r.text for r in rows]), [r.language for r in rows])


def evaluate_baselines(
    split: str,
    min_answer_precision: float = MIN_ANSWER_PRECISION,
    min_abstain_precision: float = MIN_ABSTAIN_PRECISION,
) -> dict[str, Any]:

    entries = load_entries()
    validation = load_split("validation")
    lines = load_split(split)
    cache = EmbeddingCache()
    # One batch for everything: later single-text calls are cache hits.
    cache.embed([line.text for line in validation + lines])
    centroids = intent_centroids(cache)
    encoder = _memoised(EncoderScores(entries, cache.embed))
    encoder_plus = _memoised(EncoderScores(entries, cache.embed, centroids, answers=True))
    lexical = _memoised(LexicalScores(entries))

    report: dict[str, Any] = {
        "split": split,
        "entries": len(entries),
        "lines": len(lines),
        "criterion": {
            "maximise": "mean of answer F1 and abstention F1, on validation",
            "min_answer_precision": min_answer_precision,
            "min_abstain_precision": min_abstain_precision,
        },
        "searches": {},
    }
    candidates: dict[str, list[tuple[float, Callable[[str], np.ndarray]]]] = {
        "encoder": [(1.0, encoder)],
        "encoder+": [(1.0, encoder_plus)],
        "lexical": [(0.0, lexical)],
        "combined": [(w, combined(encoder, lexical, w)) for w in WEIGHTS],
        "combined+": [(w, combined(encoder_plus, lexical, w)) for w in WEIGHTS],
    }
    for name, options in candidates.items():
        chosen: tuple[dict[str, Any], float, Callable[[str], np.ndarray]] | None = None
        by_weight = {}
        for weight, score in options:
            choice = choose_threshold(
                collect(validation, ScoringSearch(entries, score)),
                min_answer_precision,
                min_abstain_precision,
            )
            by_weight[str(weight)] = choice["criterion"]
            rank = (choice["floors_met"], choice["criterion"])
            if chosen is None or rank > (chosen[0]["floors_met"], chosen[0]["criterion"]):
                chosen = (choice, weight, score)
        assert chosen is not None
        choice, weight, score = chosen
        outcomes = collect(lines, ScoringSearch(entries, score))
        entry: dict[str, Any] = {
            "encoder_weight": weight,
            "threshold": choice["threshold"],
            "floors_met_on_validation": choice["floors_met"],
            "top1": top1(outcomes),
            "at_threshold": at_threshold(outcomes, choice["threshold"]),
        }
        if name.startswith("combined"):
            entry["validation_criterion_by_weight"] = by_weight
        report["searches"][name] = entry
    return report


def _format(report: Mapping[str, Any]) -> str:
    out = [
        f"split={report['split']} lines={report['lines']} entries={report['entries']} "
        f"(weights and thresholds chosen on validation)"
    ]
    header = (
        f"{'search':10} {'w':>4} {'thr':>7} {'top1':>6} {'xling':>6} {'para':>6} {'typo':>6} {'infml':>6}"
        f" {'fr':>6} {'en':>6} | {'ans_P':>6} {'ans_R':>6} {'abs_P':>6} {'abs_R':>6} {'dec_acc':>7}"
        f" {'off_ans':>7} {'wrong':>5}"
    )
    out.append(header)
    for name, s in report["searches"].items():
        t, m = s["top1"], s["at_threshold"]
        out.append(
            f"{name:10} {s['encoder_weight']:>4} {s['threshold']:>7.4f} {t['all']['top1']:>6} "
            f"{t['crosslingual']['top1']:>6} {t['paraphrase']['top1']:>6} {t['typo']['top1']:>6} "
            f"{t['informal']['top1']:>6} {t['fr']['top1']:>6} {t['en']['top1']:>6} | "
            f"{m['answer_precision']!s:>6} {m['answer_recall']!s:>6} {m['abstain_precision']!s:>6} "
            f"{m['abstain_recall']!s:>6} {m['decision_accuracy']!s:>7} {m['offtopic_answered']:>7} "
            f"{m['wrong_entry_answered']:>5}"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--json", type=Path, help="also write the full report here")
    parser.add_argument("--min-answer-precision", type=float, default=MIN_ANSWER_PRECISION)
    parser.add_argument("--min-abstain-precision", type=float, default=MIN_ABSTAIN_PRECISION)
    args = parser.parse_args(argv)
    report = evaluate_baselines(args.split, args.min_answer_precision, args.min_abstain_precision)
    sys.stdout.write(_format(report) + "\n")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
