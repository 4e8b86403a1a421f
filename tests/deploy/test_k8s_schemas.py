"""Every manifest `kubectl kustomize deploy/k8s` renders is valid against the Kubernetes schemas
(offline, from the kubernetes-validate package), and YouTube is polled by exactly one pod."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy._load import K8S

# The oldest Kubernetes minor still supported by the major clouds when this was written.
KUBERNETES = "1.30.0"


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is not installed")
        pytest.skip("kubectl not installed")
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def test_every_rendered_manifest_is_valid_for_kubernetes(rendered: list[dict[str, Any]]) -> None:
    kinds = {doc["kind"] for doc in rendered}
    assert {"Namespace", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget"} <= kinds
    for doc in rendered:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_a_misspelt_field_is_caught(rendered: list[dict[str, Any]]) -> None:
    deployment = copy.deepcopy(next(doc for doc in rendered if doc["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)
    deployment = copy.deepcopy(next(doc for doc in rendered if doc["kind"] == "Deployment"))
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


def _env(doc: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for container in doc["spec"]["template"]["spec"]["containers"]:
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                env |= config_maps[source["configMapRef"]["name"]]
        env |= {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return env


def test_youtube_is_polled_by_one_pod_only(rendered: list[dict[str, Any]]) -> None:
    config_maps = {
        doc["metadata"]["name"]: doc.get("data", {}) for doc in rendered if doc["kind"] == "ConfigMap"
    }
    ingest_roles = [
        doc
        for doc in rendered
        if doc["kind"] == "Deployment"
        and doc["spec"]["template"]["spec"]["containers"][0]["command"] == ["vigie-ingest"]
    ]
    # The setting defaults to on, so a replica that does not say "false" polls.
    polling = [d for d in ingest_roles if _env(d, config_maps).get("VIGIE_YOUTUBE_POLLER", "true") != "false"]
    assert [d["metadata"]["name"] for d in polling] == ["vigie-ingest-poller"]
    [poller] = polling
    assert poller["spec"]["replicas"] == 1
    # Recreate: the old poller is gone before the new one starts, even during a rollout.
    assert poller["spec"]["strategy"] == {"type": "Recreate"}
    # No webhook reaches it: the ingest Service does not select its pods.
    services = [d for d in rendered if d["kind"] == "Service"]
    labels = poller["spec"]["template"]["metadata"]["labels"]
    for service in services:
        selector = service["spec"]["selector"]
        assert not all(labels.get(k) == v for k, v in selector.items()), service["metadata"]["name"]
