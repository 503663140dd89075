"""The manifests of deploy/kubernetes as a cluster would receive them: every
overlay rendered by kustomize, checked against the Kubernetes schemas
(kubernetes-validate, offline: the schemas ship in the package) and
checkov's Kubernetes policies."""
from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from tests.deploy.cluster import KUBERNETES, OVERLAYS, containers, documents, find, tool

SECRETS_EXAMPLE = KUBERNETES / "secrets.example.yaml"


def test_there_is_a_small_and_a_production_overlay():
    assert {"small", "production"} <= set(OVERLAYS)


def _validate(path) -> subprocess.CompletedProcess:
    return subprocess.run([tool("kubernetes-validate"), "--strict", str(path)],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_manifest_validates_against_the_kubernetes_schemas(overlay, rendered, manifests):
    result = _validate(rendered[overlay])
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line for line in result.stdout.splitlines() if " passed for resource " in line]
    assert len(passed) == len(manifests[overlay]), result.stdout


def test_the_secret_example_validates_and_holds_only_placeholders():
    result = _validate(SECRETS_EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    (secret,) = documents(SECRETS_EXAMPLE.read_text())
    for key, value in secret["stringData"].items():
        assert "REPLACE" in value or key == "HANDOFF_TG_CHAT_ID", f"{key} must be a placeholder"


def test_the_schema_check_rejects_a_misspelt_field(tmp_path):
    """The validator really reads the fields (strict: unknown ones fail)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Service
        metadata: {name: x}
        spec:
          selectr: {app: x}
          ports: [{port: 80}]
        """))
    assert _validate(bad).returncode != 0


@pytest.fixture(scope="module")
def checkov_results(rendered, tmp_path_factory):
    """One checkov run over every overlay and a pod that breaks the rules
    (so a run that checks nothing cannot pass)."""
    control = tmp_path_factory.mktemp("checkov") / "root-pod.yaml"
    control.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: root-pod, namespace: hotline}
        spec:
          containers:
            - {name: c, image: "example:latest"}
        """))
    files = [*rendered.values(), control]
    command = [tool("checkov"), "--framework", "kubernetes", "--output", "json", "--compact",
               "--skip-download", *[arg for f in files for arg in ("-f", str(f))]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.stdout, result.stderr
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    (report,) = [r for r in reports if r["check_type"] == "kubernetes"]
    return report["results"], control


def _of(checks, path):
    return [c for c in checks if c["file_path"].endswith(path.name)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_kubernetes_policies_pass(overlay, rendered, checkov_results):
    results, _ = checkov_results
    failed = _of(results["failed_checks"], rendered[overlay])
    assert not failed, "\n".join(f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in failed)
    assert len(_of(results["passed_checks"], rendered[overlay])) > 100
    assert not results.get("parsing_errors")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_skipped_checkov_policy_is_justified(overlay, rendered, checkov_results):
    results, _ = checkov_results
    for check in _of(results["skipped_checks"], rendered[overlay]):
        reason = (check["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} skipped without a reason"


def test_checkov_finds_a_pod_that_runs_as_root(checkov_results):
    results, control = checkov_results
    failed = {c["check_id"] for c in _of(results["failed_checks"], control)}
    # root allowed, privilege escalation, writable root fs, no limits, latest tag
    assert {"CKV_K8S_23", "CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_13", "CKV_K8S_14"} <= failed


def _quantity(value) -> float:
    value = str(value)
    units = {"m": 1e-3, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30}
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_requests_no_more_than_its_limit(overlay, manifests):
    for workload, container in containers(manifests[overlay]):
        resources = container["resources"]
        for what in ("cpu", "memory"):
            assert _quantity(resources["requests"][what]) <= _quantity(resources["limits"][what]), \
                f"{workload['metadata']['name']}/{container['name']} {what}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_runs_unprivileged_on_a_read_only_filesystem(overlay, manifests):
    for workload, container in containers(manifests[overlay]):
        context = container["securityContext"]
        name = f"{workload['metadata']['name']}/{container['name']}"
        assert context["runAsNonRoot"] is True and context["runAsUser"] >= 10000, name
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["capabilities"]["drop"] == ["ALL"] and not context["capabilities"].get("add"), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_token_comes_from_the_secret_not_from_a_manifest(overlay, manifests):
    secret_like = ("TOKEN", "PASSWORD", "SECRET", "CONFIRMATION")
    docs = manifests[overlay]
    assert not find(docs, "Secret"), "secrets are created out of band (secrets.example.yaml)"
    for config in find(docs, "ConfigMap"):
        for key in config.get("data", {}):
            assert not any(word in key for word in secret_like), f"{key} in ConfigMap {config['metadata']['name']}"
    for workload, container in containers(docs):
        for entry in container.get("env", []):
            if any(word in entry["name"] for word in secret_like):
                assert entry["valueFrom"]["secretKeyRef"]["name"] == "hotline-secrets", entry["name"]


def test_the_secret_example_lists_exactly_the_keys_the_workloads_read(manifests):
    (secret,) = documents(SECRETS_EXAMPLE.read_text())
    read = set()
    for docs in manifests.values():
        for _, container in containers(docs):
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == secret["metadata"]["name"]
                    read.add(ref["key"])
    assert read == set(secret["stringData"])
