"""Drafting speed: comments drafted per second against a 1,000-entry knowledge base, and per-comment latency.

The base is the Atelier Lumière entries of training/data/kb, repeated under new ids with a product
name changed in each copy until it holds `--entries`; the comments are the test split of
training/data/kb_eval. Drafts go through the responder's own `Drafter` (encoder, intent head,
language-centred retrieval, composition) on its SQLite store; the time to embed the base is printed
apart, since it is paid once per entry change, not per comment.

    uv run python bench/responder/drafting.py [--entries 1000] [--comments 250] [--batch 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from vigie_encoder import DIMENSION, get_encoder
from vigie_responder.adapters.intent import IntentModel, load_centroids
from vigie_responder.adapters.knowledge import KnowledgeStore
from vigie_responder.adapters.store import DraftStore
from vigie_responder.domain.knowledge import Entry
from vigie_responder.drafter import Drafter, load_retrieval_params
from vigie_shared.db import open_store
from vigie_shared.events.v1 import Action, Author, CommentRef, ModerationDecided, Platform

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from training import kb_eval  # noqa: E402

PRODUCTS = ("lampe", "lamp", "applique", "suspension", "lampadaire", "ampoule", "bulb", "abat-jour")


def variant(text: str, n: int) -> str:
    return f"{text} ({PRODUCTS[n % len(PRODUCTS)]} {n})"


async def run(entries: int, comments: int, batch: int) -> dict[str, float]:
    base = kb_eval.load_entries()
    lines = kb_eval.load_split("test")[:comments]
    encoder = await asyncio.to_thread(get_encoder)
    with tempfile.TemporaryDirectory() as scratch:
        async with open_store(DraftStore, f"sqlite+aiosqlite:///{Path(scratch)}/responder.db") as store:
            knowledge = KnowledgeStore(
                store.sessions, encoder.embed, encoder.version, DIMENSION, centroids=load_centroids()
            )
            started = time.perf_counter()
            for n in range(entries):
                raw = base[n % len(base)]
                copy = n // len(base)
                questions = {
                    k: [q if copy == 0 else variant(q, copy) for q in v] for k, v in raw.questions.items()
                }
                await knowledge.put(
                    "bench",
                    Entry(f"{raw.entry_id}-{copy}", questions, dict(raw.answers), tuple(raw.tags)),
                    "bench",
                )
            await knowledge.index("bench")
            embed_base = time.perf_counter() - started
            drafter = Drafter(
                knowledge, IntentModel.load(), load_retrieval_params(), encoder_version=encoder.version
            )
            decisions = [
                ModerationDecided(
                    comment=CommentRef(
                        platform=Platform.FACEBOOK, community="bench", thread_id="t", comment_id=str(i)
                    ),
                    author=Author(pseudonym="psn_bench"),
                    text=line.text,
                    language=line.language,
                    scores={},
                    action=Action.ALLOW,
                    reasons=[],
                    policy_version="b",
                    model_versions={},
                )
                for i, line in enumerate(lines)
            ]
            await drafter.draft_all(decisions[:4])  # warm-up: first-call allocations
            latencies: list[float] = []
            drafted = 0
            started = time.perf_counter()
            for at in range(0, len(decisions), batch):
                chunk = decisions[at : at + batch]
                t0 = time.perf_counter()
                made = await drafter.draft_all(chunk)
                # A comment waits for its whole batch: its latency is the batch's.
                latencies += [time.perf_counter() - t0] * len(chunk)
                drafted += sum(m is not None for m in made)
            wall = time.perf_counter() - started
            single = []
            for decision in decisions[:40]:
                t0 = time.perf_counter()
                await drafter.draft_all([decision])
                single.append(time.perf_counter() - t0)
    return {
        "entries": entries,
        "comments": len(decisions),
        "drafted": drafted,
        "embed_base_s": embed_base,
        "comments_per_s": len(decisions) / wall,
        "batch_p50_ms": 1000 * statistics.median(latencies),
        "batch_p99_ms": 1000 * sorted(latencies)[int(0.99 * (len(latencies) - 1))],
        "single_p50_ms": 1000 * statistics.median(single),
        "single_p99_ms": 1000 * sorted(single)[int(0.99 * (len(single) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=250)
    parser.add_argument("--batch", type=int, default=32)
    arguments = parser.parse_args()
    figures = asyncio.run(run(arguments.entries, arguments.comments, arguments.batch))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    print(f"# responder drafting, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"knowledge base: {figures['entries']} entries, embedded in {figures['embed_base_s']:.1f} s (once per change)"
    )
    print(
        "| comments | drafted | comments/s (batch) | batch latency p50 / p99 | one comment alone p50 / p99 |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| {figures['comments']} | {figures['drafted']} | {figures['comments_per_s']:.1f}"
        f" | {figures['batch_p50_ms']:.0f} / {figures['batch_p99_ms']:.0f} ms"
        f" | {figures['single_p50_ms']:.0f} / {figures['single_p99_ms']:.0f} ms |"
    )


if __name__ == "__main__":
    main()
