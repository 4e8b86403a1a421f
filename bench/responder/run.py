"""Responder write-back: approve -> published latency and platform jobs per second, against local fakes.

The fakes are the test suite's Starlette apps playing each platform's documented API, reached in
process through an httpx transport, so the figures are Vigie's own cost (HTTP approve, the verdict
transaction with its job and outbox rows, the dispatcher's claim and record transactions, the client)
without a network. Two figures per run, so their ratio means something on a noisy host:

- `approve->published`: drafts approved through the API by 16 concurrent moderators; latency is the
  draft's `delivered_at - reviewed_at`, both written by the service.
- `drain`: the same number of jobs queued at once; jobs per second until the last is done.

    uv run python bench/responder/run.py [--drafts 400] [--concurrency 8] [--database-url ...]
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
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from vigie_platforms.outbound import CredentialStore, OutboundClients
from vigie_responder.adapters.store import DraftRow, DraftStatus, DraftStore, JobRow, JobStatus
from vigie_responder.app import create_app
from vigie_responder.platforms import ClientsDirectory
from vigie_responder.settings import ResponderSettings
from vigie_shared.auth import Role, TokenEntry, hash_token, write_token_file
from vigie_shared.events.v1 import Platform

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.platforms.outbound.fakes import COMMUNITIES, FakePlatforms  # noqa: E402

# Platforms whose fakes need no per-thread setup; ids shaped as ingest makes them.
THREADS = {
    Platform.FACEBOOK: lambda n: (f"{COMMUNITIES[Platform.FACEBOOK]}_{n}", f"{n}_{n + 1}"),
    Platform.DISCORD: lambda n: ("900000000000000002", str(1100000000000000000 + n)),
    Platform.TELEGRAM: lambda n: ("77", str(1000 + n)),
    Platform.MASTODON: lambda n: ("109000000000000001", str(109000000000000100 + n)),
}


class Unthrottled:
    """The real clients with their documented rate limits removed: the figure is Vigie's own cost.

    With the limits on, the benchmark would measure Telegram's one message per second per chat, which
    the tests already check is honoured.
    """

    def __init__(self, clients: OutboundClients) -> None:
        self._clients = clients
        self.credentials = clients.credentials

    def client(self, platform: Platform) -> object:
        real = self._clients.get(platform)
        return None if real is None else _NoLimits(real)


class _NoLimits:
    def __init__(self, client: object) -> None:
        self._client = client

    def limits(self, target: object, credentials: object) -> tuple[()]:
        return ()

    def __getattr__(self, name: str) -> object:
        return getattr(self._client, name)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def seed_drafts(store: DraftStore, count: int) -> list[str]:
    ids = []
    platforms = list(THREADS)
    for n in range(count):
        chosen = platforms[n % len(platforms)]
        thread, comment = THREADS[chosen](n)
        draft_id = str(uuid.uuid4())
        ids.append(draft_id)
        await store.add_if_absent(
            DraftRow(
                id=draft_id,
                platform=chosen.value,
                community=COMMUNITIES[chosen],
                thread_id=thread,
                comment_id=comment,
                correlation_id=str(uuid.uuid4()),
                comment_text="When do you deliver?",
                author_pseudonym="psn_bench",
                language="en",
                text="Two to three working days.",
                source="template",
                status=DraftStatus.PENDING.value,
                created_at=datetime.now(UTC),
            )
        )
    return ids


async def wait_all_done(store: DraftStore, kinds: int, timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if await store.count_jobs(JobStatus.PENDING) == 0 and kinds:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("jobs still pending")


async def run(drafts: int, concurrency: int, database_url: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        token = "vgt_bench_" + uuid.uuid4().hex
        write_token_file(
            work / "tokens.json", [TokenEntry(name="bench", sha256=hash_token(token), roles=[Role.MODERATOR])]
        )
        fakes = FakePlatforms()
        settings = ResponderSettings(
            bus_url=f"sqlite:///{work}/bus.db",
            database_url=database_url or f"sqlite+aiosqlite:///{work}/responder.db",
            api_tokens_file=work / "tokens.json",
            environment="test",
            log_level="WARNING",
            dispatch_concurrency=concurrency,
            dispatch_poll_seconds=0.05,
            **fakes.settings_values(),  # type: ignore[arg-type]
        )
        clients = OutboundClients.from_settings(
            settings,
            transport=fakes.transport,
            credentials=CredentialStore.from_data(fakes.credentials_entries()),
        )
        directory = ClientsDirectory(clients)
        directory.client = Unthrottled(clients).client  # type: ignore[method-assign]
        app = create_app(settings, platforms=directory)
        try:
            async with LifespanManager(app, startup_timeout=60) as manager:
                store: DraftStore = app.state.drafts
                ids = await seed_drafts(store, drafts)
                headers = {"Authorization": f"Bearer {token}"}
                gate = asyncio.Semaphore(16)
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(manager.app), base_url="http://r"
                ) as http:

                    async def approve(draft_id: str) -> None:
                        async with gate:
                            response = await http.post(f"/v1/drafts/{draft_id}/approve", headers=headers)
                            response.raise_for_status()

                    started = time.perf_counter()
                    await asyncio.gather(*(approve(i) for i in ids))
                    await wait_all_done(store, 1)
                    approve_wall = time.perf_counter() - started
                latencies = []
                for draft_id in ids:
                    row = await store.get(draft_id)
                    assert row.status == DraftStatus.PUBLISHED.value, (row.status, row.delivery_reason)
                    assert row.delivered_at is not None
                    assert row.reviewed_at is not None
                    latencies.append((row.delivered_at - row.reviewed_at).total_seconds())
                posted = sum(len(fake.posted) for fake in fakes.all())
                assert posted == drafts, f"{posted} replies for {drafts} drafts"

                # Drain: the same number of jobs queued at once, the dispatcher alone.
                more = await seed_drafts(store, drafts)
                rows = [JobRow.for_reply(await store.get(i)) for i in more]
                started = time.perf_counter()
                await store.add_jobs_if_absent(rows)
                app.state.dispatcher.notify()
                await wait_all_done(store, 1)
                drain_wall = time.perf_counter() - started
        finally:
            await clients.aclose()
    return {
        "drafts": drafts,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "approve_jobs_per_s": drafts / approve_wall,
        "drain_jobs_per_s": drafts / drain_wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    figures = asyncio.run(run(arguments.drafts, arguments.concurrency, arguments.database_url))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    print(f"# responder write-back, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"database: {arguments.database_url or 'sqlite (file)'}, dispatcher concurrency {arguments.concurrency}"
    )
    print("documented rate limits off (Vigie's own cost); fakes in process")
    print("| drafts | approve->published p50 | p99 | jobs/s (approve path) | jobs/s (drain) |")
    print("|---|---|---|---|---|")
    print(
        f"| {figures['drafts']} | {figures['p50_ms']:.1f} ms | {figures['p99_ms']:.1f} ms"
        f" | {figures['approve_jobs_per_s']:.0f} | {figures['drain_jobs_per_s']:.0f} |"
    )


if __name__ == "__main__":
    main()
