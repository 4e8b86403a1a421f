"""Static checks of deploy/k8s and docker-compose.yml against CONTRACT.md and STYLE.md rule 12.

Nothing here needs a cluster or a Docker engine: the files are parsed and their promises checked
(probes on the contract's paths and ports, limits, non-root, read-only root, dropped capabilities).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy._load import (
    ALL_INTERFACES,
    COMPOSE,
    K8S,
    PORTS,
    SERVICES,
    compose,
    console_scripts,
    contract_path,
    contract_ports,
    k8s_docs,
    k8s_objects,
)

MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "": 1}


def memory_bytes(quantity: str) -> int:
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|)", str(quantity))
    assert m, f"unexpected memory quantity {quantity!r}"
    return int(m[1]) * MEMORY_UNITS[m[2]]


def the(kind: str, service: str) -> dict[str, Any]:
    found = [o for o in k8s_objects(kind, K8S / service) if o["metadata"]["name"] == f"vigie-{service}"]
    assert len(found) == 1, f"{service}: expected one {kind} named vigie-{service}, found {len(found)}"
    obj: dict[str, Any] = found[0]
    return obj


def container_of(service: str) -> dict[str, Any]:
    containers = the("Deployment", service)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{service}: one container per pod"
    container: dict[str, Any] = containers[0]
    return container


def resolve_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    assert port in named, f"probe port {port!r} is not a named container port"
    return int(named[port])


# --- the contract itself -------------------------------------------------------------------------


def test_contract_ports() -> None:
    path = contract_path()
    if path is None:
        # CI lays shared/ beside the clone, so there a missing contract is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail("shared/CONTRACT.md is not beside the work tree")
        pytest.skip("shared/CONTRACT.md not beside the work tree")
    assert contract_ports(path.read_text()) == PORTS


def test_every_yaml_file_parses() -> None:
    docs = k8s_docs()
    assert docs, "no YAML under deploy/k8s"
    for path, objs in docs.items():
        for obj in objs:
            if path.name == "kustomization.yaml":
                assert obj["kind"] == "Kustomization", path
            else:
                assert {"apiVersion", "kind", "metadata"} <= obj.keys(), path
    assert compose()["services"]


# --- Kubernetes ----------------------------------------------------------------------------------


def test_kustomization_ties_every_file_together() -> None:
    top = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert set(SERVICES) <= set(top["resources"])
    for entry in top["resources"]:
        assert (K8S / entry).exists(), f"top kustomization lists missing {entry}"
    for service in SERVICES:
        kust = yaml.safe_load((K8S / service / "kustomization.yaml").read_text())
        on_disk = {p.name for p in (K8S / service).glob("*.yaml")} - {"kustomization.yaml"}
        assert set(kust["resources"]) == on_disk, f"{service}: kustomization and files differ"
        for kind in ("Deployment", "Service", "ConfigMap", "PodDisruptionBudget"):
            the(kind, service)


@pytest.mark.parametrize("service", SERVICES)
def test_probes_hit_contract_paths_and_port(service: str) -> None:
    container = container_of(service)
    port = PORTS[service]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert probe in container, f"{service}: no {probe}"
        get = container[probe]["httpGet"]
        assert get["path"] == path, f"{service}: {probe} on {get['path']}, want {path}"
        assert resolve_port(container, get["port"]) == port, f"{service}: {probe} on wrong port"
    if "startupProbe" in container:
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("service", SERVICES)
def test_runs_the_right_role_on_the_right_port(service: str) -> None:
    container = container_of(service)
    command = container["command"]
    assert command == [f"vigie-{service}"]
    # The command must be a console script the package really declares.
    assert command[0] in console_scripts(service)
    assert the("ConfigMap", service)["data"]["VIGIE_PORT"] == str(PORTS[service])
    svc = the("Service", service)["spec"]
    assert [p["port"] for p in svc["ports"]] == [PORTS[service]]
    assert resolve_port(container, svc["ports"][0]["targetPort"]) == PORTS[service]


@pytest.mark.parametrize("service", SERVICES)
def test_requests_and_limits(service: str) -> None:
    resources = container_of(service)["resources"]
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= resources[bound].keys(), f"{service}: {bound} incomplete"
    limit = memory_bytes(resources["limits"]["memory"])
    assert memory_bytes(resources["requests"]["memory"]) <= limit
    if service == "moderator":
        # ONNX models and their sessions: a 256Mi pod would be OOM-killed at load.
        assert limit >= 2**30
    else:
        assert limit <= 512 * 2**20, f"{service}: {limit} bytes is more than it needs"


@pytest.mark.parametrize("service", SERVICES)
def test_locked_down(service: str) -> None:
    pod = the("Deployment", service)["spec"]["template"]["spec"]
    container = container_of(service)
    sc = container.get("securityContext", {})
    pod_sc = pod.get("securityContext", {})
    assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, f"{service}: may run as root"
    assert pod_sc.get("runAsUser", sc.get("runAsUser", 0)) != 0
    assert sc.get("readOnlyRootFilesystem") is True, f"{service}: writable root filesystem"
    assert sc.get("allowPrivilegeEscalation") is False, f"{service}: privilege escalation allowed"
    assert sc.get("capabilities", {}).get("drop") == ["ALL"], f"{service}: capabilities kept"
    assert not sc.get("capabilities", {}).get("add"), f"{service}: capabilities added"
    assert not sc.get("privileged", False)
    assert pod.get("automountServiceAccountToken") is False
    # A read-only root needs writable scratch: /tmp and the image's var dir, each an emptyDir.
    # Not ingest's var: its state is in the database, shared by its replicas, never in a pod.
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    for path in ("/tmp",) if service == "ingest" else ("/tmp", "/app/var"):
        assert path in mounts, f"{service}: {path} not mounted"
        assert "emptyDir" in volumes[mounts[path]], f"{service}: {path} is not an emptyDir"
    if service == "ingest":
        assert "/app/var" not in mounts, "ingest: per-pod state would not be shared by its replicas"


@pytest.mark.parametrize("service", SERVICES)
def test_config_and_secrets_from_references(service: str) -> None:
    container = container_of(service)
    refs = container["envFrom"]
    assert {"secretRef": {"name": f"vigie-{service}"}} in refs
    assert {"configMapRef": {"name": "vigie-common"}} in refs
    # Secret values never sit in the manifest itself.
    for env in container.get("env", []):
        assert "value" not in env or not re.search(r"SECRET|TOKEN|KEY|PASSWORD", env["name"])
    assert not k8s_objects("Secret"), "Secrets are created out of band, never committed"


@pytest.mark.parametrize("service", SERVICES)
def test_scraped_on_metrics(service: str) -> None:
    annotations = the("Deployment", service)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(PORTS[service])


@pytest.mark.parametrize("service", SERVICES)
def test_selectors_match(service: str) -> None:
    deployment = the("Deployment", service)["spec"]
    labels = deployment["template"]["metadata"]["labels"]
    selectors = [
        deployment["selector"]["matchLabels"],
        the("PodDisruptionBudget", service)["spec"]["selector"]["matchLabels"],
        the("Service", service)["spec"]["selector"],
    ]
    for selector in selectors:
        assert selector.items() <= labels.items(), f"{service}: selector {selector} matches no pod"
    pdb = the("PodDisruptionBudget", service)["spec"]
    # minAvailable equal to the replicas would block every node drain.
    if "minAvailable" in pdb:
        assert pdb["minAvailable"] < deployment["replicas"]


def test_common_config_makes_pods_reachable() -> None:
    common = [c for c in k8s_objects("ConfigMap") if c["metadata"]["name"] == "vigie-common"]
    assert len(common) == 1
    data = common[0]["data"]
    # The services' default host is 127.0.0.1: probes from the kubelet would never reach it.
    assert data["VIGIE_HOST"] == ALL_INTERFACES
    assert data["VIGIE_BUS_URL"].startswith("kafka://")
    assert data["VIGIE_ENVIRONMENT"] == "production"


def test_kustomize_renders() -> None:
    if shutil.which("kubectl") is None:
        # kubectl ships with this machine kind's image, so in CI its absence is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail("kubectl is not installed")
        pytest.skip("kubectl not installed")
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    # The four services, and ingest's one-replica YouTube poller (tests/deploy/test_k8s_schemas.py).
    expected = [f"vigie-{s}" for s in SERVICES] + ["vigie-ingest-poller"]
    assert sorted(d["metadata"]["name"] for d in deployments) == sorted(expected)
    for d in docs:
        assert d["kind"] == "Namespace" or d["metadata"]["namespace"] == "vigie"
    for d in deployments:
        image = d["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image != "vigie" and ":" in image, "kustomize images did not set registry and tag"


# --- docker compose ------------------------------------------------------------------------------

# ${NAME:?message}: compose stops, naming the variable, when it is unset or empty.
REQUIRED = re.compile(r"^\$\{(VIGIE_[A-Z0-9_]+):\?[^}]*\}$")
SECRET_NAME = re.compile(r"SECRET|TOKEN|_KEY$|PASSWORD")


@pytest.mark.parametrize("service", SERVICES)
def test_compose_service(service: str) -> None:
    spec = compose()["services"][service]
    port = PORTS[service]
    env = spec["environment"]
    assert spec["command"] == [f"vigie-{service}"]
    assert f"{port}:{port}" in spec["ports"]
    assert str(env["VIGIE_PORT"]) == str(port)
    assert env["VIGIE_HOST"] == ALL_INTERFACES
    assert env["VIGIE_BUS_URL"] == "kafka://kafka:9092"
    db = env["VIGIE_DATABASE_URL"]
    assert db.startswith("postgresql+asyncpg://") and "@postgres:5432/" in db
    assert db.endswith(f"/vigie_{service}"), f"{service}: shares another service's database"
    test = spec["healthcheck"]["test"]
    assert f"127.0.0.1:{port}/readyz" in " ".join(test), f"{service}: healthcheck not on /readyz"
    for dep in ("kafka", "postgres"):
        assert spec["depends_on"][dep]["condition"] == "service_healthy"
    assert spec["read_only"] is True
    # A read-only root needs writable scratch: /tmp and the image's var dir.
    writable = {t.split(":")[0] for t in spec["tmpfs"]}
    writable |= {v.split(":")[1] for v in spec.get("volumes", [])}
    assert {"/tmp", "/app/var"} <= writable, f"{service}: no writable /tmp or /app/var"
    assert spec["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in spec["security_opt"]


def test_compose_secrets_fail_loudly() -> None:
    services = compose()["services"]
    seen = 0
    for name, spec in services.items():
        for key, value in (spec.get("environment") or {}).items():
            if not SECRET_NAME.search(key) or key.endswith("_FILE") or value is None:
                continue  # None: passed through from the shell only when set there
            seen += 1
            assert REQUIRED.match(str(value)), f"{name}.{key}={value!r}: use ${{{key}:?...}}"
        for key, value in (spec.get("environment") or {}).items():
            if key == "VIGIE_DATABASE_URL":
                assert ":?" in value, f"{name}: database password must be required"
    assert seen >= 5
    tokens = compose()["secrets"]["api_tokens"]["file"]
    assert REQUIRED.match(tokens)
    # No default anywhere for a secret, even hidden in a larger string.
    assert not re.search(r"\$\{[A-Z_]*(SECRET|TOKEN|KEY|PASSWORD)[A-Z_]*:?-", COMPOSE.read_text())


def test_compose_backing_services_healthy() -> None:
    services = compose()["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    env = services["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert services["postgres"]["image"].startswith("postgres:15")
    for name in ("kafka", "postgres"):
        assert services[name]["healthcheck"]["test"], f"{name}: no healthcheck"
    init = Path(COMPOSE.parent, "deploy/docker/postgres-init.sql").read_text()
    for service in SERVICES:
        assert f"CREATE DATABASE vigie_{service};" in init
