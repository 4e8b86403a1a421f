"""The hash chain that makes the decision log tamper-evident. Pure."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    seq: int
    event_id: str
    event_type: str
    source: str
    time: str
    correlation_id: str
    body: dict[str, Any]
    prev_hash: str
    hash: str


def entry_hash(
    prev_hash: str,
    *,
    event_id: str,
    event_type: str,
    source: str,
    time: str,
    correlation_id: str,
    body: dict[str, Any],
) -> str:
    """Each entry commits to its predecessor: changing, removing or reordering one breaks every later hash."""
    canonical = json.dumps(
        {
            "prev": prev_hash,
            "id": event_id,
            "type": event_type,
            "source": source,
            "time": time,
            "correlationid": correlation_id,
            "body": body,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(entries: Iterable[ChainedEntry]) -> Verification:
    prev = GENESIS
    checked = 0
    for entry in entries:
        if entry.prev_hash != prev:
            return Verification(False, checked, entry.seq, "link to the previous entry is broken")
        expected = entry_hash(
            prev,
            event_id=entry.event_id,
            event_type=entry.event_type,
            source=entry.source,
            time=entry.time,
            correlation_id=entry.correlation_id,
            body=entry.body,
        )
        if expected != entry.hash:
            return Verification(False, checked, entry.seq, "entry content does not match its hash")
        prev = entry.hash
        checked += 1
    return Verification(True, checked)
