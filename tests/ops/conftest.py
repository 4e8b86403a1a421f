"""Fixtures of the operations tests: Debian's Prometheus binaries, and the scripts under scripts/."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is not None:
        return found
    # In CI (make test installs them with scripts/prometheus.sh) a missing binary is a failure,
    # never a skip: a green run must mean the rules were checked.
    if os.environ.get("CI") or os.environ.get("VIGIE_REQUIRE_PROMETHEUS"):
        pytest.fail(f"{name} not found: run scripts/prometheus.sh install", pytrace=False)
    pytest.skip(f"{name} not installed (scripts/prometheus.sh install)")


@pytest.fixture(scope="session")
def promtool() -> str:
    return _binary("promtool")


@pytest.fixture(scope="session")
def prometheus() -> str:
    return _binary("prometheus")


def load_script(name: str) -> ModuleType:
    """A module of scripts/ (not a package), imported by path."""
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"vigie_scripts_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
