"""A community's knowledge base and the search that finds the entry a comment asks about. Pure.

Each entry's questions and answers, in whichever languages it has them, are embedded by the
multilingual encoder. Every row is first centred on its language (minus the mean embedding of
comments in that language, then re-normalised): without it a French comment prefers any French
question to the English question it paraphrases (cross-lingual top-1 0.21 against 0.56 with it, on
the test split of training/data/kb_eval). An entry scores the mean of its best question and its best
answer. A lexical score over character trigrams can be blended in; its weight and the abstention
threshold are chosen on validation data (docs/models/knowledge-base.md), and below the threshold the
search answers nothing rather than a wrong entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import sqrt

import numpy as np

LANGUAGES = ("fr", "en")


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    questions: Mapping[str, Sequence[str]]
    answers: Mapping[str, str]
    tags: Sequence[str] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def fits(self, now: datetime) -> bool:
        """Valid at `now`: a seasonal answer is not offered before or after its dates."""
        if self.valid_from is not None and now < self.valid_from:
            return False
        return not (self.valid_until is not None and now >= self.valid_until)

    def question_list(self) -> list[tuple[str, str]]:
        """(language, question) in a fixed order: the first stored embedding rows."""
        return [(language, q) for language in LANGUAGES for q in self.questions.get(language, ())]

    def answer_list(self) -> list[tuple[str, str]]:
        """(language, answer), stored after the questions."""
        return [(language, self.answers[language]) for language in LANGUAGES if language in self.answers]

    def texts_to_embed(self) -> list[str]:
        return [text for _, text in self.question_list() + self.answer_list()]


@dataclass(frozen=True, slots=True)
class LanguageCentroids:
    """Mean embedding of French and of English comments (shipped with the intent model).

    A row's language is the side of the mid-point between the two means it falls on, so centring
    needs nothing but the embedding.
    """

    en: np.ndarray
    fr: np.ndarray

    def centre(self, rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float32))
        direction = self.fr - self.en
        midpoint = float((self.fr + self.en) @ direction) / 2
        is_french = (rows @ direction > midpoint)[:, None]
        centred = rows - np.where(is_french, self.fr, self.en)
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        return np.asarray(centred / np.maximum(norms, 1e-12), dtype=np.float32)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Sequence[float]]) -> LanguageCentroids:
        return cls(np.array(raw["en"], dtype=np.float32), np.array(raw["fr"], dtype=np.float32))


@dataclass(frozen=True, slots=True)
class Hit:
    entry_id: str
    score: float
    matched_question: str
    semantic: float
    lexical: float


@dataclass(frozen=True, slots=True)
class RetrievalParams:
    """Chosen on the validation split of training/data/kb_eval (training/kb_eval.py), never guessed."""

    threshold: float
    lexical_weight: float


def fold(text: str) -> str:
    """Lower case, no accents, letters and digits only: 'Livrez-vous à Québec ?' -> 'livrez vous a quebec'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[a-z0-9]+", stripped))


def trigrams(text: str) -> Counter[str]:
    padded = f" {fold(text)} "
    return Counter(padded[i : i + 3] for i in range(len(padded) - 2))


def lexical_similarity(a: Counter[str], b: Counter[str]) -> float:
    """Cosine of character-trigram counts: robust to typos, blind to meaning (that is the encoder's job)."""
    if not a or not b:
        return 0.0
    dot = sum(count * b[gram] for gram, count in a.items() if gram in b)
    return dot / (sqrt(sum(c * c for c in a.values())) * sqrt(sum(c * c for c in b.values())))


@dataclass
class KnowledgeIndex:
    """Every question and answer of every entry of one community, as rows of two matrices."""

    entries: dict[str, Entry]
    questions: np.ndarray  # (questions, dim), centred unit rows
    owners: list[str]  # entry id of each question row
    texts: list[str]  # each question
    answers: np.ndarray  # (answers, dim)
    answer_owners: list[str]
    centroids: LanguageCentroids | None
    _grams: list[Counter[str]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        items: Sequence[tuple[Entry, np.ndarray]],
        dimension: int,
        centroids: LanguageCentroids | None = None,
    ) -> KnowledgeIndex:
        """`items`: each entry with the raw embeddings of `entry.texts_to_embed()`, in that order."""
        entries: dict[str, Entry] = {}
        question_rows, answer_rows = [], []
        owners: list[str] = []
        texts: list[str] = []
        answer_owners: list[str] = []
        for entry, vectors in items:
            questions, answers = entry.question_list(), entry.answer_list()
            matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dimension)
            if len(matrix) != len(questions) + len(answers):
                raise ValueError(
                    f"entry {entry.entry_id}: {len(questions) + len(answers)} texts, {len(matrix)} vectors"
                )
            entries[entry.entry_id] = entry
            question_rows.append(matrix[: len(questions)])
            answer_rows.append(matrix[len(questions) :])
            owners += [entry.entry_id] * len(questions)
            texts += [q for _, q in questions]
            answer_owners += [entry.entry_id] * len(answers)

        def stack(blocks: list[np.ndarray]) -> np.ndarray:
            matrix = np.vstack(blocks) if blocks else np.zeros((0, dimension), dtype=np.float32)
            return matrix if centroids is None or not len(matrix) else centroids.centre(matrix)

        return cls(
            entries,
            stack(question_rows),
            owners,
            texts,
            stack(answer_rows),
            answer_owners,
            centroids,
            [trigrams(t) for t in texts],
        )

    def search(
        self,
        query: np.ndarray,
        text: str,
        *,
        now: datetime,
        params: RetrievalParams,
        limit: int = 5,
    ) -> list[Hit]:
        """Fitting entries by blended score, best first, only those at or above the threshold."""
        return [
            hit for hit in self.rank(query, text, now=now, params=params) if hit.score >= params.threshold
        ][:limit]

    def rank(self, query: np.ndarray, text: str, *, now: datetime, params: RetrievalParams) -> list[Hit]:
        """Every fitting entry, best first, whatever its score (what evaluation needs)."""
        if not self.owners:
            return []
        vector = np.asarray(query, dtype=np.float32)
        if self.centroids is not None:
            vector = self.centroids.centre(vector)[0]
        question_scores = self.questions @ vector
        best_question: dict[str, tuple[float, int]] = {}
        for row, entry_id in enumerate(self.owners):
            score = float(question_scores[row])
            if entry_id not in best_question or score > best_question[entry_id][0]:
                best_question[entry_id] = (score, row)
        best_answer: dict[str, float] = {}
        if len(self.answer_owners):
            answer_scores = self.answers @ vector
            for row, entry_id in enumerate(self.answer_owners):
                best_answer[entry_id] = max(best_answer.get(entry_id, -1.0), float(answer_scores[row]))
        grams = trigrams(text) if params.lexical_weight else None
        hits = []
        for entry_id, (question_score, row) in best_question.items():
            if not self.entries[entry_id].fits(now):
                continue
            semantic = (
                (question_score + best_answer[entry_id]) / 2 if entry_id in best_answer else question_score
            )
            lexical = lexical_similarity(grams, self._grams[row]) if grams is not None else 0.0
            score = (1 - params.lexical_weight) * semantic + params.lexical_weight * lexical
            hits.append(Hit(entry_id, score, self.texts[row], semantic, lexical))
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits
