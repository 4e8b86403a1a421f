"""Runs the four services against one bus, in-process or as real processes, for end-to-end tests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from vigie_audit.app import create_app as audit_app
from vigie_audit.settings import AuditSettings
from vigie_ingest.app import create_app as ingest_app
from vigie_ingest.settings import IngestSettings
from vigie_moderator.app import create_app as moderator_app
from vigie_moderator.settings import ModeratorSettings
from vigie_responder.app import create_app as responder_app
from vigie_responder.settings import ResponderSettings

META_SECRET = "test-meta-app-secret"
PSEUDONYM_KEY = "test-pseudonym-key"


@dataclass
class SystemConfig:
    bus_url: str
    prefix: str
    workdir: Path
    tokens_file: Path
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)

    def env(self, service: str) -> dict[str, str]:
        """The VIGIE_* variables one service process would be started with."""
        env = {
            "VIGIE_ENVIRONMENT": "test",
            "VIGIE_BUS_URL": self.bus_url,
            "VIGIE_BUS_TOPIC_PREFIX": self.prefix,
            "VIGIE_CONSUMER_GROUP": f"{self.prefix}{service}",
            "VIGIE_API_TOKENS_FILE": str(self.tokens_file),
            "VIGIE_LOG_JSON": "true",
        }
        if service != "ingest":
            env["VIGIE_DATABASE_URL"] = f"sqlite+aiosqlite:///{self.workdir}/{service}.db"
        if service == "audit":
            # Privacy requests name people by platform user id, pseudonymised as ingest does.
            env["VIGIE_PSEUDONYM_KEY"] = PSEUDONYM_KEY
            # The end-to-end tests follow display names through every store (privacy erasure).
            env["VIGIE_DISPLAY_NAME_COMMUNITIES"] = "*"
        else:
            env["VIGIE_META_APP_SECRET"] = META_SECRET
            env["VIGIE_PSEUDONYM_KEY"] = PSEUDONYM_KEY
            # The end-to-end tests follow display names through every store (privacy erasure).
            env["VIGIE_DISPLAY_NAME_COMMUNITIES"] = "*"
        env.update(self.extra_env.get(service, {}))
        return env

    def settings(self, service: str) -> Any:
        kinds: dict[str, type[Any]] = {
            "ingest": IngestSettings,
            "moderator": ModeratorSettings,
            "responder": ResponderSettings,
            "audit": AuditSettings,
        }
        values = {k.removeprefix("VIGIE_").lower(): v for k, v in self.env(service).items()}
        return kinds[service](**values)


FACTORIES: dict[str, Callable[[Any], FastAPI]] = {
    "ingest": ingest_app,
    "moderator": moderator_app,
    "responder": responder_app,
    "audit": audit_app,
}


@asynccontextmanager
async def in_process(config: SystemConfig, *services: str) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients: dict[str, httpx.AsyncClient] = {}
    async with AsyncExitStack() as stack:
        for service in services:
            app = FACTORIES[service](config.settings(service))
            manager = await stack.enter_async_context(LifespanManager(app, startup_timeout=60))
            clients[service] = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url=f"http://{service}")
            )
        yield clients


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServiceProcess:
    """A service started the way an operator starts it: its console script, configured by env."""

    def __init__(self, config: SystemConfig, service: str, extra_env: dict[str, str] | None = None) -> None:
        self.config = config
        self.service = service
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = config.workdir / f"{service}.log"

    def start(self) -> None:
        env = {**os.environ, **self.config.env(self.service), **self.extra_env, "VIGIE_PORT": str(self.port)}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"vigie_{self.service}"], env=env, stdout=log, stderr=log
            )

    async def wait_ready(self, timeout: float = 90) -> None:
        end = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:
            while time.monotonic() < end:
                assert self.process is not None and self.process.poll() is None, self.log.read_text()[-3000:]
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.service} not ready in {timeout}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing in flight gets committed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def signed_meta_delivery(
    comments: list[dict[str, Any]], page_id: str = "page-42"
) -> tuple[bytes, dict[str, str]]:
    """A Facebook Page feed delivery, signed as Meta signs it (X-Hub-Signature-256 over the raw body)."""
    payload = {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "post_id": f"{page_id}_{c['post']}",
                            "comment_id": f"{page_id}_{c['post']}_{c['id']}",
                            "from": {"id": c.get("user", "1234567890"), "name": c.get("name", "Camille")},
                            "message": c["text"],
                            "created_time": int(time.time()),
                        },
                    }
                    for c in comments
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    signature = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}


async def wait_for(predicate: Callable[[], Any], timeout: float = 60, every: float = 0.2) -> Any:
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = await predicate()
        if last:
            return last
        await asyncio.sleep(every)
    raise TimeoutError(f"condition not met in {timeout}s; last value: {last!r}")


@asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """An ASGI app (a platform fake) on a real loopback port, for services in other processes."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):  # uvicorn offers no start event to wait on
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
