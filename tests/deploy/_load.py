"""Loads the deploy files once for the static checks; no engine, cluster or network needed."""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "docker" / "Dockerfile.dockerignore"

# CONTRACT.md's table; test_contract_ports checks this copy against the file when it is there.
PORTS = {"ingest": 8001, "moderator": 8002, "responder": 8003, "audit": 8004}
SERVICES = tuple(PORTS)
# What a container must bind: the services default to loopback, unreachable from outside.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


def contract_path() -> Path | None:
    # shared/ sits beside the work tree, here and in CI's fresh clone.
    for candidate in (ROOT.parent / "shared" / "CONTRACT.md", ROOT / "shared" / "CONTRACT.md"):
        if candidate.is_file():
            return candidate
    return None


def contract_ports(text: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^\|\s*(\w+)\s*\|\s*(\d{4,5})\s*\|", text, re.M)}


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def k8s_docs() -> dict[Path, list[dict[str, Any]]]:
    return {p: load_yaml_docs(p) for p in sorted(K8S.rglob("*.yaml"))}


def k8s_objects(kind: str, under: Path = K8S) -> list[dict[str, Any]]:
    return [
        d for p, docs in k8s_docs().items() if p.is_relative_to(under) for d in docs if d.get("kind") == kind
    ]


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def console_scripts(service: str) -> dict[str, str]:
    data = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())
    scripts: dict[str, str] = data["project"].get("scripts", {})
    return scripts


@dataclass
class Stage:
    name: str | None
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, op: str) -> list[str]:
        return [rest for o, rest in self.instructions if o == op]


def dockerfile_stages(text: str) -> list[Stage]:
    """Instructions per stage, continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    stages: list[Stage] = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        op, _, rest = line.strip().partition(" ")
        op, rest = op.upper(), rest.strip()
        if op == "FROM":
            words = shlex.split(rest)
            words = [w for w in words if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(name=name, base=words[0]))
        elif stages:
            stages[-1].instructions.append((op, rest))
    return stages
