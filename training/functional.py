"""Functional cases (tests/moderator/models/functional_cases.toml) against a scorer.

    uv run python -m training.functional

Also run by training.build_all, which records the pass rates in manifest.json.
"""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
    by_language: dict[str, list[bool]] = defaultdict(list)
    failures = []
    for index, (case, result) in enumerate(zip(cases, results, strict=True)):
        ok = all(
            result.scores[c] >= threshold(thresholds, c, case["lang"]) for c in case.get("high", [])
        ) and all(result.scores[c] < threshold(thresholds, c, case["lang"]) for c in case.get("low", []))
        by_type[case["type"]].append(ok)
        by_language[case["lang"]].append(ok)
        if not ok:
            failures.append(index)
    passed = sum(sum(v) for v in by_type.values())
    return {
        "overall": round(passed / len(cases), 4),
        "cases": len(cases),
        "by_type": {k: {"passed": sum(v), "of": len(v)} for k, v in sorted(by_type.items())},
        "by_language": {k: {"passed": sum(v), "of": len(v)} for k, v in sorted(by_language.items())},
        "failed_case_indices": failures,
    }


def main() -> None:
    setup_logging()
    scorer = OnnxScorer.load()
    report = evaluate(scorer, scorer.suggested_thresholds, load_cases())
    manifest = load_manifest()
    manifest["functional_cases"] = {
        "file": "tests/moderator/models/functional_cases.toml",
        "command": "uv run python -m training.functional",
        **report,
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    log.info("functional pass rate %.3f %s", report["overall"], report["by_type"])


if __name__ == "__main__":
    main()
