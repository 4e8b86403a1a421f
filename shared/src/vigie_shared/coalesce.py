"""Coalescing: calls that arrive while a batch is running wait for the next batch and share it.

Used wherever many concurrent callers each need one slow, batchable operation: a durable write
(one fsync for fifty publishers) or a lookup (one query for fifty webhooks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    """`submit(item)` returns the result of the batch that carried the item.

    `run` receives every item submitted since the previous batch began, in submission order. If it
    raises, each caller of that batch gets the exception; a caller that was cancelled is skipped.
    """

    def __init__(self, run: Callable[[Sequence[Item]], Awaitable[Result]], *, name: str) -> None:
        self._run = run
        self._name = name
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name=self._name)
        return await done

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                result = await self._run([item for item, _ in batch])
            except Exception as error:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(result)

    async def wait_idle(self) -> None:
        """Lets a batch in flight finish, e.g. before closing the connection it writes to."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
