"""Leave-one-corpus-out: train on every corpus but one, score the one left out.

    uv run python -m training.loco        (~5 min on 2 cores with cached embeddings; n-gram refits dominate)

For each corpus of a task, two models are trained on the other corpora (all their
rows: train + validation) and scored on every row of the corpus left out:
- `encoder`: the shipped recipe (the head on the cached encoder embedding: a
  one-hidden-layer network for toxicity and identity_attack, logistic regression
  with the C chosen in training/heads.py otherwise; the team's rows added);
- `ngram`: the shipped n-gram recipe (word 1-2 + char 2-5 TF-IDF over `fold_text`,
  liblinear logistic regression; without the profanity feature for toxicity).
Tasks: toxicity / insult / threat / identity_attack over the seven toxicity corpora;
spam with each YouTube video and SMS left out; sentiment trained on one language and
scored on the other. ROC-AUC, and macro-F1 for sentiment. The figures go to
manifest.json (`heads.metrics.leave_one_corpus_out`) and the model cards.
Nothing here chooses a threshold or a hyperparameter.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from vigie_encoder import Encoder
from vigie_moderator.domain.scores import fold_text

from training import data, team_data
from training.common import MANIFEST, SEED, load_manifest, log, setup_logging
from training.data import Row
from training.embeddings import EmbeddingCache
from training.heads import MLP_HEADS, TEAM_WEIGHT, TOXICITY_LABELS, fit_mlp, mlp_logit, signals_of
from training.linear_onnx import fit_features, make_features


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return round(float(roc_auc_score(y, p)), 4) if 0 < y.sum() < len(y) else None


def _ngram_scores(
    train: list[Row], held: list[Row], label: str, word: int, char: int, c: float
) -> np.ndarray:
    features = make_features(word_max=word, char_max=char)
    x = fit_features(features, [fold_text(r.text) for r in train])
    y = np.array([r.labels[label] for r in train])
    model = LogisticRegression(C=c, solver="liblinear", random_state=SEED).fit(x, y)
    return np.asarray(model.decision_function(features.transform([fold_text(r.text) for r in held])))


def toxicity(cache: EmbeddingCache, c_by_label: dict[str, float], out: dict[str, Any]) -> None:
    sources = data.toxicity_sources()
    sources["olid"] = sources["olid"] + data.olid_test_full()
    team = team_data.rows()
    # Smallest held-out corpus first: the largest folds are the slowest to train.
    for held_name in sorted(sources, key=lambda name: len(sources[name])):
        held = sources[held_name]
        others = [r for name, rows in sources.items() if name != held_name for r in rows]
        x_held = cache.embed([r.text for r in held])
        # One n-gram vocabulary per fold, fitted on the training corpora only.
        features = make_features(word_max=30_000, char_max=60_000)
        x_others = fit_features(features, [fold_text(r.text) for r in others])
        x_held_ngram = features.transform([fold_text(r.text) for r in held])
        for label in TOXICITY_LABELS:
            held_known = [r for r in held if label in r.labels]
            y_held = np.array([r.labels[label] for r in held_known])
            if not 0 < y_held.sum() < len(y_held):
                continue
            train = [r for r in others + team if label in r.labels]
            y = np.array([r.labels[label] for r in train])
            if y.sum() == 0:
                continue
            w = np.array([TEAM_WEIGHT if r.source == team_data.SOURCE else 1.0 for r in train])
            x_train = cache.embed([r.text for r in train])
            idx = [i for i, r in enumerate(held) if label in r.labels]
            if label in MLP_HEADS:
                enc = _auc(y_held, mlp_logit(fit_mlp(x_train, y, w), x_held[idx]))
            else:
                model = LogisticRegression(C=c_by_label[label], max_iter=2000, random_state=SEED)
                model.fit(x_train, y, sample_weight=w)
                enc = _auc(y_held, model.decision_function(x_held[idx]))
            known = [i for i, r in enumerate(others) if label in r.labels]
            y_others = np.array([others[i].labels[label] for i in known])
            ngram = None
            if 0 < y_others.sum() < len(y_others):
                base = LogisticRegression(C=1.0, solver="liblinear", random_state=SEED)
                base.fit(x_others[known], y_others)
                ngram = _auc(y_held, base.decision_function(x_held_ngram[idx]))
            key = f"{label}/{held_name}"
            out[key] = {
                "language": held[0].language,
                "n": len(y_held),
                "positives": int(y_held.sum()),
                "encoder": enc,
                "ngram": ngram,
            }
            log.info("loco %s %s", key, out[key])
            save(out)


def spam(cache: EmbeddingCache, c: float, out: dict[str, Any]) -> None:
    youtube = data.youtube()
    folds = {r.meta["video"] for r in youtube}
    sources = {video: [r for r in youtube if r.meta["video"] == video] for video in sorted(folds)}
    sources["sms"] = data.sms()
    for held_name, held in sources.items():
        train = [r for name, rows in sources.items() if name != held_name for r in rows]
        y = np.array([r.labels["spam"] for r in train])
        y_held = np.array([r.labels["spam"] for r in held])
        sig, sig_held = signals_of(train), signals_of(held)
        mean, scale = sig.mean(axis=0), sig.std(axis=0) + 1e-6
        x = np.hstack([cache.embed([r.text for r in train]), (sig - mean) / scale])
        x_held = np.hstack([cache.embed([r.text for r in held]), (sig_held - mean) / scale])
        model = LogisticRegression(C=c, max_iter=2000, random_state=SEED).fit(x, y)
        out[f"spam/{held_name}"] = {
            "language": "en",
            "n": len(held),
            "positives": int(y_held.sum()),
            "encoder": _auc(y_held, model.decision_function(x_held)),
            "ngram": _auc(y_held, _ngram_scores(train, held, "spam", 20_000, 40_000, 4.0)),
        }
        log.info("loco spam/%s %s", held_name, out[f"spam/{held_name}"])
        save(out)


def sentiment(cache: EmbeddingCache, c: float, out: dict[str, Any]) -> None:
    rows = {lang: [r for part in data.umsab(lang).values() for r in part] for lang in ("en", "fr")}
    for train_lang, held_lang in (("en", "fr"), ("fr", "en")):
        train, held = rows[train_lang], rows[held_lang]
        y = np.array([r.labels["sentiment"] for r in train])
        y_held = np.array([r.labels["sentiment"] for r in held])
        polar = y_held != 1
        model = LogisticRegression(C=c, max_iter=2000, random_state=SEED)
        model.fit(cache.embed([r.text for r in train]), y)
        probs = model.predict_proba(cache.embed([r.text for r in held]))
        features = make_features(word_max=20_000, char_max=40_000)
        x = fit_features(features, [fold_text(r.text) for r in train])
        base = LogisticRegression(C=1.0, max_iter=3000, random_state=SEED).fit(x, y)
        base_probs = base.predict_proba(features.transform([fold_text(r.text) for r in held]))
        out[f"sentiment/train_{train_lang}_score_{held_lang}"] = {
            "language": held_lang,
            "n": len(held),
            "encoder": round(float(f1_score(y_held, probs.argmax(axis=1), average="macro")), 4),
            "ngram": round(float(f1_score(y_held, base_probs.argmax(axis=1), average="macro")), 4),
            "metric": "macro_f1",
            "encoder_pos_vs_neg_roc_auc": _auc(y_held[polar] == 2, probs[polar, 2] - probs[polar, 0]),
            "ngram_pos_vs_neg_roc_auc": _auc(y_held[polar] == 2, base_probs[polar, 2] - base_probs[polar, 0]),
        }
        log.info("loco %s", out[f"sentiment/train_{train_lang}_score_{held_lang}"])
        save(out)


def save(results: dict[str, Any]) -> None:
    """Written after every fold, so a long run's finished folds are never lost."""
    manifest = load_manifest()
    manifest["artifacts"]["heads"]["metrics"]["leave_one_corpus_out"] = results
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    setup_logging()
    started = time.monotonic()
    manifest = load_manifest()
    heads = manifest["artifacts"]["heads"]
    c = heads["hyperparameters"]["C"]
    cache = EmbeddingCache(Encoder.load())
    results: dict[str, Any] = {
        "method": "train on every other corpus (all rows), score every row of the one left out; ROC-AUC "
        "(sentiment: macro-F1, trained on the other language)",
        "command": "uv run python -m training.loco",
    }
    spam(cache, c["spam"], results)
    sentiment(cache, c["sentiment"], results)
    toxicity(cache, c, results)
    log.info("leave-one-corpus-out done in %.0fs", time.monotonic() - started)


if __name__ == "__main__":
    main()
