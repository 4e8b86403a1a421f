"""Topics from embeddings, on synthetic vectors: clustering, labels, k-anonymity, and the words kept."""

from __future__ import annotations

from datetime import UTC

import numpy as np
import pytest
from vigie_audit.domain.insights import build_insights, csv_rows
from vigie_audit.domain.topics import (
    MAX_TOPIC_WORDS,
    LanguageComments,
    TopicConfig,
    cosine_distances,
    find_topics,
    silhouette,
    topic_words,
)

DIM = 384
CONFIG = TopicConfig()


def blobs(sizes: list[int], seed: int = 0, spread: float = 0.35) -> tuple[np.ndarray, list[int]]:
    """Unit vectors around one random direction per blob, all sharing a strong common component
    (sentence encoders put every text in a narrow cone)."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=DIM)
    common /= np.linalg.norm(common)
    rows, owners = [], []
    for blob, size in enumerate(sizes):
        direction = rng.normal(size=DIM)
        direction /= np.linalg.norm(direction)
        for _ in range(size):
            noise = rng.normal(size=DIM) / np.sqrt(DIM)
            vector = 3.0 * common + direction + spread * noise
            rows.append(vector / np.linalg.norm(vector))
            owners.append(blob)
    return np.asarray(rows, dtype=np.float32), owners


SUBJECTS = (
    ("delivery", "parcel", "late", "refund"),
    ("concert", "band", "tickets", "stage"),
    ("recipe", "cake", "oven", "flour"),
)
SHARED = ("video", "channel")  # in every topic: frequent, but names none of them


def words_for(owners: list[int], seed: int = 1) -> list[tuple[str, ...]]:
    rng = np.random.default_rng(seed)
    out = []
    for blob in owners:
        own = [w for w in SUBJECTS[blob] if rng.random() < 0.8]
        out.append((*own, *(w for w in SHARED if rng.random() < 0.7)))
    return out


def test_three_separated_subjects_give_three_labelled_topics_largest_first() -> None:
    vectors, owners = blobs([60, 40, 25])
    (english,) = find_topics([LanguageComments("en", vectors, words_for(owners))], CONFIG)
    assert english.language == "en" and english.comments == 125
    assert english.clusters == 3 and english.silhouette is not None and english.silhouette > 0.2
    assert [t.size for t in english.topics] == [60, 40, 25]
    assert sum(t.share for t in english.topics) == pytest.approx(1.0) and english.withheld == 0
    for topic, subject in zip(english.topics, SUBJECTS, strict=True):
        assert set(topic.words[:3]) <= set(subject), topic.words
        assert not set(topic.words[:4]) & set(SHARED)


def test_languages_are_clustered_apart_and_the_larger_comes_first() -> None:
    fr_vectors, fr_owners = blobs([10, 10], seed=3)
    en_vectors, en_owners = blobs([30, 30], seed=4)
    found = find_topics(
        [
            LanguageComments("fr", fr_vectors, words_for(fr_owners)),
            LanguageComments("en", en_vectors, words_for(en_owners)),
        ],
        CONFIG,
    )
    assert [(t.language, t.comments, len(t.topics)) for t in found] == [("en", 60, 2), ("fr", 20, 2)]


def test_no_topic_of_fewer_than_the_minimum_is_ever_shown() -> None:
    vectors, owners = blobs([40, 40, 2, 1], seed=5, spread=0.2)
    (found,) = find_topics([LanguageComments("en", vectors, [("word",)] * len(owners))], CONFIG)
    assert found.comments == 83
    assert all(topic.size >= CONFIG.min_cluster_size for topic in found.topics)
    assert sum(topic.size for topic in found.topics) + found.withheld == 83
    tiny = find_topics([LanguageComments("en", vectors[:4], [("word",)] * 4)], CONFIG)
    assert tiny[0].topics == () and tiny[0].withheld == 4


def test_a_word_in_fewer_comments_than_the_minimum_never_names_a_topic() -> None:
    vectors, owners = blobs([20, 20], seed=6)
    words = words_for(owners)
    # A surname two people typed is the most distinctive word of its topic, and still not shown.
    words[0] = (*words[0], "dupontel")
    words[1] = (*words[1], "dupontel")
    found = find_topics([LanguageComments("en", vectors, words)], CONFIG)
    assert all("dupontel" not in topic.words for topic in found[0].topics)
    assert any(topic.words for topic in found[0].topics)


def test_structureless_vectors_are_one_topic_not_made_up_groups() -> None:
    rng = np.random.default_rng(7)
    noise = rng.normal(size=(300, DIM)).astype(np.float32)
    (found,) = find_topics([LanguageComments("en", noise, [("word",)] * 300)], CONFIG)
    assert found.clusters == 1 and found.silhouette is None
    assert [t.size for t in found.topics] == [300]


def test_a_large_period_is_fitted_on_a_sample_and_every_comment_is_assigned_repeatably() -> None:
    vectors, owners = blobs([400, 250], seed=8)
    comments = [LanguageComments("en", vectors, words_for(owners))]
    config = TopicConfig(max_sample=150)
    first = find_topics(comments, config)
    assert [t.size for t in first[0].topics] == [400, 250]
    assert find_topics(comments, config) == first


def test_silhouette_is_high_for_separated_and_near_zero_for_mixed_labels() -> None:
    vectors, owners = blobs([30, 30], seed=9, spread=0.1)
    centred = vectors - vectors.mean(axis=0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)
    distance = cosine_distances(centred)
    assert silhouette(distance, np.asarray(owners), 2) > 0.5
    shuffled = np.random.default_rng(0).permutation(np.asarray(owners))
    assert abs(silhouette(distance, shuffled, 2)) < 0.1


def test_topic_words_keep_no_contact_detail_handle_link_number_or_function_word() -> None:
    text = (
        "Écrivez à marie.dupont@example.org ou au 06 12 34 56 78, @marie_d et u/marie2 savent : "
        "la livraison du colis est en retard https://track.example.com/abc 42 fois ! #Livraison"
    )
    words = topic_words(text)
    assert words == ["écrivez", "savent", "livraison", "colis", "retard", "fois"]
    joined = " ".join(words)
    for leaked in ("marie", "dupont", "example", "06", "12", "track", "abc", "42"):
        assert leaked not in joined
    many = " ".join("".join(chr(97 + (i * 7 + j) % 26) for j in range(5)) for i in range(60))
    assert len(topic_words(many)) == MAX_TOPIC_WORDS


def test_topics_reach_the_csv_export() -> None:
    vectors, owners = blobs([20, 20], seed=10)
    topics = find_topics([LanguageComments("en", vectors, words_for(owners))], CONFIG)
    insights = build_insights([], [], [], UTC, "UTC", topics)
    rows = csv_rows(insights)
    assert ("topics", "en", "comments", "40") in rows
    assert ("topic", "en:1", "size", "20") in rows and ("topic", "en:2", "size", "20") in rows
    labels = [row[3] for row in rows if row[:3] == ("topic", "en:1", "words")]
    assert labels and labels[0].split()[0] in {w for subject in SUBJECTS for w in subject}
    assert ("summary", "topics_sampled", "", "false") in rows
