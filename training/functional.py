"""Functional cases (tests/moderator/models/functional_cases.toml) against both scorers.

    uv run python -m training.functional

Scores the cases with the shipped encoder scorer and with the n-gram scorer it
replaced, each at its own suggested thresholds, and records in manifest.json the
pass rates per type and language, and per identity group the share of neutral
mentions flagged (identity_attack or toxicity at or above threshold). Also run by
training.build_all. The cases are never used to train or to choose anything.
"""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vigie_moderator.adapters.encoder_scorer import EncoderScorer
from vigie_moderator.adapters.onnx_scorer import OnnxScorer
from vigie_moderator.domain.scores import Scorer

from training.common import MANIFEST, REPO_ROOT, load_manifest, log, setup_logging

CASES_FILE = REPO_ROOT / "tests/moderator/models/functional_cases.toml"


def load_cases(path: Path = CASES_FILE) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8"))["case"]
    return cases


def threshold(thresholds: Mapping[str, Mapping[str, float]], category: str, language: str) -> float:
    # Categories without data in one language (threat in English) borrow the other's.
    per_language = thresholds.get(category, {})
    return float(per_language.get(language) or next(iter(per_language.values()), 0.5))


def evaluate(
    scorer: Scorer, thresholds: Mapping[str, Mapping[str, float]], cases: list[dict[str, Any]]
) -> dict[str, Any]:
    results = scorer.score([c["text"] for c in cases])
    by_type: dict[str, list[bool]] = defaultdict(list)
    flagged_by_group: dict[str, list[bool]] = defaultdict(list)
    by_language: dict[str, list[bool]] = defaultdict(list)
    failures = []
    for index, (case, result) in enumerate(zip(cases, results, strict=True)):
        ok = all(
            result.scores[c] >= threshold(thresholds, c, case["lang"]) for c in case.get("high", [])
        ) and all(result.scores[c] < threshold(thresholds, c, case["lang"]) for c in case.get("low", []))
        by_type[case["type"]].append(ok)
        by_language[case["lang"]].append(ok)
        if case.get("group"):
            flagged_by_group[f"{case['group']}/{case['lang']}"].append(
                any(
                    result.scores[c] >= threshold(thresholds, c, case["lang"])
                    for c in ("identity_attack", "toxicity")
                )
            )
        if not ok:
            failures.append(index)
    passed = sum(sum(v) for v in by_type.values())
    return {
        "overall": round(passed / len(cases), 4),
        "cases": len(cases),
        "by_type": {k: {"passed": sum(v), "of": len(v)} for k, v in sorted(by_type.items())},
        "by_language": {k: {"passed": sum(v), "of": len(v)} for k, v in sorted(by_language.items())},
        "failed_case_indices": failures,
        "neutral_identity_flag_rate": group_rates(flagged_by_group),
    }


def group_rates(flagged: Mapping[str, list[bool]]) -> dict[str, Any]:
    """Share of neutral mentions flagged per group and language, and the widest gap."""
    rates = {key: round(sum(v) / len(v), 4) for key, v in sorted(flagged.items())}
    out: dict[str, Any] = {"per_group": rates}
    for language in ("en", "fr"):
        values = [r for key, r in rates.items() if key.endswith(f"/{language}")]
        if values:
            out[f"max_minus_min_{language}"] = round(max(values) - min(values), 4)
            out[f"mean_{language}"] = round(sum(values) / len(values), 4)
    return out


def main() -> None:
    setup_logging()
    cases = load_cases()
    scorer = EncoderScorer.load()
    report = evaluate(scorer, scorer.suggested_thresholds, cases)
    old = OnnxScorer.load()
    previous = evaluate(old, old.suggested_thresholds, cases)
    manifest = load_manifest()
    manifest["functional_cases"] = {
        "file": "tests/moderator/models/functional_cases.toml",
        "command": "uv run python -m training.functional",
        "scorer": "EncoderScorer (encoder + heads)",
        **report,
        "ngram_scorer": previous,
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    log.info("functional pass rate %.3f %s", report["overall"], report["by_type"])
    log.info("n-gram scorer pass rate %.3f %s", previous["overall"], previous["by_type"])
    log.info(
        "neutral identity flag rates: encoder %s, n-gram %s",
        report["neutral_identity_flag_rate"],
        previous["neutral_identity_flag_rate"],
    )


if __name__ == "__main__":
    main()
