"""Verifying the stored log: a range of it, streamed page by page, optionally against a checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from vigie_audit.adapters.store import AuditStore
from vigie_audit.domain.chain import Verification, Verifier


@dataclass(frozen=True, slots=True)
class Anchor:
    """A head the log must still contain: from a signed checkpoint or an operator's own notes."""

    seq: int
    hash: str
    source: str  # "file" or "request"
    signature_ok: bool | None = None


@dataclass(frozen=True, slots=True)
class AnchorCheck:
    seq: int
    source: str
    ok: bool
    signature_ok: bool | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class Report:
    verification: Verification
    anchor: AnchorCheck | None


async def verify_log(
    store: AuditStore,
    *,
    from_seq: int = 1,
    to_seq: int | None = None,
    anchor: Anchor | None = None,
    page: int = 2000,
) -> Report:
    start = max(1, from_seq)
    verifier = Verifier(store.chain_key)
    if start > 1:
        # The range hangs off the entry before it, which must itself hold under the key.
        before = await store.entry_at(start - 1)
        if before is None:
            return Report(Verification(False, 0, start - 1, "no entry before the range"), None)
        alone = Verifier(store.chain_key, prev_hash=before.record.prev_hash, prev_seq=before.seq - 1)
        if not alone.feed(before):
            return Report(alone.result(), None)
        verifier = Verifier(store.chain_key, prev_hash=before.hash, prev_seq=before.seq)
    anchor_hash: str | None = None
    async for entry in store.stream(after=start - 1, until=to_seq, page=page):
        if not verifier.feed(entry):
            break
        if anchor is not None and entry.seq == anchor.seq:
            anchor_hash = entry.hash
    result = verifier.result()
    return Report(result, _check_anchor(anchor, anchor_hash, result, start, to_seq))


def _check_anchor(
    anchor: Anchor | None, found: str | None, result: Verification, start: int, to_seq: int | None
) -> AnchorCheck | None:
    if anchor is None:
        return None
    in_range = anchor.seq >= start and (to_seq is None or anchor.seq <= to_seq)
    if not in_range:
        return AnchorCheck(anchor.seq, anchor.source, True, anchor.signature_ok, "outside the checked range")
    if anchor.signature_ok is False:
        return AnchorCheck(anchor.seq, anchor.source, False, False, "checkpoint signature does not hold")
    if found is None:
        if result.ok and (result.last_seq or 0) < anchor.seq:
            problem = f"the log ends at {result.last_seq or 0}, before the checkpoint at {anchor.seq}"
        else:
            problem = "the chain broke before the checkpoint"
        return AnchorCheck(anchor.seq, anchor.source, False, anchor.signature_ok, problem)
    if found != anchor.hash:
        return AnchorCheck(
            anchor.seq, anchor.source, False, anchor.signature_ok, "entry differs from the checkpoint"
        )
    return AnchorCheck(anchor.seq, anchor.source, True, anchor.signature_ok, None)
