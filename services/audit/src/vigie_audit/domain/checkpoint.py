"""Signed checkpoints of the chain's head. Pure.

A checkpoint says "at this instant the log held `seq` entries and the last one hashed to `hash`",
signed with Ed25519. Kept outside the database (a file an operator ships elsewhere, or copied from
`GET /v1/audit/checkpoint`), it catches what the keyed chain alone cannot: a log cut short, or one
rebuilt by somebody who also stole the chain key. Anyone with the public key can check the
signature; only the audit service can make one.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    key_id: str  # fingerprint of the chain key the hashes were made with
    public_key: str  # base64 Ed25519 verify key
    signature: str  # base64 over `signed_bytes()`

    def signed_bytes(self) -> bytes:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "at": self.at, "key_id": self.key_id},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Checkpoint:
        return cls(**json.loads(line))


class CheckpointSigner:
    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self._key = SigningKey(seed)

    @property
    def public_key(self) -> str:
        return base64.b64encode(bytes(self._key.verify_key)).decode()

    def sign(self, *, seq: int, hash: str, at: str, key_id: str) -> Checkpoint:
        unsigned = Checkpoint(seq, hash, at, key_id, self.public_key, "")
        signature = self._key.sign(unsigned.signed_bytes()).signature
        return Checkpoint(seq, hash, at, key_id, self.public_key, base64.b64encode(signature).decode())


def signature_ok(checkpoint: Checkpoint, public_key: str | None = None) -> bool:
    """True when the signature holds under `public_key` (default: the one the checkpoint names;
    pass your own trusted copy, or a forger's self-signed checkpoint passes)."""
    try:
        verify_key = VerifyKey(base64.b64decode(public_key or checkpoint.public_key))
        verify_key.verify(checkpoint.signed_bytes(), base64.b64decode(checkpoint.signature))
    except (BadSignatureError, ValueError):
        return False
    return True
