"""EncoderScorer: the shared encoder + heads.onnx behind the `Scorer` port."""

from __future__ import annotations

import base64
import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from vigie_encoder import get_encoder
from vigie_moderator.adapters.encoder_scorer import EncoderScorer
from vigie_moderator.adapters.onnx_scorer import DEFAULT_MODELS_DIR, ModelArtifactError, read_manifest
from vigie_moderator.domain.explain import FUNCTION_WORDS
from vigie_moderator.domain.scores import CATEGORIES, Scorer


@pytest.fixture(scope="module")
def scorer() -> EncoderScorer:
    return EncoderScorer.load()


def flagged(scorer: EncoderScorer, text: str, category: str) -> bool:
    (result,) = scorer.score([text])
    return result.scores[category] >= scorer.suggested_thresholds[category][result.language]


def test_is_a_scorer_with_versions(scorer: EncoderScorer) -> None:
    assert isinstance(scorer, Scorer)
    assert set(scorer.model_versions) == {"encoder", "heads", "language"}


def test_every_category_and_sentiment_in_range(scorer: EncoderScorer) -> None:
    results = scorer.score(["fuck you", "Merci beaucoup pour cette vidéo !", "", "🔥🔥", "a" * 5000])
    assert len(results) == 5
    for r in results:
        assert all(0.0 <= r.scores[c] <= 1.0 for c in CATEGORIES)
        assert -1.0 <= r.scores["sentiment"] <= 1.0
        assert set(r.top_terms) == set(CATEGORIES)


def test_thresholds_exist_for_every_category_and_language(scorer: EncoderScorer) -> None:
    for category in CATEGORIES:
        assert set(scorer.suggested_thresholds[category]) >= {"en", "fr"}, category


@pytest.mark.parametrize(
    "text",
    [
        "I will find where you live and hurt your family",
        "Je vais te retrouver chez toi et m'en prendre à ta famille.",
    ],
)
def test_plain_threats_are_held(scorer: EncoderScorer, text: str) -> None:
    assert flagged(scorer, text, "threat")


@pytest.mark.parametrize(
    "text", ["I'll kill it on stage tonight", "Je vais tout déchirer au concert ce soir !"]
)
def test_violent_idioms_are_not_threats(scorer: EncoderScorer, text: str) -> None:
    assert not flagged(scorer, text, "threat")


def test_a_friendly_french_comment_is_not_toxic(scorer: EncoderScorer) -> None:
    assert not flagged(scorer, "Super vidéo, merci beaucoup ! Quand sort la suite ?", "toxicity")


def test_explanations_name_content_words_never_function_words(scorer: EncoderScorer) -> None:
    (threat,) = scorer.score(["I will find where you live and hurt your family"])
    assert threat.top_terms["threat"]
    assert not set(threat.top_terms["threat"]) & FUNCTION_WORDS
    assert set(threat.top_terms["threat"]) <= {"find", "live", "hurt", "family"}
    (polite,) = scorer.score(["Thanks for the great tutorial, it helped a lot"])
    assert not any(polite.top_terms.values())


def test_score_does_not_depend_on_batch_neighbours(scorer: EncoderScorer) -> None:
    texts = ["you are an idiot", "Merci pour la vidéo", "a very long comment " * 30, "ok"]
    together = scorer.score(texts)
    for text, result in zip(texts, together, strict=True):
        (alone,) = scorer.score([text])
        for category in CATEGORIES:
            assert abs(alone.scores[category] - result.scores[category]) < 1e-3, (text, category)


def test_each_score_carries_its_compact_embedding_for_the_topics(scorer: EncoderScorer) -> None:
    texts = ["Mon colis n'est jamais arrivé", "My parcel never arrived", "The concert was amazing"]
    results = scorer.score(texts)
    exact = get_encoder().embed(texts)
    vectors = []
    for result, reference in zip(results, exact, strict=True):
        embedding = result.embedding
        assert embedding is not None
        assert (embedding.encoder, embedding.dimension) == (scorer.model_versions["encoder"], 384)
        assert len(embedding.float16) == 1024  # what each decision event grows by
        vector = np.frombuffer(base64.b64decode(embedding.float16), dtype="<f2").astype(np.float64)
        assert abs(np.linalg.norm(vector) - 1.0) < 1e-3
        assert float(vector @ reference) / float(np.linalg.norm(reference)) > 0.999
        vectors.append(vector)
    # Paraphrases across languages stay closer than different subjects.
    assert vectors[0] @ vectors[1] > vectors[1] @ vectors[2]


def test_empty_batch(scorer: EncoderScorer) -> None:
    assert scorer.score([]) == []


def test_heads_trained_on_another_encoder_are_refused(scorer: EncoderScorer, tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_MODELS_DIR, tmp_path / "models")
    artifact = read_manifest(tmp_path / "models")["heads"]
    other = dataclasses.replace(artifact, entry={**artifact.entry, "encoder": "another-encoder"})
    with pytest.raises(ModelArtifactError, match="another-encoder"):
        EncoderScorer(scorer._encoder, scorer._heads, other, scorer._detector)


def test_explaining_after_scoring_names_the_same_words(scorer: EncoderScorer) -> None:
    text = "I will find where you live and hurt your family"
    fresh = EncoderScorer.load(cache_size=0)
    (whole,) = fresh.score([text])
    (bare,) = fresh.score_only([text])
    assert bare.scores == whole.scores
    assert not any(bare.top_terms.values())
    assert fresh.explanation_cost(text, ["threat"]) == 4  # find, live, hurt, family
    (terms,) = fresh.explain([text], [bare], [["threat"]])
    assert terms == {"threat": whole.top_terms["threat"]}


def test_repeated_texts_are_scored_once_and_alike() -> None:
    cached = EncoderScorer.load(cache_size=2)
    uncached = EncoderScorer.load(cache_size=0)
    texts = ["you are an idiot", "Merci pour la vidéo", "you are an idiot"]
    first = cached.score(texts)
    assert (cached.cache_hits, cached.cache_misses) == (1, 2)
    again = cached.score(texts[:1])
    assert cached.cache_hits == 2
    assert again[0] == first[0]
    (alone,) = uncached.score(texts[:1])  # batch neighbours move scores by < 1e-6
    assert alone.top_terms == first[0].top_terms
    assert alone.scores == pytest.approx(first[0].scores, abs=1e-4)
    again[0].scores["insult"] = 0.0  # a caller's copy: the cache keeps its own
    assert cached.score(texts[:1])[0] == first[0]
    assert cached.explanation_cost("you are an idiot", ["insult"]) == 0  # explained when scored
    cached.score(["three", "other", "texts"])  # evicts the oldest
    assert cached.explanation_cost("you are an idiot", ["insult"]) == 1
