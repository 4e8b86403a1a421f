"""The whole pipeline under load: signed webhooks at rising rates through all four services.

    uv run python bench/pipeline/run.py                               # embedded SQLite bus
    uv run python bench/pipeline/run.py --bus-url kafka://127.0.0.1:9092

The four services run as processes (`python -m vigie_<service>`, as an operator starts them) on one
bus, with SQLite stores in a temporary directory. Webhooks are sent open-loop at a fixed rate for a
fixed time; each carries one distinct comment. Latency is webhook -> decision: from the scheduled
send time to the moment this process reads the comment's `moderation.decided` off the bus, so it
includes ingest, the bus twice, scoring and this reader's own poll (50 ms on the embedded bus).

A rate is sustained when every webhook got its 200, every comment got its decision within the
drain time, and p99 webhook -> decision stayed under 1 s. The rate grows by --step until one is
not sustained twice in a row (the machine is shared; one bad step may be a neighbour's); then the
highest sustained rate is measured again at 25, 50 and 75 % of it. RSS of
each service (and of the Kafka broker, found by its port) is read from /proc after each step.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
SERVICES = ("audit", "responder", "moderator", "ingest")


def _ingest_bench() -> ModuleType:
    """The minimal HTTP client and the signed Meta deliveries of bench/ingest (not a package)."""
    spec = importlib.util.spec_from_file_location("bench_ingest_run", HERE.parent / "ingest" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ib = _ingest_bench()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def broker_pid(bus_url: str) -> int | None:
    """The process listening on the Kafka port (the local broker), if this user can see it."""
    if not bus_url.startswith("kafka://"):
        return None
    port = bus_url.removeprefix("kafka://").split(",")[0].rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=False)
    marker = "pid="
    if marker in out.stdout:
        return int(out.stdout.split(marker, 1)[1].split(",", 1)[0])
    return None


def env_for(service: str, args: argparse.Namespace, workdir: Path, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "VIGIE_ENVIRONMENT": "test",
        "VIGIE_PORT": str(port),
        "VIGIE_BUS_URL": args.bus_url,
        "VIGIE_BUS_TOPIC_PREFIX": args.topic_prefix,
        "VIGIE_CONSUMER_GROUP": f"{args.topic_prefix}{service}",
        "VIGIE_LOG_LEVEL": args.log_level,
        "VIGIE_LOG_JSON": "true",
    }
    if service == "ingest":
        env |= {
            "VIGIE_META_APP_SECRET": ib.SECRET,
            "VIGIE_PSEUDONYM_KEY": ib.PSEUDONYM_KEY,
            "VIGIE_IDEMPOTENCY_DB_PATH": str(workdir / "ingest-state.db"),
        }
    else:
        env["VIGIE_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir}/{service}.db"
    return env


async def start(args: argparse.Namespace, workdir: Path) -> dict[str, Service]:
    services: dict[str, Service] = {}
    for name in SERVICES:
        port = free_port()
        log = workdir / f"{name}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
                [sys.executable, "-m", f"vigie_{name}"],
                env=env_for(name, args, workdir, port),
                stdout=sink,
                stderr=sink,
            )
        services[name] = Service(name, port, process, log)
    for service in services.values():
        deadline = time.monotonic() + 120
        while True:
            if service.process.poll() is not None:
                raise RuntimeError(f"{service.name} exited:\n{service.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, ConnectionError, ValueError):
                connection = await ib.Connection.open(service.port)
                status, _ = await connection.send(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                connection.close()
                if status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service.name} not ready:\n{service.log.read_text()[-3000:]}")
            await asyncio.sleep(0.3)
    return services


class DecisionWatcher:
    """Reads `moderation.decided` from the bus and notes when each comment's decision arrived."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self.seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> DecisionWatcher:
        from vigie_shared.bus import open_bus
        from vigie_shared.events.v1 import TOPICS

        self._bus = open_bus(
            self._args.bus_url, client_id="bench-watch", topic_prefix=self._args.topic_prefix
        )
        await self._bus.start()
        self._consumer = self._bus.consumer(
            f"bench-watch-{uuid.uuid4().hex[:8]}", [TOPICS["moderation.decided"]]
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        from vigie_shared.bus import decode

        while True:
            batch = await self._consumer.fetch(1000, timeout=0.05)
            now = time.perf_counter()
            for message in batch:
                event = decode(message)
                comment = getattr(event.data, "comment", None)
                if comment is not None:
                    self.seen.setdefault(comment.comment_id, now)

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()
        await self._bus.close()


@dataclass
class Step:
    rate: float
    sent: int
    errors: int
    decided: int
    latencies: list[float] = field(default_factory=list)
    rss: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000

    @property
    def sustained(self) -> bool:
        return self.errors == 0 and self.decided == self.sent and self.pct(0.99) < 1000


async def step(
    rate: float,
    args: argparse.Namespace,
    services: dict[str, Service],
    watcher: DecisionWatcher,
    broker: int | None,
) -> Step:
    run = uuid.uuid4().hex[:8]
    count = max(1, round(rate * args.seconds))
    requests = list(ib.meta_requests("/webhooks/meta", count, run))
    ids = [f"bench-page_{run}_{n}" for n in range(count)]
    scheduled: dict[str, float] = {}
    # Last in, first out: at low rates a FIFO pool would leave each connection idle past uvicorn's
    # 5 s keep-alive, and the server would close it under the next request.
    idle: asyncio.LifoQueue[object] = asyncio.LifoQueue()
    for _ in range(args.connections):
        idle.put_nowait(await ib.Connection.open(services["ingest"].port))
    errors = 0

    async def one(raw: bytes, when: float) -> None:
        nonlocal errors
        connection: Any = await idle.get()
        try:
            try:
                status, body = await connection.send(raw)
            except (OSError, ConnectionError, asyncio.IncompleteReadError):
                # Closed by the server while idle: a platform would reconnect and redeliver too.
                connection.close()
                connection = await ib.Connection.open(services["ingest"].port)
                status, body = await connection.send(raw)
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            errors += 1
            return
        finally:
            idle.put_nowait(connection)
        errors += not ib.accepted("ingest", status, body)

    cpu_before = {name: cpu_seconds(s.process.pid) for name, s in services.items()}
    tasks = []
    began = time.perf_counter()
    for n, raw in enumerate(requests):
        when = began + n / rate
        delay = when - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        scheduled[ids[n]] = when
        tasks.append(asyncio.create_task(one(raw, when)))
    await asyncio.gather(*tasks)
    deadline = time.perf_counter() + args.drain
    # Polled: the watcher fills a dict, and 50 ms is well under the latencies measured.
    while time.perf_counter() < deadline and not all(i in watcher.seen for i in ids):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    while not idle.empty():
        idle.get_nowait().close()  # type: ignore[attr-defined]
    latencies = [watcher.seen[i] - scheduled[i] for i in ids if i in watcher.seen]
    rss = {name: s.rss_mb() for name, s in services.items()}
    # CPU each service spent during the step and its drain, in seconds: which one is hottest.
    cpu = {name: cpu_seconds(s.process.pid) - cpu_before[name] for name, s in services.items()}
    if broker is not None:
        rss["kafka broker"] = rss_mb(broker)
    result = Step(rate, count, errors, len(latencies), latencies, rss, cpu)
    print(
        f"{rate:7.1f}/s sent {count:5d} errors {errors:3d} decided {result.decided:5d} "
        f"p50 {result.pct(0.5):7.1f} p95 {result.pct(0.95):7.1f} p99 {result.pct(0.99):7.1f} ms "
        f"{'ok' if result.sustained else 'NOT sustained'} cpu "
        + " ".join(f"{k} {v:.1f}s" for k, v in cpu.items()),
        file=sys.stderr,
    )
    return result


async def main_async(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="vigie-pipeline-") as tmp:
        workdir = Path(tmp)
        if args.bus_url == "embedded":
            args.bus_url = f"sqlite:///{workdir}/bus.db"
        services = await start(args, workdir)
        broker = broker_pid(args.bus_url)
        try:
            async with DecisionWatcher(args) as watcher:
                # Warm-up: models loaded, connections open, topics created; not reported.
                await step(max(1.0, args.start / 2), args, services, watcher, broker)
                ramp: list[Step] = []
                rate = args.start
                while rate <= args.max_rate:
                    result = await step(rate, args, services, watcher, broker)
                    ramp.append(result)
                    if not result.sustained:
                        # On a shared machine one step can lose to a neighbour's burst: a rate
                        # counts as not sustained only when a second try fails too.
                        result = await step(rate, args, services, watcher, broker)
                        ramp.append(result)
                    if not result.sustained:
                        if any(s.sustained for s in ramp) or rate / 2 < 1:
                            break
                        rate = round(rate / 2, 1)  # the first rate was already too high
                        continue
                    rate = round(rate * args.step, 1)
                best = max((s.rate for s in ramp if s.sustained), default=0.0)
                fractions = []
                flame: FlameGraph | None = None
                if best:
                    for share in (0.25, 0.5, 0.75):
                        profiler = None
                        if share == 0.75 and args.flame:
                            profiler = FlameGraph.start(services[args.flame], args)
                        fractions.append((share, await step(best * share, args, services, watcher, broker)))
                        if profiler is not None:
                            flame = profiler.finish()
        finally:
            for service in services.values():
                service.stop()
            if args.bus_url.startswith("kafka://"):
                await ib.drop_kafka_topics(args)  # the shared broker keeps no bench topics
    return render(args, ramp, best, fractions, flame)


@dataclass
class FlameGraph:
    """py-spy sampling one service for the length of a step; the SVG goes to bench/results/."""

    service: str
    path: Path
    process: subprocess.Popen[bytes]
    top: list[tuple[float, str]] = field(default_factory=list)

    @classmethod
    def start(cls, service: Service, args: argparse.Namespace) -> FlameGraph:
        bus = "kafka" if args.bus_url.startswith("kafka://") else "embedded"
        path = RESULTS / f"pipeline-flame-{service.name}-{bus}-{datetime.now(UTC):%Y-%m-%d}.svg"
        py_spy = Path(sys.executable).with_name("py-spy")
        command = [
            str(py_spy), "record", "--pid", str(service.process.pid), "--duration", str(int(args.seconds)),
            "--rate", "100", "--nonblocking", "--format", "flamegraph", "--output", str(path),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return cls(service.name, path, process)

    def finish(self) -> FlameGraph:
        _, err = self.process.communicate(timeout=120)
        if self.process.returncode != 0 or not self.path.exists():
            print(f"py-spy failed: {err.decode()[-500:]}", file=sys.stderr)
            return self
        # Frames of our own code by inclusive share of samples, read from the SVG's titles.
        best: dict[str, float] = {}
        for title in re.findall(r"<title>(.*?)</title>", self.path.read_text()):
            found = re.fullmatch(r"(.+) \(([\d,]+) samples?, ([\d.]+)%\)", html.unescape(title))
            if found and ("vigie" in found[1] or "starlette" in found[1] or "fastapi" in found[1]):
                best[found[1]] = max(best.get(found[1], 0.0), float(found[3]))
        self.top = sorted(((share, frame) for frame, share in best.items()), reverse=True)[:12]
        return self


def commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=HERE
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], capture_output=True, text=True, check=False, cwd=HERE
    )
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def render(
    args: argparse.Namespace,
    ramp: list[Step],
    best: float,
    fractions: list[tuple[float, Step]],
    flame: FlameGraph | None,
) -> str:
    info = ib.machine()
    bus = "Kafka " + args.bus_url if args.bus_url.startswith("kafka://") else "embedded SQLite bus"
    lines = [
        f"## Pipeline on {bus}",
        "",
        f"Date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}. Machine: {info['nproc']} CPUs "
        f"({info['cpu']}), Python {info['python']}, {info['os']}, {ib.stack()}; load average at the end "
        f"{info['load']} (the machine is shared: other work competes).",
        "",
        f"Open loop, {args.seconds:g} s per rate, {args.connections} connections, drain {args.drain:g} s; "
        "latency = webhook scheduled -> `moderation.decided` read back from the bus.",
        "",
        "| rate (webhooks/s) | sent | errors | decided | p50 ms | p95 ms | p99 ms | sustained |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in ramp:
        lines.append(
            f"| {s.rate:g} | {s.sent} | {s.errors} | {s.decided} | {s.pct(0.5):.0f} | {s.pct(0.95):.0f} "
            f"| {s.pct(0.99):.0f} | {'yes' if s.sustained else 'no'} |"
        )
    lines += ["", f"Highest sustained rate: **{best:g} webhooks/s** (p99 webhook -> decision under 1 s).", ""]
    if fractions:
        lines += [
            "| share of it | rate | p50 ms | p95 ms | p99 ms | decided/sent |",
            "|---|---|---|---|---|---|",
        ]
        for share, s in fractions:
            lines.append(
                f"| {share:.0%} | {s.rate:g} | {s.pct(0.5):.0f} | {s.pct(0.95):.0f} | {s.pct(0.99):.0f} "
                f"| {s.decided}/{s.sent} |"
            )
        lines.append("")
    last = (fractions[-1][1] if fractions else ramp[-1]) if ramp else None
    if last is not None:
        lines.append(
            "RSS after the last step (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in last.rss.items()) + "."
        )
        lines.append(
            "CPU seconds per service during that step (hottest first): "
            + ", ".join(f"{k} {v:.1f}" for k, v in sorted(last.cpu.items(), key=lambda kv: -kv[1]))
            + "."
        )
        lines.append("")
    if flame is not None and flame.top:
        lines += [
            f"Flame graph of {flame.service} at 75 % ({flame.path.name}, py-spy, 100 Hz). "
            "Largest frames of application and framework code, by inclusive share of samples:",
            "",
            "| % of samples | frame |",
            "|---|---|",
            *(f"| {share:.1f} | `{frame}` |" for share, frame in flame.top),
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--bus-url", default="embedded", help="kafka://host:port, or embedded (a temp SQLite bus)"
    )
    parser.add_argument("--topic-prefix", default=f"bench{uuid.uuid4().hex[:6]}.")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each rate step")
    parser.add_argument("--start", type=float, default=10.0, help="first rate, webhooks/s")
    parser.add_argument("--step", type=float, default=1.5, help="rate multiplier between steps")
    parser.add_argument("--max-rate", type=float, default=2000.0)
    parser.add_argument("--drain", type=float, default=10.0, help="seconds to wait for the last decisions")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--flame", choices=SERVICES, default=None, help="py-spy this service at 75 %%")
    parser.add_argument("--out", type=Path, default=None, help="append the report to this file")
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    print(report)
    out = args.out or RESULTS / f"pipeline-{datetime.now(UTC):%Y-%m-%d}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as sink:
        if out.stat().st_size == 0:
            sink.write(
                "# Pipeline benchmark: webhook -> decision through all four services\n\n"
                "Produced by `uv run python bench/pipeline/run.py` (see its docstring for the method).\n\n"
            )
        sink.write(report + "\n")
    print(f"appended to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
