"""Re-publishes dead letters to the topic they came from, once the cause is fixed.

    uv run python -m vigie_shared.deadletters replay --topic vigie.comments.received.v1 --since 2h
    uv run python -m vigie_shared.deadletters replay --since 2026-12-02T08:00:00Z --group vigie-audit --dry-run

Reads the whole dead-letter topic with a throw-away consumer group (nothing is removed from it), keeps
the records that match, and publishes each one back to its source topic with its original key, value
and envelope headers. Consumers are idempotent on the event id, so a group that had handled the record
already skips it; the group that dead-lettered it handles it again. Bus settings come from the same
VIGIE_BUS_URL and VIGIE_BUS_TOPIC_PREFIX as the services.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from vigie_shared.bus.port import Bus, Message, OutgoingRecord
from vigie_shared.events.v1 import DEADLETTER_TOPIC

REPLAY_HEADER = "vigie_replayed_from"
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (UTC when it has no zone) or a duration back from now: 90s, 30m, 2h, 7d."""
    match = _DURATION.match(value.strip())
    if match:
        amount, unit = match.groups()
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time or a duration: {value!r} (use 2h, 30m, 7d or an ISO time)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class ReplayReport:
    examined: int = 0
    replayed: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)


def _matches(message: Message, *, topic: str | None, since: datetime | None, group: str | None) -> bool:
    headers = message.headers
    source = headers.get("vigie_source_topic")
    if source is None:
        return False
    if topic is not None and source != topic:
        return False
    if group is not None and headers.get("vigie_group") != group:
        return False
    if since is not None:
        stamp = headers.get("vigie_deadlettered_at")
        if stamp is None:
            return False  # dead-lettered before the time was recorded: only a replay without --since
        try:
            if datetime.fromisoformat(stamp) < since:
                return False
        except ValueError:
            return False
    return True


def _original(message: Message) -> OutgoingRecord:
    source = message.headers["vigie_source_topic"]
    headers = [
        (name, value.encode()) for name, value in message.headers.items() if not name.startswith("vigie_")
    ]
    headers.append((REPLAY_HEADER, f"{message.partition}:{message.offset}".encode()))
    return OutgoingRecord(source, message.key, message.value, headers)


async def replay(
    bus: Bus,
    *,
    topic: str | None = None,
    since: datetime | None = None,
    group: str | None = None,
    dry_run: bool = False,
    first_wait: float = 10.0,
    batch: int = 500,
) -> ReplayReport:
    """Publishes the matching dead letters back to their source topics, in dead-letter order."""
    report = ReplayReport()
    reader = bus.consumer(f"vigie-deadletters-replay-{uuid.uuid4().hex[:12]}", [DEADLETTER_TOPIC])
    await reader.start()
    seen: set[tuple[str, str]] = set()
    try:
        # The first fetch may wait for a group to form (Kafka); after that an empty one means caught up.
        wait = first_wait
        while messages := await reader.fetch(batch, wait):
            wait = 1.0
            report.examined += len(messages)
            records = []
            for message in messages:
                if not _matches(message, topic=topic, since=since, group=group):
                    continue
                # The same record dead-lettered by two groups goes back once.
                origin = (
                    message.headers["vigie_source_topic"],
                    message.headers.get("vigie_source_offset", ""),
                )
                if origin[1] and origin in seen:
                    continue
                seen.add(origin)
                records.append(_original(message))
            if records and not dry_run:
                await bus.publish_many(records)
            for record in records:
                report.replayed += 1
                report.by_topic[record.topic] = report.by_topic.get(record.topic, 0) + 1
    finally:
        await reader.stop()
    return report


async def _main(args: argparse.Namespace) -> ReplayReport:
    from vigie_shared.bus import open_bus
    from vigie_shared.service import bus_options
    from vigie_shared.settings import CommonSettings

    settings = CommonSettings.load()
    bus = open_bus(
        args.bus_url or settings.bus_url,
        client_id="vigie-deadletters",
        topic_prefix=settings.bus_topic_prefix if args.topic_prefix is None else args.topic_prefix,
        options=bus_options(settings),
    )
    await bus.start()
    try:
        return await replay(
            bus,
            topic=args.topic,
            since=parse_since(args.since) if args.since else None,
            group=args.group,
            dry_run=args.dry_run,
            first_wait=args.wait,
        )
    finally:
        await bus.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vigie_shared.deadletters", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("replay", help="re-publish dead letters to their source topic")
    run.add_argument("--topic", help="only dead letters from this source topic (unprefixed name)")
    run.add_argument("--since", help="only those dead-lettered since: 2h, 30m, 7d or an ISO time")
    run.add_argument("--group", help="only those dead-lettered by this consumer group")
    run.add_argument("--dry-run", action="store_true", help="count what would be replayed, publish nothing")
    run.add_argument("--bus-url", help="default: VIGIE_BUS_URL")
    run.add_argument("--topic-prefix", help="default: VIGIE_BUS_TOPIC_PREFIX")
    run.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the first records")
    args = parser.parse_args(argv)
    report = asyncio.run(_main(args))
    sys.stdout.write(json.dumps({"dry_run": args.dry_run, **asdict(report)}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
