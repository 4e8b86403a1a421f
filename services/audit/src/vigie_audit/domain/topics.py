"""The topics people raise: comments grouped by meaning, each group named by its words. Pure.

Input, per language: the sentence embedding of each comment (the moderator's multilingual
encoder, published with the decision) and the comment's content words (`topic_words`, taken from
the text when the decision arrives; the text itself is not kept).

1. The vectors are centred on their mean and put back on the unit sphere: sentence encoders
   place every text in a narrow cone (unrelated pairs still score 0.8 in cosine), and the shared
   direction would otherwise dominate every distance.
2. Spherical k-means (k-means++ seeding, cosine, best of two runs), for k from 2 up to `max_clusters`, on a seeded
   sample of at most `max_sample` comments; k is the one with the best silhouette. Below
   `min_silhouette` no split is convincing and the language is one topic. Every comment of the
   period is then assigned to its nearest centroid.
3. Each cluster is named by class-based TF-IDF over its comments' words (a word's share of the
   cluster's words, times log(1 + average words per cluster / the word's count in all
   clusters)): the words frequent in this cluster and not everywhere.

k-anonymity: a cluster of fewer than `min_cluster_size` comments is never shown (its comments are
counted as withheld), and a word carried by fewer than `min_word_comments` of a cluster's comments
never names it, so a name or a rare word typed by one or two people cannot surface.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from vigie_shared.redact import find as find_contact_details
from vigie_shared.words import FUNCTION_WORDS, content_words

MAX_TOPIC_WORDS = 24
"""Words kept per comment: enough to name a topic, too few to rebuild the comment."""
MAX_WORD_LENGTH = 32
SILHOUETTE_SAMPLE = 1000

# Words that name no topic in a comment thread, beyond the function words.
FILLER_WORDS: frozenset[str] = frozenset(
    """
    really honestly actually literally like just get got gets getting going gonna want wants know think see say says said
    make made one ones thing things lot lots much many well yeah yes yep nope okay ok lol lmao
    would could should also even still way back now today people guy guys anyone someone
    something anything everything nothing please oh hey hi hello
    oui non ouais bah ben bon alors encore ici là voilà juste vraiment peu beaucoup rien jamais
    toujours déjà quand comment pourquoi faut peut peux veux veut voir dire dit fais chose choses
    truc trucs mdr ptdr cest quelqu quelque quelques autre autres même mêmes aujourd hui
    """.split()  # noqa: SIM905
)
STOP_WORDS = FUNCTION_WORDS | FILLER_WORDS
_LINK = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|ly|io|fr|be|ch|co)(?:/\S*)?\b", re.I)
# Handles name people (@marie, u/marie); a hashtag names a subject, so only its sign goes.
_HANDLE = re.compile(r"(?<![\w@])(?:@|u/)[\w.-]+")


def topic_words(text: str) -> list[str]:
    """The comment's distinct content words, lowercased, for labelling topics: no function or
    filler word, no link, handle, e-mail address, phone, IBAN, card or IP address (those spans
    are cut out before the words are read), no number, at most `MAX_TOPIC_WORDS`."""
    cut = list(text)
    for found in find_contact_details(text):
        cut[found.start : found.end] = [" "] * (found.end - found.start)
    cleaned = _HANDLE.sub(" ", _LINK.sub(" ", "".join(cut)))
    words = [
        word
        for word in content_words(cleaned)
        if 3 <= len(word) <= MAX_WORD_LENGTH and word not in STOP_WORDS
    ]
    return words[:MAX_TOPIC_WORDS]


@dataclass(frozen=True, slots=True)
class TopicConfig:
    min_cluster_size: int = 5
    max_clusters: int = 8
    max_sample: int = 2000
    min_silhouette: float = 0.05
    top_words: int = 6
    min_word_comments: int = 3
    restarts: int = 2
    seed: int = 0


@dataclass(frozen=True, slots=True)
class LanguageComments:
    """One language's comments in the period: row i of `vectors` goes with `words[i]`."""

    language: str
    vectors: np.ndarray
    words: Sequence[Sequence[str]]


@dataclass(frozen=True, slots=True)
class Topic:
    words: tuple[str, ...]
    size: int
    share: float
    """Of the language's comments with an embedding."""


@dataclass(frozen=True, slots=True)
class LanguageTopics:
    language: str
    comments: int
    clusters: int
    """k as chosen, withheld clusters included."""
    silhouette: float | None
    topics: tuple[Topic, ...]
    withheld: int
    """Comments in clusters too small to show."""


def find_topics(comments: Sequence[LanguageComments], config: TopicConfig) -> tuple[LanguageTopics, ...]:
    """Per language, largest language first; each language's topics largest first."""
    found = [_language_topics(group, config) for group in comments if len(group.words)]
    return tuple(sorted(found, key=lambda t: (-t.comments, t.language)))


def _language_topics(group: LanguageComments, config: TopicConfig) -> LanguageTopics:
    n = len(group.words)
    vectors = np.asarray(group.vectors, dtype=np.float32).reshape(n, -1)
    if n < config.min_cluster_size:
        return LanguageTopics(group.language, n, 0, None, (), n)
    rng = np.random.default_rng(config.seed)
    sample = np.sort(rng.choice(n, size=config.max_sample, replace=False)) if n > config.max_sample else None
    fitted = vectors[sample] if sample is not None else vectors
    centre = fitted.mean(axis=0)
    points = _unit_rows(vectors - centre)
    fit_points = points[sample] if sample is not None else points
    k, silhouette, centroids = choose_k(fit_points, config, rng)
    labels = np.argmax(points @ centroids.T, axis=1) if k > 1 else np.zeros(n, dtype=np.int64)
    sizes = np.bincount(labels, minlength=k)
    names = label_clusters([group.words[i] for i in range(n)], labels, k, config)
    shown = [
        Topic(names[c], int(sizes[c]), float(sizes[c]) / n)
        for c in range(k)
        if sizes[c] >= config.min_cluster_size
    ]
    shown.sort(key=lambda t: (-t.size, t.words))
    withheld = n - sum(t.size for t in shown)
    return LanguageTopics(group.language, n, k, silhouette, tuple(shown), withheld)


def choose_k(
    points: np.ndarray, config: TopicConfig, rng: np.random.Generator
) -> tuple[int, float | None, np.ndarray]:
    """(k, its silhouette, centroids): the best silhouette over k = 2..max_clusters, or one
    cluster when no split reaches `min_silhouette` or the data is too small to split. The
    silhouette is measured on at most `SILHOUETTE_SAMPLE` of the points, their distances computed
    once for every k."""
    n = points.shape[0]
    highest = min(config.max_clusters, n // config.min_cluster_size)
    best: tuple[int, float | None, np.ndarray] = (1, None, _unit_rows(points.mean(axis=0, keepdims=True)))
    if highest < 2:
        return best
    probe = rng.choice(n, size=SILHOUETTE_SAMPLE, replace=False) if n > SILHOUETTE_SAMPLE else np.arange(n)
    distance = cosine_distances(points[probe])
    best_score = config.min_silhouette
    for k in range(2, highest + 1):
        labels, centroids = spherical_kmeans(points, k, rng, restarts=config.restarts)
        score = silhouette(distance, labels[probe], k)
        if score > best_score:
            best, best_score = (k, score, centroids), score
    return best


def spherical_kmeans(
    points: np.ndarray, k: int, rng: np.random.Generator, *, restarts: int = 2, iterations: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and unit centroids of the best of `restarts` runs (highest total cosine to centroids)."""
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(restarts):
        centroids = _seed_centroids(points, k, rng)
        labels = np.full(points.shape[0], -1)
        for _ in range(iterations):
            similarity = points @ centroids.T
            new_labels = np.argmax(similarity, axis=1)
            if np.array_equal(new_labels, labels):
                break
            labels = new_labels
            sums = np.eye(k, dtype=points.dtype)[labels].T @ points
            # An emptied cluster restarts on the point its centroid fits worst.
            for c in np.flatnonzero(np.bincount(labels, minlength=k) == 0):
                sums[c] = points[np.argmin(similarity.max(axis=1))]
            centroids = _unit_rows(sums)
        fit = float(np.sum(np.max(points @ centroids.T, axis=1)))
        if best is None or fit > best[0]:
            best = (fit, labels, centroids)
    assert best is not None
    return best[1], best[2]


def _seed_centroids(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++: each next seed drawn with probability proportional to its squared distance."""
    n = points.shape[0]
    chosen = [int(rng.integers(n))]
    distance = 1.0 - points @ points[chosen[0]]
    for _ in range(1, k):
        weights = np.clip(distance, 0.0, None) ** 2
        total = float(weights.sum())
        pick = int(rng.choice(n, p=weights / total)) if total > 0 else int(rng.integers(n))
        chosen.append(pick)
        distance = np.minimum(distance, 1.0 - points @ points[pick])
    return points[chosen].copy()


def silhouette(distance: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Mean silhouette over points with pairwise `distance` (cosine: 1 - cos); 0 for singletons."""
    onehot = np.eye(k, dtype=distance.dtype)[labels]
    sums = distance @ onehot
    counts = onehot.sum(axis=0)
    n = distance.shape[0]
    own = counts[labels]
    a = sums[np.arange(n), labels] / np.maximum(own - 1, 1)
    others = np.where(onehot.astype(bool) | (counts == 0), np.inf, sums / np.maximum(counts, 1))
    b = others.min(axis=1)
    scores = np.where((own > 1) & np.isfinite(b), (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(scores.mean())


def cosine_distances(points: np.ndarray) -> np.ndarray:
    """Pairwise 1 - cos of unit rows."""
    distance: np.ndarray = np.clip(1.0 - points @ points.T, 0.0, 2.0)
    return distance


def label_clusters(
    words: Sequence[Sequence[str]], labels: np.ndarray, k: int, config: TopicConfig
) -> list[tuple[str, ...]]:
    """Class-based TF-IDF: each cluster's words frequent in it and not in every cluster. With
    several clusters, a word no more common in this cluster than in all comments (a greeting, the
    channel's name) sets nothing apart and is left out."""
    per_cluster = [Counter[str]() for _ in range(k)]
    for comment_words, label in zip(words, labels, strict=True):
        per_cluster[int(label)].update(set(comment_words))
    sizes = np.bincount(labels, minlength=k)
    overall: Counter[str] = Counter()
    for counts in per_cluster:
        overall.update(counts)
    average = sum(overall.values()) / k if k else 0.0
    n = len(words)
    names = []
    for cluster, counts in enumerate(per_cluster):
        total = sum(counts.values())
        scored = [
            (count / total * math.log(1.0 + average / overall[word]), word)
            for word, count in counts.items()
            if count >= config.min_word_comments and (k == 1 or count / sizes[cluster] > overall[word] / n)
        ]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        names.append(tuple(word for _, word in scored[: config.top_words]))
    return names


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)
