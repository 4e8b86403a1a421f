"""Raw scoring throughput of the moderator models (onnxruntime, no HTTP, no bus).

    uv run python bench/moderator_models.py [--seconds 3]

Scores synthetic comments (built here from a few fixed French and English
phrases, never corpus text) through `OnnxScorer.score` at several batch sizes and
thread counts, and prints texts per second and per-batch latency percentiles.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from vigie_moderator.adapters.onnx_scorer import OnnxScorer

PHRASES = [
    "merci pour cette vidéo",
    "je ne suis pas d'accord avec toi",
    "great video, thanks",
    "this is the worst take I have read today",
    "abonnez-vous à ma chaîne",
    "check out my channel",
    "franchement c'est nul",
    "I love this song so much",
    "quelle bande d'idiots",
    "what camera do you use?",
]


def comments(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(PHRASES, k=rng.randint(1, 6))) for _ in range(n)]


def run(scorer: OnnxScorer, batch: int, seconds: float) -> dict[str, float]:
    texts = comments(batch)
    scorer.score(texts)  # warm-up
    latencies = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        scorer.score(texts)
        latencies.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    latencies.sort()
    return {
        "texts_per_s": batch * len(latencies) / total,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    print("| threads | batch | texts/s | p50 ms/batch | p95 ms/batch |")
    print("|---:|---:|---:|---:|---:|")
    for threads in (1, 2):
        scorer = OnnxScorer.load(intra_op_threads=threads)
        for batch in (1, 8, 32, 128):
            r = run(scorer, batch, args.seconds)
            print(f"| {threads} | {batch} | {r['texts_per_s']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} |")


if __name__ == "__main__":
    main()
