"""Sentence-encoder embeddings for training and evaluation, cached by content hash.

One row per (encoder build, kind, text): the key is the sha256 of the encoder
manifest's model hash, the kind ("query" / "passage") and the text, so editing one
line of a data set re-embeds that line only, and a new encoder build never reads
vectors of an old one. Rows live in one .npz per encoder build under
`<encoder cache root>/../embeddings/` (override with VIGIE_EMBEDDING_CACHE).
The encoder itself is loaded only when some text is missing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from vigie_encoder import DIMENSION, get_encoder
from vigie_encoder.artifact import MODEL_FILE, cache_root, read_manifest

CACHE_ENV = "VIGIE_EMBEDDING_CACHE"


def _build_id() -> str:
    manifest = read_manifest()
    return f"{manifest['version']}-{manifest['files'][MODEL_FILE]['sha256'][:16]}"


def default_directory() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else cache_root().parent / "embeddings"


def row_key(build: str, kind: str, text: str) -> str:
    return hashlib.sha256(f"{build}\x00{kind}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    def __init__(self, directory: Path | None = None) -> None:
        self.build = _build_id()
        self.path = (directory or default_directory()) / f"{self.build}.npz"
        self._rows: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as stored:
                for key, row in zip(stored["keys"], stored["vectors"], strict=True):
                    self._rows[str(key)] = row
        self.misses = 0

    def embed(self, texts: Sequence[str], kind: str = "query") -> np.ndarray:
        keys = [row_key(self.build, kind, t) for t in texts]
        missing = sorted({(k, t) for k, t in zip(keys, texts, strict=True) if k not in self._rows})
        if missing:
            vectors = get_encoder().embed([t for _, t in missing], kind)
            for (key, _), row in zip(missing, vectors, strict=True):
                self._rows[key] = row
            self.misses += len(missing)
            self._save()
        if not keys:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.stack([self._rows[k] for k in keys]).astype(np.float32)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self._rows)
        # Written beside the target then renamed: an interrupted run leaves the old cache.
        with tempfile.NamedTemporaryFile(dir=self.path.parent, suffix=".npz", delete=False) as fh:
            np.savez(fh, keys=np.array(keys), vectors=np.stack([self._rows[k] for k in keys]))
        Path(fh.name).replace(self.path)
