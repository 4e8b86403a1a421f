"""The keyed hash chain that makes the decision log tamper-evident, and survive erasure. Pure.

Every record's hash is an HMAC-SHA256, under a key that is never stored with the log, over all of
its columns, its predecessor's hash, and a digest of its personal fields. The personal fields
(author pseudonym and display name, texts, free-text reasons) live apart: erasing them leaves the
digest, so the chain still verifies. The digest is itself keyed and salted with a random value kept
beside the fields, so once they are erased nobody, not even the key holder, can test a guess
("was the text 'X'?") against it.

What the key buys: somebody with write access to the database but not the key cannot rewrite a
record and re-chain everything after it. What it cannot buy: that same somebody can cut the tail
off; only a signed checkpoint kept elsewhere (domain/checkpoint.py) shows that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
SCHEME = 2


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Record:
    """Every stored column of one log entry except its own hash."""

    seq: int
    event_id: str
    event_type: str
    topic: str
    record_key: str | None
    source: str
    time: str
    correlation_id: str
    community: str | None
    body: dict[str, Any]
    personal_digest: str | None
    recorded_at: str
    prev_hash: str

    def covered(self) -> dict[str, Any]:
        return {
            "v": SCHEME,
            "seq": self.seq,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "topic": self.topic,
            "record_key": self.record_key,
            "source": self.source,
            "time": self.time,
            "correlation_id": self.correlation_id,
            "community": self.community,
            "body": self.body,
            "personal": self.personal_digest,
            "recorded_at": self.recorded_at,
            "prev": self.prev_hash,
        }


@dataclass(frozen=True, slots=True)
class Personal:
    """The personal fields of one record, while they are held."""

    salt: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    record: Record
    hash: str
    personal: Personal | None = None  # None once erased (or when the record had none)

    @property
    def seq(self) -> int:
        return self.record.seq


class ChainKey:
    """The HMAC key of the chain (VIGIE_AUDIT_CHAIN_KEY)."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the chain key must not be empty")
        self._key = key

    def entry_hash(self, record: Record) -> str:
        return hmac.new(self._key, canonical(record.covered()), hashlib.sha256).hexdigest()

    def personal_digest(self, personal: Personal) -> str:
        message = personal.salt.encode() + b"\x00" + canonical(personal.fields)
        return hmac.new(self._key, b"personal\x00" + message, hashlib.sha256).hexdigest()

    def fingerprint(self) -> str:
        """Names the key in checkpoints without revealing it."""
        return hmac.new(self._key, b"vigie-audit-chain-key-id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    last_seq: int | None = None
    head_hash: str | None = None
    erased: int = 0


class Verifier:
    """Checks entries one at a time, so a log of any size streams through in constant memory.

    `prev_hash` and `prev_seq` say where the checked range starts: the genesis for a whole log, or
    a checkpoint (or an already-verified entry) for a range.
    """

    def __init__(self, key: ChainKey, *, prev_hash: str = GENESIS, prev_seq: int = 0) -> None:
        self._key = key
        self._prev_hash = prev_hash
        self._prev_seq = prev_seq
        self.checked = 0
        self.erased = 0
        self.failure: Verification | None = None

    def feed(self, entry: ChainedEntry) -> bool:
        """False (and `failure` set) at the first entry that does not hold; later calls are ignored."""
        if self.failure is not None:
            return False
        record = entry.record
        problem = self._problem(entry)
        if problem is not None:
            self.failure = Verification(
                False,
                self.checked,
                record.seq,
                problem,
                last_seq=self._prev_seq or None,
                head_hash=self._prev_hash,
                erased=self.erased,
            )
            return False
        self._prev_hash = entry.hash
        self._prev_seq = record.seq
        self.checked += 1
        return True

    def _problem(self, entry: ChainedEntry) -> str | None:
        record = entry.record
        if record.seq != self._prev_seq + 1:
            return f"sequence jumps from {self._prev_seq} to {record.seq}: an entry is missing"
        if record.prev_hash != self._prev_hash:
            return "link to the previous entry is broken"
        if not hmac.compare_digest(self._key.entry_hash(record), entry.hash):
            return "entry content does not match its hash"
        if entry.personal is not None:
            if record.personal_digest is None:
                return "personal fields held for an entry that had none"
            if not hmac.compare_digest(self._key.personal_digest(entry.personal), record.personal_digest):
                return "personal fields do not match their digest"
        elif record.personal_digest is not None:
            self.erased += 1
        return None

    def result(self) -> Verification:
        if self.failure is not None:
            return self.failure
        return Verification(
            True,
            self.checked,
            last_seq=self._prev_seq or None,
            head_hash=self._prev_hash,
            erased=self.erased,
        )


def verify(entries: Iterable[ChainedEntry], key: ChainKey) -> Verification:
    verifier = Verifier(key)
    for entry in entries:
        if not verifier.feed(entry):
            break
    return verifier.result()


def chain_entry(key: ChainKey, record: Record, personal: Personal | None) -> ChainedEntry:
    """The entry to store for a record whose personal digest is already in it."""
    return ChainedEntry(record, key.entry_hash(record), personal)
