"""The encoder at run time: tokenizer + int8 ONNX graph, batched by token count."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from vigie_encoder.artifact import MODEL_FILE, TOKENIZER_FILE, EncoderFiles, locate, read_manifest

DIMENSION = 384
# A batch holds at most this many texts and this many padded token slots: short
# comments go 32 at a time, long ones fewer, so memory stays bounded.
MAX_BATCH = 32
MAX_BATCH_TOKENS = 32 * 96
PREFIXES = MappingProxyType({"query": "query: ", "passage": "passage: "})


def default_threads() -> int:
    configured = os.environ.get("VIGIE_ENCODER_THREADS")
    if configured:
        return max(1, int(configured))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Encoder:
    """multilingual-e5-small as an int8 ONNX graph. Thread-safe; build one per process.

    `embed(texts)` returns one L2-normalised float32 row of 384 per text, in order.
    Texts are prefixed as e5 expects ("query: " for a comment or a question,
    "passage: " for a document a query should find); longer than 512 tokens, a text
    is cut at 512.
    """

    def __init__(self, session: ort.InferenceSession, tokenizer: Tokenizer, version: str) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.version = version

    @classmethod
    def load(cls, *, threads: int | None = None, verify: bool = True) -> Encoder:
        """The built encoder from the cache, checked against the committed manifest."""
        files = locate(read_manifest(), verify=verify)
        return cls._open(files, threads)

    @classmethod
    def from_directory(cls, directory: Path, *, threads: int | None = None) -> Encoder:
        """Unverified files in `directory` (the build uses it to check its own output)."""
        manifest: dict[str, Any] = {"version": "unverified", "max_tokens": 512, "query_prefix": "query: "}
        files = EncoderFiles(
            directory,
            directory / MODEL_FILE,
            directory / TOKENIZER_FILE,
            str(manifest["version"]),
            int(manifest["max_tokens"]),
            str(manifest["query_prefix"]),
        )
        return cls._open(files, threads)

    @classmethod
    def _open(cls, files: EncoderFiles, threads: int | None) -> Encoder:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads would spin on a core between batches.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        session = ort.InferenceSession(
            str(files.model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(files.tokenizer))
        tokenizer.enable_truncation(files.max_tokens)
        tokenizer.no_padding()
        return cls(session, tokenizer, files.version)

    def token_ids(self, texts: Sequence[str], kind: str = "query") -> list[list[int]]:
        prefix = PREFIXES[kind]
        return [e.ids for e in self._tokenizer.encode_batch([prefix + t for t in texts])]

    def token_counts(self, texts: Sequence[str], kind: str = "query") -> list[int]:
        return [len(ids) for ids in self.token_ids(texts, kind)]

    def embed(self, texts: Sequence[str], kind: str = "query") -> np.ndarray:
        """(len(texts), 384) float32, each row of unit length."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return self.embed_ids(self.token_ids(texts, kind))

    def embed_ids(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        out = np.empty((len(ids), DIMENSION), dtype=np.float32)
        for batch in length_buckets([len(x) for x in ids]):
            width = max(len(ids[i]) for i in batch)
            input_ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            (vectors,) = self._session.run(["embedding"], {"input_ids": input_ids, "attention_mask": mask})
            out[batch] = vectors
        return out


def length_buckets(
    lengths: Sequence[int], max_batch: int = MAX_BATCH, max_tokens: int = MAX_BATCH_TOKENS
) -> list[list[int]]:
    """Indices grouped so each batch holds texts of similar token counts.

    Sorting by length before cutting batches keeps padding (computed and thrown
    away) small: a batch of 30 short comments and one long one would otherwise run
    at the long one's width.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Sorted ascending: this text is the widest of the batch it would join.
        if current and (len(current) >= max_batch or lengths[i] * (len(current) + 1) > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
