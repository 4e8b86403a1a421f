"""Signed checkpoints of the head, appended to a JSON-lines file on a schedule.

The file is meant to leave the machine: an operator ships it (or polls `GET /v1/audit/checkpoint`)
to storage the database's administrators cannot rewrite, such as a WORM bucket or another team's
log. `verify` checks the log against the newest checkpoint in the file, and against any checkpoint
an operator passes in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog

from vigie_audit.adapters.store import AuditStore
from vigie_audit.domain.checkpoint import Checkpoint, CheckpointSigner

log = structlog.get_logger("vigie.audit.checkpoints")


class CheckpointFile:
    def __init__(self, path: Path | None) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(checkpoint.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def latest(self) -> Checkpoint | None:
        if self.path is None or not self.path.exists():
            return None
        last: str | None = None
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    last = line
        return Checkpoint.from_json(last) if last else None


class Checkpointer:
    """Signs the head when it moved since the last checkpoint; `run` does so every `interval` seconds."""

    def __init__(
        self,
        store: AuditStore,
        signer: CheckpointSigner,
        file: CheckpointFile,
        *,
        interval: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self.signer = signer
        self.file = file
        self._interval = interval
        self._clock = clock
        self.latest: Checkpoint | None = file.latest()
        self._task: asyncio.Task[None] | None = None

    async def checkpoint(self) -> Checkpoint | None:
        head = await self._store.head()
        if head is None:
            return None
        seq, digest = head
        if self.latest is not None and self.latest.seq == seq and self.latest.hash == digest:
            return self.latest
        checkpoint = self.signer.sign(
            seq=seq, hash=digest, at=self._clock().isoformat(), key_id=self._store.chain_key.fingerprint()
        )
        await asyncio.to_thread(self.file.append, checkpoint)
        self.latest = checkpoint
        log.info("audit_checkpoint", seq=seq, hash=digest)
        return checkpoint

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-checkpoints")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # One last checkpoint on the way out, so a clean stop leaves the head signed.
        with contextlib.suppress(Exception):
            await self.checkpoint()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.checkpoint()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("audit_checkpoint_failed")
