"""Audit service: append rate, chain verification time, bias report time over a million decisions.

    uv run python bench/audit/run.py                                     # SQLite only
    uv run python bench/audit/run.py --postgres-url postgresql+asyncpg://vigie:vigie@127.0.0.1:55432/vigie_test

1. Append: AuditStore.append, as the consumer calls it (one transaction per batch of 64, and one per
   event), with moderation.decided bodies of a realistic size. Measures the chain that is on this
   branch (vigie_audit.domain.chain, unkeyed SHA-256 over the body) whatever it is when run.
2. Verify: a log of --verify-records entries (chained with the real entry_hash, bulk-inserted so the
   set-up does not take an hour), then the time to read it page by page through AuditStore.stream
   and check it with domain.chain.verify, as GET /v1/audit/verify does on this branch (which holds
   the whole log in memory first: 100,000 entries by default, and the figure per million is a linear
   extrapolation, said so in the results).
3. Bias report: --decisions rows in the report facts table (10% reviewed, 15% mentioning an identity
   group, one in four mentioning two, two languages, a shadow policy on all), then the time of the
   aggregation query and of build_report (200 bootstrap resamples), and of the HTML page with charts.

Results are appended to bench/results/audit-<date>.md with the commit and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from vigie_audit.adapters.facts import DecisionFact, ReportFacts, Scope, encode_groups
from vigie_audit.adapters.store import AuditRow, AuditStore, NewEntry
from vigie_audit.domain.bias import ReportConfig, build_report
from vigie_audit.domain.chain import GENESIS, entry_hash, verify
from vigie_audit.domain.identity_lexicon import GROUPS
from vigie_shared.db import create_engine

RESULTS = Path(__file__).resolve().parents[1] / "results"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def body(n: int) -> dict[str, Any]:
    """A moderation.decided body as the moderator publishes it (about 900 bytes of JSON)."""
    return {
        "comment": {"platform": "facebook", "community": "page-1", "thread_id": "post-1", "comment_id": f"c{n}"},
        "author": {"pseudonym": f"psn_{n:032x}", "display_name": None},
        "text": "Merci pour la vidéo, mais le son est trop faible au début, on entend mal la voix. " * 3,
        "language": "fr",
        "scores": {"toxicity": 0.0312, "insult": 0.0121, "threat": 0.0011, "identity_attack": 0.002,
                   "spam": 0.0102, "sentiment": 0.2231},
        "action": "allow",
        "reasons": [],
        "policy_version": "page-1/live/3",
        "model_versions": {"toxicity": "tox-2026-11-20", "sentiment": "sent-2026-11-20"},
        "shadow": {"policy_version": "page-1/shadow/4", "action": "allow", "reasons": []},
        "review_id": None,
    }  # fmt: skip


def new_entry(n: int, run: str) -> NewEntry:
    return NewEntry(
        event_id=f"{run}-{n}",
        event_type="moderation.decided",
        topic="vigie.moderation.decided.v1",
        record_key="facebook:page-1:post-1",
        source="vigie/moderator",
        time=(T0 + timedelta(seconds=n)).isoformat(),
        correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}/{n}")),
        community="page-1",
        body=body(n),
        recorded_at=datetime.now(UTC),
    )


async def bench_append(url: str, events: int, batch: int) -> float:
    engine = create_engine(url)
    try:
        store = AuditStore(engine)
        await store.migrate()
        run = uuid.uuid4().hex[:8]
        entries = [new_entry(n, run) for n in range(events)]
        started = time.perf_counter()
        for start in range(0, events, batch):
            await store.append(*entries[start : start + batch])
        return events / (time.perf_counter() - started)
    finally:
        await engine.dispose()


async def bench_verify(url: str, records: int) -> tuple[float, float, int]:
    """Returns (seconds to build, seconds to stream and verify, entries checked)."""
    engine = create_engine(url)
    try:
        store = AuditStore(engine)
        await store.migrate()
        started = time.perf_counter()
        prev = GENESIS
        chunk: list[dict[str, Any]] = []
        recorded = datetime.now(UTC)
        async with engine.begin() as connection:
            for n in range(records):
                entry = new_entry(n, "verify")
                digest = entry_hash(
                    prev,
                    event_id=entry.event_id,
                    event_type=entry.event_type,
                    source=entry.source,
                    time=entry.time,
                    correlation_id=entry.correlation_id,
                    body=entry.body,
                )
                chunk.append(
                    {
                        "seq": n + 1,
                        "event_id": entry.event_id,
                        "event_type": entry.event_type,
                        "topic": entry.topic,
                        "record_key": entry.record_key,
                        "source": entry.source,
                        "time": entry.time,
                        "correlation_id": entry.correlation_id,
                        "community": entry.community,
                        "body": entry.body,
                        "prev_hash": prev,
                        "hash": digest,
                        "recorded_at": recorded,
                    }
                )
                prev = digest
                if len(chunk) == 5000:
                    await connection.execute(insert(AuditRow), chunk)
                    chunk = []
            if chunk:
                await connection.execute(insert(AuditRow), chunk)
        built = time.perf_counter() - started
        started = time.perf_counter()
        entries = [entry async for entry in store.stream()]
        result = verify(entries)
        checked = time.perf_counter() - started
        if not result.ok or result.checked != records:
            raise RuntimeError(f"the benchmark log does not verify: {result}")
        return built, checked, result.checked
    finally:
        await engine.dispose()


def decision_rows(count: int, seed: int = 11, chunk: int = 10_000) -> Iterator[list[dict[str, Any]]]:
    """Chunks of rows, so a million never sit in memory at once."""
    rng = random.Random(seed)
    ids = [group.id for group in GROUPS]
    rows: list[dict[str, Any]] = []
    for n in range(count):
        groups: list[str] = []
        if rng.random() < 0.15:
            groups = rng.sample(ids, 2 if rng.random() < 0.25 else 1)
        action = rng.choices(("allow", "review", "hide", "remove"), (0.86, 0.10, 0.03, 0.01))[0]
        verdict = None
        score = rng.betavariate(1, 12)
        if action == "review":
            harmful = rng.random() < 0.7
            verdict = "harmful" if harmful else "acceptable"
            score = rng.betavariate(6, 3) if harmful else rng.betavariate(4, 4)
        rows.append(
            {
                "decision_id": f"d{n}",
                "community": "page-1",
                "platform": "facebook",
                "decided_at": T0 + timedelta(seconds=2 * n),
                "language": "fr" if n % 3 else "en",
                "identity_groups": encode_groups(groups),
                "action": action,
                "policy_version": "page-1/live/3",
                "shadow_action": rng.choices(("allow", "review", "hide", "remove"), (0.84, 0.12, 0.03, 0.01))[
                    0
                ],
                "shadow_policy_version": "page-1/shadow/4",
                "harm_score": round(score, 4),
                "sentiment": round(rng.uniform(-1, 1), 4),
                "verdict": verdict,
                "reviewed_at": T0 + timedelta(seconds=2 * n + 600) if verdict else None,
            }
        )
        if len(rows) == chunk:
            yield rows
            rows = []
    if rows:
        yield rows


async def bench_bias(url: str, decisions: int, repeats: int = 2) -> dict[str, float]:
    from vigie_audit import reports

    engine = create_engine(url)
    try:
        await AuditStore(engine).migrate()
        started = time.perf_counter()
        async with engine.begin() as connection:
            for rows in decision_rows(decisions):
                await connection.execute(insert(DecisionFact), rows)
        filled = time.perf_counter() - started
        facts = ReportFacts(engine)
        scope = Scope(frozenset({"page-1"}), T0, T0 + timedelta(days=60))
        timings: dict[str, list[float]] = {"query": [], "report": [], "charts": []}
        for _ in range(repeats):
            started = time.perf_counter()
            cells = await facts.bias_cells(scope)
            timings["query"].append(time.perf_counter() - started)
            started = time.perf_counter()
            report = build_report(cells, ReportConfig())
            timings["report"].append(time.perf_counter() - started)
            started = time.perf_counter()
            labels = {group.group: reports.label(group.group) for group in report.groups}
            reports.bias_charts(report, labels)
            timings["charts"].append(time.perf_counter() - started)
        assert report.volume == decisions, report.volume
        return {
            "fill": filled,
            "cells": float(len(cells)),
            "groups": float(len(report.groups)),
            **{name: min(values) for name, values in timings.items()},
        }
    finally:
        await engine.dispose()


async def postgres_database(base: str) -> tuple[str, str]:
    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = base.replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return base.rsplit("/", 1)[0] + f"/{name}", name


async def drop_postgres(base: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(base.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def machine() -> str:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    cpus = len(os.sched_getaffinity(0))
    return (
        f"{cpus} CPUs ({model}), Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"load average at the end {load} (the machine is shared with other work)"
    )


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


async def main(args: argparse.Namespace) -> None:
    lines: list[str] = []
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.postgres_url:
        backends.append(("postgresql", args.postgres_url))
    append_rows: list[str] = []
    verify_rows: list[str] = []
    bias_rows: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for backend, base in backends:

            async def database(
                label: str, backend: str = backend, base: str | None = base
            ) -> tuple[str, Any]:
                if base is None:
                    return f"sqlite+aiosqlite:///{scratch}/{label}.db", None
                url, name = await postgres_database(base)
                return url, name

            for batch, events in ((64, args.append_events), (1, max(1, args.append_events // 8))):
                url, name = await database(f"append{batch}")
                rate = await bench_append(url, events, batch)
                if name:
                    await drop_postgres(str(base), name)
                append_rows.append(f"| {backend} | {batch} | {events:,} | {rate:,.0f} |")
                print(append_rows[-1], flush=True)

            records = args.verify_records if backend == "sqlite" else args.verify_records_postgres
            url, name = await database("verify")
            built, checked, count = await bench_verify(url, records)
            if name:
                await drop_postgres(str(base), name)
            per_million = checked * 1_000_000 / count
            verify_rows.append(
                f"| {backend} | {count:,} | {checked:.1f} s | {count / checked:,.0f} | "
                f"{per_million:.0f} s{' (measured)' if count == 1_000_000 else ' (extrapolated, linear)'} |"
            )
            print(verify_rows[-1], f"(built in {built:.0f} s)", flush=True)

            url, name = await database("bias")
            timing = await bench_bias(url, args.decisions)
            if name:
                await drop_postgres(str(base), name)
            bias_rows.append(
                f"| {backend} | {args.decisions:,} | {int(timing['cells']):,} | {int(timing['groups'])} | "
                f"{timing['query']:.2f} s | {timing['report']:.2f} s | {timing['charts']:.2f} s | "
                f"{timing['query'] + timing['report'] + timing['charts']:.2f} s |"
            )
            print(bias_rows[-1], flush=True)

    now = datetime.now(UTC)
    lines += [
        f"## {now:%Y-%m-%d %H:%M} UTC, commit {commit()}",
        "",
        f"Machine: {machine()}.",
        "Chain measured: the one on this branch at that commit (`vigie_audit.domain.chain`: SHA-256 over "
        "canonical JSON of each entry and its predecessor's hash, no key, no checkpoint).",
        "",
        "### Append (AuditStore.append, moderation.decided bodies)",
        "",
        "| database | events per transaction | events | events/s |",
        "|---|---:|---:|---:|",
        *append_rows,
        "",
        "### Verify (read every entry in pages of 1,000, recompute the chain)",
        "",
        "| database | entries | time | entries/s | per million |",
        "|---|---:|---:|---:|---:|",
        *verify_rows,
        "",
        "### Bias report over a million decisions (facts table, default settings: 200 resamples)",
        "",
        "| database | decisions | cells returned | groups | query | metrics + bootstrap | charts | total |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *bias_rows,
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"audit-{now:%Y-%m-%d}.md"
    header = (
        ""
        if target.exists()
        else "# Audit benchmark\n\nProduced by `bench/audit/run.py`; newest run last.\n\n"
    )
    with target.open("a") as handle:
        handle.write(header + "\n".join(lines) + "\n")
    print(f"results appended to {target}")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--append-events", type=int, default=8_000)
    parser.add_argument("--verify-records", type=int, default=100_000)
    parser.add_argument("--verify-records-postgres", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
