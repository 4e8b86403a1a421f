"""Behaviour on hand-written French and English cases (functional_cases.toml).

Not every case passes (see docs/models/encoder-heads.md for the failures and why); this
guards the shipped scorer's overall pass rate, each case type, and the per-group flag
rate on neutral identity mentions against regressions.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from vigie_moderator.adapters.encoder_scorer import EncoderScorer
from vigie_moderator.adapters.onnx_scorer import DEFAULT_MODELS_DIR

from training.functional import evaluate, load_cases

# Measured on the committed models (2026-12-02). Lower only with a reason in the commit.
MIN_OVERALL_PASS_RATE = 0.86
MIN_CASES = 300
CASE_TYPES = {
    "negation",
    "counter_speech",
    "identity_mention",
    "untargeted_profanity",
    "obfuscation",
    "threat_no_swear",
    "violent_idiom",
    "reclaimed_or_homonym",
    "emoji",
    "benign",
    "spam",
}


@pytest.fixture(scope="module")
def scorer() -> EncoderScorer:
    return EncoderScorer.load()


@pytest.fixture(scope="module")
def report(scorer: EncoderScorer) -> dict[str, Any]:
    return evaluate(scorer, scorer.suggested_thresholds, load_cases())


def test_cases_cover_every_type_in_both_languages() -> None:
    assert len(load_cases()) >= MIN_CASES
    counts = Counter((c["type"], c["lang"]) for c in load_cases())
    assert {t for t, _ in counts} == CASE_TYPES
    for case_type in CASE_TYPES:
        assert counts[(case_type, "en")] >= 4, case_type
        assert counts[(case_type, "fr")] >= 4, case_type


def test_every_case_states_an_expectation() -> None:
    for case in load_cases():
        assert case.get("high") or case.get("low"), case["text"]


def test_overall_pass_rate_does_not_regress(report: dict[str, Any]) -> None:
    assert report["overall"] >= MIN_OVERALL_PASS_RATE, report


def test_no_case_type_regresses_below_recorded(report: dict[str, Any]) -> None:
    # manifest.json holds the rates measured when the models were built.
    manifest = json.loads((DEFAULT_MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
    recorded = manifest["functional_cases"]["by_type"]
    by_type = report["by_type"]
    for case_type, counts in recorded.items():
        assert by_type[case_type]["passed"] >= counts["passed"], case_type


def test_spam_and_untargeted_profanity_hold(report: dict[str, Any]) -> None:
    by_type = report["by_type"]
    assert by_type["spam"]["passed"] == by_type["spam"]["of"]
    assert by_type["untargeted_profanity"]["passed"] == by_type["untargeted_profanity"]["of"]


def test_neutral_identity_flag_rates_do_not_regress(report: dict[str, Any]) -> None:
    manifest = json.loads((DEFAULT_MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
    recorded = manifest["functional_cases"]["neutral_identity_flag_rate"]
    measured = report["neutral_identity_flag_rate"]
    for language in ("en", "fr"):
        assert measured[f"mean_{language}"] <= recorded[f"mean_{language}"] + 1e-9, language
        assert measured[f"max_minus_min_{language}"] <= recorded[f"max_minus_min_{language}"] + 1e-9, language
