"""What only the embedded bus has to prove: several processes, one active member per group, durability."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vigie_shared.bus import open_bus


async def test_one_active_consumer_per_group_until_it_leaves(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bus.db"
    bus = open_bus(url, client_id="t")
    await bus.start()
    for n in range(3):
        await bus.publish("topic", "k", f"{n}".encode(), [])
    first = bus.consumer("g", ["topic"])
    second = bus.consumer("g", ["topic"])
    await first.start()
    await second.start()
    got = await first.fetch(10, 0.5)
    assert [m.value for m in got] == [b"0", b"1", b"2"]
    assert await second.fetch(10, 0.3) == []  # the lease is held
    await first.commit(got[:2])
    await first.stop()
    # The second member takes over from the last commit, so the uncommitted record comes back.
    assert [m.value for m in await second.fetch(10, 1.0)] == [b"2"]
    await second.stop()
    await bus.close()


async def test_records_published_by_another_process_are_seen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bus.db"
    script = (
        "import asyncio\n"
        "from vigie_shared.bus import open_bus\n"
        "async def main():\n"
        f"    bus = open_bus({url!r}, client_id='child')\n"
        "    await bus.start()\n"
        "    for n in range(50):\n"
        "        await bus.publish('topic', 'k', str(n).encode(), [])\n"
        "    await bus.close()\n"
        "asyncio.run(main())\n"
    )
    # Four at once on a file none of them has created yet, as `make run` starts its services.
    children = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(4)]
    assert [child.wait(timeout=60) for child in children] == [0, 0, 0, 0]
    bus = open_bus(url, client_id="parent")
    await bus.start()
    consumer = bus.consumer("g", ["topic"])
    await consumer.start()
    got = []
    while batch := await consumer.fetch(500, 0.2):
        got += batch
    await consumer.stop()
    await bus.close()
    assert len(got) == 200
    assert sorted(int(m.value) for m in got) == sorted(list(range(50)) * 4)


async def test_concurrent_publishers_all_land_durably_in_their_own_order(tmp_path: Path) -> None:
    import asyncio

    url = f"sqlite:///{tmp_path}/bus.db"
    bus = open_bus(url, client_id="t")
    await bus.start()

    async def publisher(name: str) -> None:
        for n in range(20):
            await bus.publish("topic", name, f"{name}:{n}".encode(), [])

    await asyncio.gather(*(publisher(f"p{i}") for i in range(50)))
    await bus.close()
    # A fresh connection sees everything: each publish returned only after its commit.
    reader = open_bus(url, client_id="r")
    await reader.start()
    consumer = reader.consumer("g", ["topic"])
    await consumer.start()
    got = []
    while batch := await consumer.fetch(1000, 0.2):
        got += batch
    await consumer.stop()
    await reader.close()
    assert len(got) == 1000
    for i in range(50):
        assert [m.value.decode() for m in got if m.key == f"p{i}"] == [f"p{i}:{n}" for n in range(20)]
