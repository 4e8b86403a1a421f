"""The committed artifacts are the ones manifest.json describes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from vigie_moderator.adapters.onnx_scorer import (
    DEFAULT_MODELS_DIR,
    ModelArtifactError,
    read_manifest,
)

MANIFEST = json.loads((DEFAULT_MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
ENTRIES = MANIFEST["artifacts"]
REQUIRED_FIELDS = {
    "name",
    "version",
    "file",
    "sha256",
    "kind",
    "task",
    "inputs",
    "outputs",
    "data",
    "metrics",
    "thresholds",
    "command",
}


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_sha256_matches_file(name: str) -> None:
    entry = ENTRIES[name]
    digest = hashlib.sha256((DEFAULT_MODELS_DIR / entry["file"]).read_bytes()).hexdigest()
    assert digest == entry["sha256"]


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_entry_is_complete(name: str) -> None:
    entry = ENTRIES[name]
    assert set(entry) >= REQUIRED_FIELDS
    assert entry["name"] == name
    assert entry["command"].startswith("uv run python -m training.")


def test_artifacts_stay_small() -> None:
    sizes = {p.name: p.stat().st_size for p in DEFAULT_MODELS_DIR.iterdir() if p.is_file()}
    assert max(sizes.values()) < 8 * 2**20, sizes
    assert sum(sizes.values()) < 60 * 2**20, sizes


def test_every_model_file_is_in_the_manifest() -> None:
    listed = {e["file"] for e in ENTRIES.values()} | {"manifest.json"}
    on_disk = {p.name for p in DEFAULT_MODELS_DIR.iterdir() if p.is_file()}
    assert on_disk <= listed


def test_tampered_artifact_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(DEFAULT_MODELS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    victim = copy / ENTRIES["profanity"]["file"]
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(ModelArtifactError, match="sha256"):
        read_manifest(copy)


def test_missing_artifact_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(DEFAULT_MODELS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / ENTRIES["profanity"]["file"]).unlink()
    with pytest.raises(ModelArtifactError, match="missing"):
        read_manifest(copy)
