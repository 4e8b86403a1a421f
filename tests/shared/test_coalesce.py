from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from vigie_shared.coalesce import Coalescer


async def test_calls_made_while_a_batch_runs_share_the_next_one() -> None:
    batches: list[list[int]] = []
    started = asyncio.Event()

    async def run(items: Sequence[int]) -> int:
        batches.append(list(items))
        started.set()
        await asyncio.sleep(0.01)
        return len(batches)

    coalescer: Coalescer[int, int] = Coalescer(run, name="test")
    first = asyncio.create_task(coalescer.submit(0))
    await started.wait()  # the first batch is running, alone
    rest = await asyncio.gather(*(coalescer.submit(n) for n in range(1, 10)))
    assert await first == 1
    assert batches == [[0], list(range(1, 10))]  # the nine that waited went together, in order
    assert rest == [2] * 9


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    calls = 0

    async def run(items: Sequence[str]) -> None:
        nonlocal calls
        calls += 1
        if "bad" in items:
            raise RuntimeError("disk full")

    coalescer: Coalescer[str, None] = Coalescer(run, name="test")
    with pytest.raises(RuntimeError, match="disk full"):
        await coalescer.submit("bad")
    await coalescer.submit("good")
    await coalescer.wait_idle()
    assert calls == 2
