"""Vigie's sentence encoder: multilingual-e5-small (French, English, ...) as int8 ONNX.

API (small on purpose; the moderator's heads and the responder's knowledge-base
retrieval both use it):

- `get_encoder()`: the process-wide `Encoder`, loaded on first call (thread-safe).
  Call it from an app's lifespan so the ~120 MB graph loads at start-up, not on the
  first request; nothing is loaded at import time.
- `embed(texts, kind="query")`: `get_encoder().embed(...)`, a (n, 384) float32 array
  of unit rows. Use kind="query" for comments and questions, kind="passage" for the
  documents a question should find; cosine similarity is then a dot product.
- `Encoder.load(threads=...)`: a separate instance (tests, benchmarks).

The files are built by `make encoder` (`training/encoder.py`) into a cache keyed by
content hash and checked against `manifest.json` at load; `EncoderArtifactError`
says when they are missing or differ. `VIGIE_ENCODER_THREADS` sets intra-op threads
(default: the cores this process may use).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from vigie_encoder.artifact import EncoderArtifactError
from vigie_encoder.runtime import DIMENSION, Encoder, length_buckets

__all__ = ["DIMENSION", "Encoder", "EncoderArtifactError", "embed", "get_encoder", "length_buckets"]

_lock = threading.Lock()
_encoder: Encoder | None = None


def get_encoder() -> Encoder:
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                _encoder = Encoder.load()
    return _encoder


def embed(texts: Sequence[str], kind: str = "query") -> np.ndarray:
    return get_encoder().embed(texts, kind)
