"""Encoder embeddings of training texts, cached on disk by content hash.

    uv run python -m training.embeddings     (embeds every corpus once; later runs hit the cache)

Key: sha256 of (encoder version, exact text). Values: float16 rows (384) in
`var/embeddings/<encoder version>/` as numbered shards (`.npy` vectors + `.json`
keys), so a new text is appended without rewriting what is there. Retraining a head
then reads vectors instead of running the encoder: seconds instead of minutes.
The texts themselves are never written here, only their hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from vigie_encoder import DIMENSION, Encoder

from training.common import REPO_ROOT, log, setup_logging

CACHE_DIR = REPO_ROOT / "var" / "embeddings"
# Texts embedded per encoder call before the vectors are written out (a crash or a
# stop loses at most this much work).
SHARD = 4096


class EmbeddingCache:
    def __init__(self, encoder: Encoder | None = None, directory: Path | None = None) -> None:
        self._encoder = encoder
        version = encoder.version if encoder else Encoder.load(threads=1).version
        self.directory = (directory or CACHE_DIR) / version
        self.directory.mkdir(parents=True, exist_ok=True)
        self._index: dict[str, tuple[int, int]] = {}
        self._shards: list[np.ndarray] = []
        for keys_path in sorted(self.directory.glob("shard-*.json"), key=lambda p: int(p.stem.split("-")[1])):
            vectors = np.load(keys_path.with_suffix(".npy"))
            keys = json.loads(keys_path.read_text(encoding="utf-8"))
            shard = len(self._shards)
            self._shards.append(vectors)
            for row, key in enumerate(keys):
                self._index[key] = (shard, row)

    @staticmethod
    def key(version: str, text: str) -> str:
        return hashlib.sha256(f"{version}\x00{text}".encode()).hexdigest()

    def _encoder_or_load(self) -> Encoder:
        if self._encoder is None:
            self._encoder = Encoder.load()
        return self._encoder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, 384): cached rows, the rest embedded now and stored."""
        version = self.directory.name
        keys = [self.key(version, t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._index))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            encoder = self._encoder_or_load()
            log.info("embedding %d new texts (%d cached)", len(missing), len(self._index))
            for start in range(0, len(missing), SHARD):
                chunk = missing[start : start + SHARD]
                vectors = encoder.embed([by_key[k] for k in chunk]).astype(np.float16)
                shard = len(self._shards)
                np.save(self.directory / f"shard-{shard}.npy", vectors)
                (self.directory / f"shard-{shard}.json").write_text(json.dumps(chunk), encoding="utf-8")
                self._shards.append(vectors)
                for row, key in enumerate(chunk):
                    self._index[key] = (shard, row)
                log.info("embedded %d / %d", start + len(chunk), len(missing))
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for i, key in enumerate(keys):
            shard, row = self._index[key]
            out[i] = self._shards[shard][row]
        return out


def all_training_texts() -> list[str]:
    from training import data

    texts: list[str] = []
    for rows in data.toxicity_sources().values():
        texts += [r.text for r in rows]
    texts += [r.text for r in data.olid_test_full()]
    texts += [r.text for r in data.youtube()] + [r.text for r in data.sms()]
    for language in ("fr", "en"):
        for rows in data.umsab(language).values():
            texts += [r.text for r in rows]
    return texts


def main() -> None:
    setup_logging()
    texts = all_training_texts()
    cache = EmbeddingCache(Encoder.load())
    cache.embed(texts)
    log.info("%d texts, cache at %s", len(texts), cache.directory)


if __name__ == "__main__":
    main()
