"""A Kafka broker of the fault table's own, started by deploy/kafka/kafka.sh on free ports and its
own data dir, so the table can stop it without stopping the broker every other test shares."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.e2e.system import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "kafka.sh"


class DedicatedBroker:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.port = free_port()
        self._env = {
            **os.environ,
            "VIGIE_KAFKA_STATE": str(state),
            "VIGIE_KAFKA_PORT": str(self.port),
            "VIGIE_KAFKA_CONTROLLER_PORT": str(free_port()),
        }

    @property
    def url(self) -> str:
        return f"kafka://127.0.0.1:{self.port}"

    async def up(self) -> None:
        """Starts the broker (its data kept from a previous run) and returns once it answers."""
        await self._run("up", timeout=180)

    async def down(self) -> None:
        """A clean stop (SIGTERM, SIGKILL after 30 s), as an operator or a node drain does it."""
        await self._run("down", timeout=90)

    async def _run(self, command: str, *, timeout: float) -> None:
        # A subprocess, not subprocess.run: the platform fakes and the database proxy run on this
        # event loop and must keep answering meanwhile.
        process = await asyncio.create_subprocess_exec(
            str(SCRIPT),
            command,
            env=self._env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
        assert process.returncode == 0, f"kafka.sh {command}: {output.decode(errors='replace')[-3000:]}"
