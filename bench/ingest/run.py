"""Signed Meta webhooks accepted end to end by ingest, beside a bare FastAPI endpoint, same run.

    uv run python bench/ingest/run.py                       # embedded SQLite bus in a temp dir
    uv run python bench/ingest/run.py --bus-url kafka://127.0.0.1:9092

Both servers are real uvicorn processes on 127.0.0.1 with the same settings; the load comes from
this process over keep-alive HTTP/1.1 connections with a minimal client (an HTTP library would cost
more CPU than the bare endpoint and hide the difference). Every webhook carries a distinct comment,
so each one is verified, normalised, published and acknowledged by the bus before its 200; the bus
is read back at the end to check that every accepted comment is there.

Closed-loop runs at 1 and 50 concurrent clients give throughput and p50/p99; an open-loop run at a
fixed rate (200 req/s by default) gives the latency a platform sees at that load, measured from the
scheduled send time so a slow answer cannot hide the requests queued behind it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Request  # module level: the bare route's annotation must resolve

HOST = "127.0.0.1"
SECRET = "bench-meta-app-secret"
PSEUDONYM_KEY = "bench-pseudonym-key"
RESULTS = Path(__file__).resolve().parents[1] / "results"


# --- servers ---------------------------------------------------------------------------------


def serve(kind: str, port: int, bus_url: str, prefix: str, state_dir: str, log_level: str) -> None:
    """Runs in the child process: one uvicorn server, one worker, as an operator would start it."""
    import uvicorn

    if kind == "bare":
        from fastapi import FastAPI

        app = FastAPI()

        @app.post("/bare")
        async def bare(request: Request) -> dict[str, bool]:
            await request.body()
            return {"ok": True}

        @app.get("/readyz")
        async def ready() -> dict[str, str]:
            return {"status": "ready"}

    else:
        from vigie_ingest.app import create_app
        from vigie_ingest.settings import IngestSettings
        from vigie_shared.logging import configure_logging

        settings = IngestSettings(
            environment="test",
            bus_url=bus_url,
            bus_topic_prefix=prefix,
            meta_app_secret=SECRET,
            pseudonym_key=PSEUDONYM_KEY,
            idempotency_db_path=Path(state_dir) / "ingest-state.db",
            log_level=log_level,
            log_json=True,
        )
        configure_logging(settings.log_level, json=True)
        app = create_app(settings)
    uvicorn.run(app, host=HOST, port=port, log_config=None, access_log=False)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def start_server(kind: str, args: argparse.Namespace, workdir: Path) -> Server:
    port = free_port()
    log = workdir / f"{kind}.log"
    command = [
        sys.executable,
        __file__,
        "--serve",
        kind,
        "--port",
        str(port),
        "--bus-url",
        args.bus_url,
        "--topic-prefix",
        args.topic_prefix,
        "--state-dir",
        str(workdir),
        "--log-level",
        args.log_level,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=sink)  # noqa: ASYNC220
    server = Server(kind, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} server exited:\n{log.read_text()[-3000:]}")
        try:
            connection = await Connection.open(port)
            status, _ = await connection.send(f"GET /readyz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            connection.close()
            if status == 200:
                return server
        except OSError:
            pass
        await asyncio.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{kind} server not ready:\n{log.read_text()[-3000:]}")


# --- load ------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; responses are read by their Content-Length."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        self.writer.close()


def meta_requests(path: str, count: int, run: str) -> Iterator[bytes]:
    """Distinct signed Facebook feed comments, as Meta sends them (signature over the raw body)."""
    for n in range(count):
        payload = {
            "object": "page",
            "entry": [
                {
                    "id": "bench-page",
                    "time": int(time.time()),
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "post_id": f"bench-page_{n % 97}",
                                "comment_id": f"bench-page_{run}_{n}",
                                "from": {"id": f"{1000000 + n}", "name": "Bench User"},
                                "message": f"Comment number {n}: ça marche très bien, merci !",
                                "created_time": int(time.time()),
                            },
                        }
                    ],
                }
            ],
        }
        body = json.dumps(payload).encode()
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: sha256={signature}\r\n\r\n"
        )
        yield head.encode() + body


@dataclass
class Result:
    label: str
    concurrency: int | str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
        return ordered[index] * 1000


def accepted(kind: str, status: int, body: bytes) -> bool:
    if status != 200:
        return False
    return kind == "bare" or b'"published":1' in body


async def closed_loop(kind: str, port: int, requests: Sequence[bytes], concurrency: int) -> Result:
    connections = [await Connection.open(port) for _ in range(concurrency)]
    latencies: list[float] = []
    errors = 0
    queue = iter(requests)

    async def worker(connection: Connection) -> None:
        nonlocal errors
        for raw in queue:
            started = time.perf_counter()
            status, body = await connection.send(raw)
            latencies.append(time.perf_counter() - started)
            errors += not accepted(kind, status, body)

    began = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - began
    for connection in connections:
        connection.close()
    return Result(kind, concurrency, len(requests), errors, elapsed, latencies)


async def open_loop(kind: str, port: int, requests: Sequence[bytes], rate: float, pool: int) -> Result:
    """Sends at a fixed rate whatever the answers do; latency counts from the scheduled time."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(pool):
        idle.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    errors = 0

    async def one(raw: bytes, scheduled: float) -> None:
        nonlocal errors
        connection = await idle.get()
        try:
            status, body = await connection.send(raw)
        finally:
            idle.put_nowait(connection)
        latencies.append(time.perf_counter() - scheduled)
        errors += not accepted(kind, status, body)

    tasks = []
    began = time.perf_counter()
    for n, raw in enumerate(requests):
        scheduled = began + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raw, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    while not idle.empty():
        idle.get_nowait().close()
    return Result(kind, f"{rate:g}/s", len(requests), errors, elapsed, latencies)


async def count_published(args: argparse.Namespace, expected: int) -> int:
    """Reads the comments topic back from the bus: what was acknowledged must be there."""
    from vigie_shared.bus import open_bus
    from vigie_shared.events.v1 import TOPICS

    bus = open_bus(args.bus_url, client_id="bench-verify", topic_prefix=args.topic_prefix)
    await bus.start()
    consumer = bus.consumer(f"bench-verify-{uuid.uuid4().hex[:8]}", [TOPICS["comment.received"]])
    await consumer.start()
    seen = 0
    deadline = time.monotonic() + 60
    try:
        while seen < expected and time.monotonic() < deadline:
            seen += len(await consumer.fetch(1000, timeout=1.0))
    finally:
        await consumer.stop()
        await bus.close()
    return seen


async def drop_kafka_topics(args: argparse.Namespace) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from vigie_shared.bus.kafka import bootstrap_from_url
    from vigie_shared.events.v1 import ALL_TOPICS, DEADLETTER_TOPIC

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_from_url(args.bus_url))
    await admin.start()
    try:
        await admin.delete_topics([args.topic_prefix + t for t in (*ALL_TOPICS, DEADLETTER_TOPIC)])
    finally:
        await admin.close()


# --- report ----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "load": load,
        "nproc": str(nproc),
        "cpu": model,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def stack() -> str:
    """What uvicorn's `auto` picks here: it changes both servers' figures a lot."""
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop} + {http}"


def render(
    args: argparse.Namespace,
    closed: list[tuple[Result, Result]],
    paced: Result,
    published: int,
    accepted_total: int,
) -> str:
    now = datetime.now(UTC)
    info = machine()
    bus = (
        args.bus_url.split("://", 1)[0]
        + "://"
        + ("(temp dir)" if args.bus_url.startswith("sqlite") else args.bus_url.split("://", 1)[1])
    )
    lines = [
        f"## {now:%Y-%m-%d %H:%M} UTC: bus {bus}",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, {info['os']}; "
        f"load average at the end {info['load']} (the machine is shared: other work competes). "
        f"Servers: uvicorn ({stack()}), one worker each, on {HOST}; ingest log level {args.log_level}. "
        f"Load: {args.warmup} warm-up requests, then the counts below.",
        "",
        "| server | clients | requests | errors | req/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for bare, ingest in closed:
        for result in (bare, ingest):
            name = "bare FastAPI" if result.label == "bare" else "ingest (signed Meta webhook)"
            lines.append(
                f"| {name} | {result.concurrency} | {result.requests} | {result.errors} | "
                f"{result.rate:,.0f} | {result.percentile(0.50):.2f} | {result.percentile(0.99):.2f} |"
            )
    lines.append("")
    for bare, ingest in closed:
        lines.append(
            f"- Ratio at {bare.concurrency} client(s): ingest / bare = **{ingest.rate / bare.rate:.2f}** "
            f"(goal: at least 0.50)."
        )
    verdict = "met" if paced.percentile(0.99) < 50 and paced.errors == 0 else "NOT met"
    lines += [
        f"- Paced at {paced.concurrency} for {paced.requests} requests: achieved "
        f"{paced.rate:,.0f} req/s, p50 {paced.percentile(0.50):.2f} ms, "
        f"**p99 {paced.percentile(0.99):.2f} ms** (goal under 50 ms: {verdict}).",
        f"- End to end: {accepted_total} webhooks answered 200 with the comment published; "
        f"{published} comment.received records read back from the bus.",
        "",
    ]
    return "\n".join(lines)


def write(report: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"ingest-{datetime.now(UTC):%Y-%m-%d}.md"
    if not path.exists():
        path.write_text(
            "# Ingest benchmark\n\nWritten by `bench/ingest/run.py`; each run appends a section.\n\n"
        )
    with path.open("a") as out:
        out.write(report + "\n")
    return path


# --- main ------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as tmp:
        workdir = Path(tmp)
        if not args.bus_url:
            args.bus_url = f"sqlite:///{workdir}/bus.db"
        run = uuid.uuid4().hex[:8]
        bare = await start_server("bare", args, workdir)
        ingest = await start_server("ingest", args, workdir)
        closed: list[tuple[Result, Result]] = []
        accepted_total = 0
        try:
            warm = list(meta_requests("/webhooks/meta", args.warmup, f"{run}w"))
            await closed_loop("ingest", ingest.port, warm, 4)
            await closed_loop("bare", bare.port, [r.replace(b"/webhooks/meta", b"/bare", 1) for r in warm], 4)
            accepted_total += args.warmup
            for concurrency, count in ((1, args.requests_single), (50, args.requests_many)):
                load = list(meta_requests("/webhooks/meta", count, f"{run}c{concurrency}"))
                bare_load = [r.replace(b"/webhooks/meta", b"/bare", 1) for r in load]
                bare_result = await closed_loop("bare", bare.port, bare_load, concurrency)
                ingest_result = await closed_loop("ingest", ingest.port, load, concurrency)
                accepted_total += ingest_result.requests - ingest_result.errors
                closed.append((bare_result, ingest_result))
                print(
                    f"  {concurrency:>2} clients: bare {bare_result.rate:,.0f} req/s, ingest {ingest_result.rate:,.0f} req/s",
                    file=sys.stderr,
                )
            paced_load = list(meta_requests("/webhooks/meta", int(args.rate * args.paced_seconds), f"{run}p"))
            paced = await open_loop("ingest", ingest.port, paced_load, args.rate, pool=50)
            accepted_total += paced.requests - paced.errors
        finally:
            bare.stop()
            ingest.stop()
        published = await count_published(args, accepted_total)
        if args.bus_url.startswith("kafka://") and not args.keep_topics:
            await drop_kafka_topics(args)
        report = render(args, closed, paced, published, accepted_total)
        print(report)
        print(f"written to {write(report)}", file=sys.stderr)
        return 0 if published >= accepted_total else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bus-url", default="", help="default: embedded SQLite bus in a temp dir")
    parser.add_argument("--topic-prefix", default=f"bench-{uuid.uuid4().hex[:12]}.")
    parser.add_argument("--requests-single", type=int, default=2_000, help="requests at 1 client")
    parser.add_argument("--requests-many", type=int, default=5_000, help="requests at 50 clients")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rate", type=float, default=200.0, help="paced run, requests per second")
    parser.add_argument("--paced-seconds", type=float, default=15.0)
    parser.add_argument("--log-level", default="INFO", help="ingest's log level (logs go to a file)")
    parser.add_argument("--keep-topics", action="store_true", help="keep the run's Kafka topics")
    parser.add_argument("--serve", choices=["bare", "ingest"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.bus_url, args.topic_prefix, args.state_dir, args.log_level)
        return 0
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
