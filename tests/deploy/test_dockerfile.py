"""Static checks of deploy/docker/Dockerfile: no engine here, so what a build would prove is
checked from the text (non-root user, lock file honoured, runtime-only dependencies, real paths)."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from tests.deploy._load import (
    DOCKERFILE,
    DOCKERIGNORE,
    ROOT,
    SERVICES,
    Stage,
    dockerfile_stages,
    k8s_objects,
)


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    parsed = dockerfile_stages(DOCKERFILE.read_text())
    assert len(parsed) >= 2, "multi-stage: the build tools must not reach the runtime image"
    return parsed


def build_stage(stages: list[Stage]) -> Stage:
    builders = [s for s in stages if any("uv sync" in r for r in s.args("RUN"))]
    assert len(builders) == 1, "exactly one stage runs uv sync"
    return builders[0]


def user_of(stage: Stage) -> str:
    users = stage.args("USER")
    assert users, "the runtime stage sets no USER: it would run as root"
    return users[-1]


def test_runtime_user_is_not_root(stages: list[Stage]) -> None:
    user = user_of(stages[-1])
    uid = user.split(":")[0]
    assert uid not in {"root", "0"}
    # Numeric, so Kubernetes' runAsNonRoot can check it without /etc/passwd.
    assert uid.isdigit(), f"USER {user}: use a numeric uid"
    for deployment in k8s_objects("Deployment"):
        pod_sc = deployment["spec"]["template"]["spec"]["securityContext"]
        assert str(pod_sc["runAsUser"]) == uid, "manifests and image disagree on the uid"


def test_lock_file_copied_before_a_frozen_sync(stages: list[Stage]) -> None:
    build = build_stage(stages)
    ops = build.instructions
    lock_at = next(
        (i for i, (op, rest) in enumerate(ops) if op == "COPY" and "uv.lock" in shlex.split(rest)),
        None,
    )
    assert lock_at is not None, "uv.lock is never copied: the build would re-resolve"
    syncs = [i for i, (op, rest) in enumerate(ops) if op == "RUN" and "uv sync" in rest]
    assert syncs and min(syncs) > lock_at
    for i in syncs:
        command = ops[i][1]
        # --frozen: install exactly the lock; no dev or training groups in a service image.
        assert "--frozen" in command or "--locked" in command, command
        assert "--no-default-groups" in command or "--no-dev" in command, command
    # Dependencies before sources: the heavy layer only changes when the lock does.
    first_source = next(
        i
        for i, (op, rest) in enumerate(ops)
        if op == "COPY" and re.search(r"\bsrc\b|^shared |^services ", rest)
    )
    assert min(syncs) < first_source
    assert "--no-editable" in ops[max(syncs)][1], "the runtime stage would need the source tree"


def test_every_workspace_member_is_copied(stages: list[Stage]) -> None:
    copies = " ".join(build_stage(stages).args("COPY"))
    for member in ("shared", *(f"services/{s}" for s in SERVICES)):
        assert f"{member}/pyproject.toml" in copies, f"{member} missing from the dependency layer"


def test_copy_sources_exist(stages: list[Stage]) -> None:
    for stage in stages:
        for rest in stage.args("COPY"):
            words = shlex.split(rest)
            if any(w.startswith("--from") for w in words):
                continue
            for source in words[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"


def test_runtime_stage_is_lean(stages: list[Stage]) -> None:
    runtime = stages[-1]
    copies = runtime.args("COPY")
    assert any("--from=" in c and ".venv" in c for c in copies), "runtime gets the venv from the build"
    assert not any("--from=" not in c for c in copies), "runtime copies nothing from the context"
    assert not any("uv " in r for r in runtime.args("RUN")), "no uv in the runtime stage"
    env = " ".join(runtime.args("ENV"))
    # Default host is loopback: unreachable from outside the container.
    assert "VIGIE_HOST=0.0.0.0" in env
    assert "PYTHONDONTWRITEBYTECODE=1" in env  # the root filesystem is read-only
    # The role is chosen by the command, so the image must not start one by default.
    roles = {f"vigie-{s}" for s in SERVICES}
    for instr in runtime.args("CMD") + runtime.args("ENTRYPOINT"):
        assert json.loads(instr)[0] not in roles, f"default role in {instr}"


def test_dockerignore_keeps_state_and_secrets_out() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Deny by default, then allow only the lock and the workspace sources.
    assert lines[0] == "*"
    assert "!uv.lock" in lines
    assert not any(line.startswith("!") and re.search(r"var|\.env|\.venv", line) for line in lines)
