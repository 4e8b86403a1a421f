"""OnnxScorer on the committed artifacts."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from vigie_moderator.adapters.onnx_scorer import (
    DEFAULT_MODELS_DIR,
    ModelArtifactError,
    OnnxScorer,
)
from vigie_moderator.domain.scores import CATEGORIES, Scorer


@pytest.fixture(scope="module")
def scorer() -> OnnxScorer:
    return OnnxScorer.load()


def test_is_a_scorer_with_versions(scorer: OnnxScorer) -> None:
    assert isinstance(scorer, Scorer)
    assert set(scorer.model_versions) == {"profanity", "toxicity", "spam", "sentiment", "language"}
    assert scorer.model_versions["language"].startswith("py3langid")


def test_every_category_and_sentiment_in_range(scorer: OnnxScorer) -> None:
    results = scorer.score(["fuck you", "Merci beaucoup pour cette vidéo !", "", "🔥🔥"])
    assert len(results) == 4
    for r in results:
        assert set(CATEGORIES) <= set(r.scores)
        assert all(0.0 <= r.scores[c] <= 1.0 for c in CATEGORIES)
        assert -1.0 <= r.scores["sentiment"] <= 1.0


def test_scores_separate_obvious_cases(scorer: OnnxScorer) -> None:
    rude, polite, racist, spam, happy, sad = scorer.score(
        [
            "you are a fucking idiot",
            "thank you, have a nice day",
            "sale arabe, retourne dans ton pays",
            "Subscribe to my channel and win a free iPhone http://bit.ly/abc",
            "J'adore cette chanson, merci, quel bonheur !",
            "Quelle tristesse, c'est horrible et décevant",
        ]
    )
    th = scorer.suggested_thresholds
    assert rude.scores["toxicity"] > th["toxicity"]["en"]
    assert rude.scores["insult"] > th["insult"]["en"]
    assert polite.scores["toxicity"] < th["toxicity"]["en"]
    assert racist.scores["identity_attack"] > th["identity_attack"]["fr"]
    assert spam.scores["spam"] > th["spam"]["en"]
    assert rude.scores["spam"] < th["spam"]["en"]
    assert happy.scores["sentiment"] > 0.3
    assert sad.scores["sentiment"] < -0.3


def test_top_terms_explain_the_category(scorer: OnnxScorer) -> None:
    rude, polite = scorer.score(["you are a fucking idiot", "thank you, have a nice day"])
    assert {"fucking", "idiot"} & set(rude.top_terms["toxicity"])
    assert set(rude.top_terms) == {"toxicity", "insult", "threat", "identity_attack", "spam"}
    assert polite.top_terms["insult"] == []


def test_suggested_thresholds_cover_categories(scorer: OnnxScorer) -> None:
    th = scorer.suggested_thresholds
    for category in ("toxicity", "insult", "identity_attack", "spam"):
        assert set(th[category]) == {"en", "fr"}, category
        assert all(0.0 < v < 1.0 for v in th[category].values())
    assert "fr" in th["threat"]


def test_score_does_not_depend_on_batch_neighbours(scorer: OnnxScorer) -> None:
    # The ONNX tokenizer pads a batch to its longest text; padding must not count.
    short = "t'es nul"
    long_text = "bonjour à tous, " * 40 + '"#'
    alone = scorer.score([short])[0].scores
    together = scorer.score([short, long_text])[0].scores
    assert together == pytest.approx(alone, abs=1e-6)


def test_large_batches_are_chunked(scorer: OnnxScorer) -> None:
    texts = [f"commentaire numéro {i}" for i in range(75)]
    results = scorer.score(texts)
    assert len(results) == 75
    assert results[74].scores == pytest.approx(scorer.score([texts[74]])[0].scores, abs=1e-6)


def test_language(scorer: OnnxScorer) -> None:
    results = scorer.score(
        [
            "Je ne suis pas du tout d'accord avec ce que vous dites.",
            "I completely disagree with what you are saying here.",
            "12345 !!!",
        ]
    )
    assert [r.language for r in results] == ["fr", "en", "und"]


def test_empty_batch(scorer: OnnxScorer) -> None:
    assert scorer.score([]) == []


def test_batch_equals_one_by_one(scorer: OnnxScorer) -> None:
    texts = ["Ta gueule connard", "what the hell", "Bonne journée à tous"]
    batched = scorer.score(texts)
    single = [scorer.score([t])[0] for t in texts]
    for a, b in zip(batched, single, strict=True):
        assert a.scores == pytest.approx(b.scores)


def test_concurrent_calls_share_one_session(scorer: OnnxScorer) -> None:
    errors: list[BaseException] = []
    expected = scorer.score(["shit happens"])[0].scores["toxicity"]

    def work() -> None:
        try:
            for _ in range(20):
                assert scorer.score(["shit happens"])[0].scores["toxicity"] == expected
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_load_refuses_tampered_models(tmp_path: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(DEFAULT_MODELS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "toxicity.onnx"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(ModelArtifactError):
        OnnxScorer.load(copy)


def test_load_rejects_zero_threads() -> None:
    with pytest.raises(ValueError, match="threads"):
        OnnxScorer.load(intra_op_threads=0)
