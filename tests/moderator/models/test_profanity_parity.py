"""The committed profanity.onnx gives the same probabilities as the scikit-learn model
shipped by alt-profanity-check, on English and French text."""

from __future__ import annotations

import unicodedata
from importlib import resources

import joblib
import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline
from vigie_moderator.adapters.onnx_scorer import DEFAULT_MODELS_DIR
from vigie_moderator.domain.scores import normalise_text

TOLERANCE = 1e-4

TEXTS_EN = [
    "You are a complete idiot and everyone knows it",
    "What a lovely day, thanks for sharing!",
    "FUCK this shit, I'm done",
    "Shut up, you stupid b*tch",
    "I don't think that's right, but I respect your opinion.",
    "Beyoncé and José went to the café",
    "Pokémon cards are back 🔥🔥",
    "fuckà toi",  # a vocabulary word glued to an accented letter
    "MiXeD CaSe AsShOlE",
    "",
    "   ",
]
TEXTS_FR = [
    "Ça suffit, espèce d'idiot !",
    "Cœur brisé, l'œuvre est magnifique",
    "Ta gueule connard 😡",
    "Naïve façon de penser… MERDE",
    "Je t'aime bien, même si t'es chiant",
    "C'est n'importe quoi, bande de débiles",
    "L'élève a reçu un prix — bravo à lui 👏",
    "ÉNORME BÊTISE, Œdipe aurait honte",
    "Garçon, un café crème s'il vous plaît",
    "On va te retrouver, fais gaffe à toi",
    "Quelle bande de fils de p***",
    "Pokémon Écarlate, c'est génial",
]
DECOMPOSED = [unicodedata.normalize("NFD", t) for t in TEXTS_FR]


@pytest.fixture(scope="module")
def sklearn_pipeline() -> Pipeline:
    data_dir = resources.files("profanity_check") / "data"
    return Pipeline(
        [
            ("vectorizer", joblib.load(str(data_dir / "vectorizer.joblib"))),
            ("classifier", joblib.load(str(data_dir / "model.joblib"))),
        ]
    )


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    return ort.InferenceSession(
        str(DEFAULT_MODELS_DIR / "profanity.onnx"), providers=["CPUExecutionProvider"]
    )


def sklearn_proba(pipeline: Pipeline, texts: list[str]) -> np.ndarray:
    # The reference: the package's own pipeline on NFC text, lowercasing on its own.
    nfc = [unicodedata.normalize("NFC", t) for t in texts]
    return np.asarray(pipeline.predict_proba(nfc)[:, 1])


def onnx_proba(session: ort.InferenceSession, texts: list[str]) -> np.ndarray:
    batch = np.array([normalise_text(t) for t in texts], dtype=object).reshape(-1, 1)
    return np.asarray(session.run(["probabilities"], {"text": batch})[0][:, 1], dtype=np.float64)


@pytest.mark.parametrize("texts", [TEXTS_EN, TEXTS_FR, DECOMPOSED], ids=["en", "fr", "fr-nfd"])
def test_onnx_matches_sklearn(
    sklearn_pipeline: Pipeline, session: ort.InferenceSession, texts: list[str]
) -> None:
    expected = sklearn_proba(sklearn_pipeline, texts)
    got = onnx_proba(session, texts)
    np.testing.assert_allclose(got, expected, atol=TOLERANCE, rtol=0)


def test_scores_are_not_trivial(sklearn_pipeline: Pipeline) -> None:
    # Parity on all-zero features would prove nothing: the probes must spread.
    p = sklearn_proba(sklearn_pipeline, TEXTS_EN)
    assert p.max() > 0.9
    assert p.min() < 0.2


def test_nfc_and_nfd_score_alike(session: ort.InferenceSession) -> None:
    np.testing.assert_allclose(onnx_proba(session, DECOMPOSED), onnx_proba(session, TEXTS_FR), atol=1e-7)


def test_tokens_glued_to_accents_are_not_split(
    sklearn_pipeline: Pipeline, session: ort.InferenceSession
) -> None:
    # An ASCII-only tokenizer reads "fuckà" as "fuck"; scikit-learn reads one
    # out-of-vocabulary word. Both sides must agree that it is not the swear word.
    [glued] = onnx_proba(session, ["fuckà toi"])
    [plain] = onnx_proba(session, ["fuck toi"])
    assert plain > 0.9
    assert glued < plain - 0.3
    assert glued == pytest.approx(sklearn_proba(sklearn_pipeline, ["fuckà toi"])[0], abs=TOLERANCE)


def test_top_terms_name_the_heaviest_vocabulary_words(
    sklearn_pipeline: Pipeline, session: ort.InferenceSession
) -> None:
    text = "you stupid idiot, what a lovely day"
    batch = np.array([normalise_text(text)], dtype=object).reshape(-1, 1)
    weights, terms = session.run(["top_weights", "top_terms"], {"text": batch})
    vectorizer = sklearn_pipeline.named_steps["vectorizer"]
    classifier = sklearn_pipeline.named_steps["classifier"]
    coef = np.mean([c.estimator.coef_[0] for c in classifier.calibrated_classifiers_], axis=0)
    contributions = vectorizer.transform([text]).toarray()[0] * coef
    names = vectorizer.get_feature_names_out()
    expected = [names[i] for i in np.argsort(-contributions)[:2]]
    assert [str(t) for t in terms[0][:2]] == expected
    assert weights[0][0] == pytest.approx(contributions.max(), rel=1e-4)
    assert set(expected) <= {"stupid", "idiot"}


# Letters from French and English, accents, ligatures, apostrophes, emoji, digits.
_ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    + list("éèêëàâäîïôöùûüçœæÉÈÊÀÂÇŒÆÔÛÎÿŸñß")
    + [" ", " ", "'", "\u2019", "-", ".", ",", "!", "?", "…", "0", "7", "_", "\u0301", "\n"]
    + ["😡", "🔥", "👏", "🤬"]
)
_WORDS = st.sampled_from(
    ["fuck", "shit", "idiot", "stupid", "ass", "connard", "merde", "putain", "love", "the"]
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.one_of(st.text(_ALPHABET, max_size=12), _WORDS), min_size=1, max_size=8))
def test_parity_on_generated_text(
    sklearn_pipeline: Pipeline, session: ort.InferenceSession, parts: list[str]
) -> None:
    text = "".join(parts)
    np.testing.assert_allclose(
        onnx_proba(session, [text]),
        sklearn_proba(sklearn_pipeline, [text]),
        atol=TOLERANCE,
        rtol=0,
    )
