"""Moderator throughput: the raw encoder, the scorer adapter, the whole consumer (and POST /v1/score).

All figures come from one run on one machine, so their ratios mean something even on a noisy host:
the adapter and service figures are read against the raw encoder (the encoder graph alone, fed token
ids prepared beforehand, length-bucketed batches of 32, with as many intra-op threads as the service
uses), measured before and after the consumer runs; the ratio uses their mean and both are printed,
so a load change during the run shows. Each path is also given in texts per CPU-second (user +
system time of the process doing the work, all its threads): on a shared machine that ratio moves
much less than the wall-clock one. Texts are synthetic French and English comments built here,
all distinct (the score cache must not flatter the ratio); no data set text is read or printed.
The consumer runs as a subprocess (RSS read from /proc) with the default explanation budget, then
explaining every comment the policy acts on.

    uv run python bench/moderator/run.py [--texts 1000] [--bus-url kafka://127.0.0.1:9092] [--endpoint]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import onnxruntime as ort
from vigie_encoder import Encoder
from vigie_encoder.runtime import default_threads
from vigie_moderator.adapters.encoder_scorer import EncoderScorer
from vigie_shared.auth import Role, TokenEntry, hash_token, write_token_file
from vigie_shared.bus import decode, open_bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import (
    TOPICS,
    Action,
    Author,
    CommentReceived,
    CommentRef,
    ModerationDecided,
    Platform,
)

ROOT = Path(__file__).resolve().parents[2]

_EN = [
    "great video",
    "thanks for sharing",
    "when is the next live",
    "this is so stupid",
    "you are an idiot",
    "subscribe to my channel",
    "check out http://spam.example",
    "I love this product",
    "worst service ever",
    "can someone help me with my order",
    "lol",
    "nobody cares about your opinion",
]
_FR = [
    "super vidéo",
    "merci pour le partage",
    "c'est quand le prochain live",
    "c'est vraiment nul",
    "t'es un crétin",
    "abonnez-vous à ma chaîne",
    "j'adore ce produit",
    "service client catastrophique",
    "quelqu'un peut m'aider pour ma commande",
    "mdr",
    "personne ne t'a demandé ton avis",
]


def corpus(n: int, seed: int = 7) -> list[str]:
    """n distinct comments (a repeat would be a cache hit, not encoder work)."""
    rng = random.Random(seed)
    texts: dict[str, None] = {}
    while len(texts) < n:
        words = _EN if rng.random() < 0.5 else _FR
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4))) + rng.choice(
            ["", "!", "?", " 😀"]
        )
        texts.setdefault(text, None)
    return list(texts)


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def rss_mib(pid: int | str = "self", field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Rate:
    """Texts per second of wall time, and per second of CPU time (user + system, all threads).

    On a shared machine the wall rate moves with the neighbours' load; the CPU rate much
    less, so the ratio of CPU rates is the steadier measure of what a path adds."""

    wall: float
    cpu: float


def cpu_seconds(pid: int | str = "self") -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(n: int, work: Callable[[], object]) -> Rate:
    wall, cpu = time.perf_counter(), cpu_seconds()
    work()
    return Rate(n / (time.perf_counter() - wall), n / max(cpu_seconds() - cpu, 1e-9))


def raw_encoder(texts: list[str], threads: int, batch: int = 32) -> Rate:
    """The encoder graph alone on token ids prepared beforehand: the ceiling the other figures meet."""
    encoder = Encoder.load(threads=threads)
    ids = encoder.token_ids(texts)
    encoder.embed_ids(ids[:batch])
    return timed(
        len(texts), lambda: [encoder.embed_ids(ids[i : i + batch]) for i in range(0, len(ids), batch)]
    )


def adapter(score: Callable[[list[str]], object], texts: list[str], batch: int) -> Rate:
    return timed(len(texts), lambda: [score(texts[i : i + batch]) for i in range(0, len(texts), batch)])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "vigie_moderator"],
            env={**os.environ, **env, "VIGIE_PORT": str(port), "VIGIE_LOG_LEVEL": "WARNING"},
            stdout=out,
            stderr=out,
        )


async def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        while time.monotonic() < end:
            if process.poll() is not None:
                raise RuntimeError("moderator exited during start-up")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("moderator not ready")


async def score_endpoint(port: int, token: str, texts: list[str], batch: int, pid: int) -> Rate:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        headers = {"Authorization": f"Bearer {token}"}
        started, cpu = time.perf_counter(), cpu_seconds(pid)
        for i in range(0, len(texts), batch):
            response = await client.post(
                "/v1/score", json={"texts": texts[i : i + batch], "community": "bench"}, headers=headers
            )
            response.raise_for_status()
        return Rate(len(texts) / (time.perf_counter() - started), len(texts) / (cpu_seconds(pid) - cpu))


@dataclass
class ConsumerRun:
    rate: Rate
    acted: int  # decisions other than allow
    explained: int  # of those, with named words in their reasons
    rss: float
    peak_rss: float


async def consumer(
    bus_url: str, workdir: Path, texts: list[str], batch: int, token_file: Path, explain_budget: float | None
) -> ConsumerRun:
    """Comments already on the bus; the clock runs from the first decision seen to the last."""
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    bus = open_bus(bus_url, client_id="bench", topic_prefix=prefix)
    await bus.start()
    now = datetime.now(UTC)
    for n, text in enumerate(texts):
        event = Envelope.wrap(
            CommentReceived(
                comment=CommentRef(
                    platform=Platform.GENERIC, community="bench", thread_id=str(n % 50), comment_id=str(n)
                ),
                author=Author(pseudonym="psn_bench"),
                text=text,
                created_at=now,
                received_at=now,
            ),
            source="vigie/bench",
            correlationid=str(n),
        )
        await bus.publish(TOPICS["comment.received"], event.data.key(), event.body(), event.headers())
    port = free_port()
    env = {
        "VIGIE_BUS_URL": bus_url,
        "VIGIE_BUS_TOPIC_PREFIX": prefix,
        "VIGIE_CONSUMER_GROUP": f"{prefix}moderator",
        "VIGIE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/{prefix}db",
        "VIGIE_API_TOKENS_FILE": str(token_file),
        "VIGIE_BATCH_MAX_RECORDS": str(batch),
    }
    if explain_budget is not None:
        env["VIGIE_EXPLAIN_BUDGET"] = str(explain_budget)
    reader = bus.consumer(f"{prefix}reader", [TOPICS["moderation.decided"]])
    await reader.start()
    process = start_service(env, port, workdir / "consumer.log")
    try:
        first: float | None = None
        seen = acted = explained = 0
        end = time.monotonic() + 600
        while seen < len(texts) and time.monotonic() < end:
            got = await reader.fetch(1000, 0.2)
            if got and first is None:
                first = time.perf_counter()
                first_cpu = cpu_seconds(process.pid)
                first_count = len(got)
            seen += len(got)
            for message in got:
                decided = decode(message).data
                assert isinstance(decided, ModerationDecided)
                if decided.action is not Action.ALLOW:
                    acted += 1
                    explained += any("(terms:" in r for r in decided.reasons)
        if first is None or seen < len(texts):
            raise RuntimeError(f"only {seen} of {len(texts)} decisions arrived")
        # Start-up (model loading, group join) is excluded: measured from the first decision seen.
        done = seen - first_count
        rate = Rate(done / (time.perf_counter() - first), done / (cpu_seconds(process.pid) - first_cpu))
        return ConsumerRun(rate, acted, explained, rss_mib(process.pid), rss_mib(process.pid, "VmHWM"))
    finally:
        process.terminate()
        process.wait(timeout=30)
        await reader.stop()
        await bus.close()


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{platform.node()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, onnxruntime {ort.__version__}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--bus-url", default=None, help="default: an embedded SQLite bus in a temp dir")
    parser.add_argument("--batch", type=int, default=64, help="the consumer's VIGIE_BATCH_MAX_RECORDS")
    parser.add_argument("--endpoint", action="store_true", help="also time POST /v1/score")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    texts = corpus(args.texts)
    threads = default_threads()
    started_at = datetime.now(UTC)
    loads = [load_average()]
    rows: list[tuple[str, int, Rate]] = []

    raw_before = raw_encoder(texts, threads)
    before = rss_mib()
    scorer = EncoderScorer.load(cache_size=0)
    loaded = rss_mib()
    scorer.score(texts[:64])
    rows.append(
        (
            "EncoderScorer.score_only (tokenise, language, signals, heads)",
            32,
            adapter(scorer.score_only, texts, 32),
        )
    )
    rows.append(
        (
            "EncoderScorer.score (+ explanations over the suggested thresholds)",
            32,
            adapter(scorer.score, texts, 32),
        )
    )
    runs: list[tuple[str, ConsumerRun]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        token = "vgt_bench_" + uuid.uuid4().hex
        token_file = workdir / "tokens.json"
        write_token_file(token_file, [TokenEntry(name="bench", sha256=hash_token(token), roles=[Role.ADMIN])])
        bus_url = args.bus_url or f"sqlite:///{workdir}/bus.db"
        bus_name = bus_url.split(":")[0]
        loads.append(load_average())
        for label, budget in (("default explanation budget", None), ("explaining all it acts on", 1e9)):
            run = await consumer(bus_url, workdir, texts, args.batch, token_file, budget)
            runs.append((f"consumer, bus in -> decision out ({bus_name}), {label}", run))
            rows.append((runs[-1][0], args.batch, run.rate))
        loads.append(load_average())
        if args.endpoint:
            rows += await endpoint_rows(workdir, token_file, token, bus_url, texts)
    raw_after = raw_encoder(texts, threads)
    loads.append(load_average())
    raw = Rate((raw_before.wall + raw_after.wall) / 2, (raw_before.cpu + raw_after.cpu) / 2)
    rows[:0] = [
        (f"raw encoder, {threads} intra-op thread(s), before", 32, raw_before),
        (f"raw encoder, {threads} intra-op thread(s), after", 32, raw_after),
    ]

    lines = [
        f"# Moderator benchmark, {started_at:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}; commit {commit()}. Load average (1/5/15 min) at the start, before the "
        f"consumer, after it, at the end: {'; '.join(loads)} (the machine is shared: read ratios, "
        "not absolute figures across runs).",
        f"{len(texts)} distinct synthetic fr/en comments per figure; the encoder uses {threads} intra-op "
        "thread(s); the score cache is off in-process and cannot hit in the consumer (no repeats).",
        "",
        "| path | batch | texts/s | share of the raw encoder's texts/s (mean of before/after) "
        "| texts per CPU-second | share of the raw encoder's texts per CPU-second |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {name} | {batch} | {value.wall:,.0f} | {value.wall / raw.wall:.0%} | {value.cpu:,.1f} "
            f"| {value.cpu / raw.cpu:.0%} |"
            for name, batch, value in rows
        ),
        "",
        *(
            f"- {name}: {run.acted} of {len(texts)} comments acted on (not allowed), {run.explained} of "
            f"those explained; RSS {run.rss:.0f} MiB at the end, peak {run.peak_rss:.0f} MiB."
            for name, run in runs
        ),
        f"- Bench process: {before:.0f} MiB before loading the scorer, {loaded:.0f} MiB after.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"moderator-{started_at:%Y-%m-%d}.md"
    # One file a day, one section a run: runs on the two buses sit side by side.
    with path.open("a") as out:
        out.write(report + "\n")
    print(f"written to {path}")


async def endpoint_rows(
    workdir: Path, token_file: Path, token: str, bus_url: str, texts: list[str]
) -> list[tuple[str, int, Rate]]:
    port = free_port()
    service = start_service(
        {
            "VIGIE_BUS_URL": bus_url,
            "VIGIE_BUS_TOPIC_PREFIX": f"b{uuid.uuid4().hex[:6]}.",
            "VIGIE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/score.db",
            "VIGIE_API_TOKENS_FILE": str(token_file),
            "VIGIE_SCORE_CACHE_SIZE": "0",
        },
        port,
        workdir / "service.log",
    )
    try:
        await wait_ready(port, service)
        await score_endpoint(port, token, texts[:128], 16, service.pid)
        return [
            (
                "POST /v1/score (1 client, explanations as score; CPU: the service's)",
                batch,
                await score_endpoint(port, token, texts, batch, service.pid),
            )
            for batch in (1, 32)
        ]
    finally:
        service.terminate()
        service.wait(timeout=30)


def commit() -> str:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    return found.stdout.strip() + (" (with uncommitted changes)" if dirty.strip() else "")


if __name__ == "__main__":
    asyncio.run(main())
