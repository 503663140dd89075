"""Reading the rendered Kubernetes manifests of deploy/kubernetes.

The checkers (kubectl with its built-in kustomize, kubernetes-validate,
checkov, hadolint) live in .venv-tools, which scripts/setup_tools.sh
installs from requirements-tools.lock: their dependencies conflict with
Rasa's pins, so they are run as programs, not imported.
"""
from __future__ import annotations

import ipaddress
import shlex
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(p.parent.name for p in (KUBERNETES / "overlays").glob("*/kustomization.yaml"))
TOOLS = ROOT / ".venv-tools" / "bin"

WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")


def tool(name: str) -> str:
    path = TOOLS / name
    if not path.exists():
        raise AssertionError(f"{path} is missing: run `make setup` (scripts/setup_tools.sh installs it)")
    return str(path)


def render(overlay: str) -> str:
    result = subprocess.run([tool("kubectl"), "kustomize", str(KUBERNETES / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kustomize failed for {overlay}:\n{result.stderr}"
    return result.stdout


def documents(text: str) -> List[Dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(docs: List[Dict[str, Any]], kind: str, name: Optional[str] = None) -> List[Dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def pod_spec(workload: Dict[str, Any]) -> Dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def pod_labels(workload: Dict[str, Any]) -> Dict[str, str]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["metadata"]["labels"]


def workloads(docs: List[Dict[str, Any]]) -> Iterator[Dict[str, Any]]:
    return (d for d in docs if d["kind"] in WORKLOAD_KINDS)


def containers(docs: List[Dict[str, Any]]) -> Iterator[Tuple[Dict[str, Any], Dict[str, Any]]]:
    for workload in workloads(docs):
        spec = pod_spec(workload)
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield workload, container


def python_commands(command: List[str]) -> List[List[str]]:
    """The `python -m module args...` invocations of a container command (a
    shell line joined with && counts as several), from `-m` on."""
    if command[:2] == ["/bin/sh", "-ec"] or command[:2] == ["/bin/sh", "-c"]:
        return [c for part in command[2].split("&&") for c in python_commands(shlex.split(part))]
    if "-m" in command and Path(command[0]).name.startswith("python"):
        return [command[command.index("-m"):]]
    return []


def environment(docs: List[Dict[str, Any]], container: Dict[str, Any]) -> Dict[str, Optional[str]]:
    """Variables a container gets: ConfigMaps by envFrom, then env entries
    (None for a value from a Secret or the downward API)."""
    env: Dict[str, Optional[str]] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            (config,) = find(docs, "ConfigMap", ref["name"])
            env.update(config.get("data", {}))
        elif source.get("secretRef"):
            raise AssertionError("whole Secrets as environment hide which tokens a process gets")
    for entry in container.get("env", []):
        env[entry["name"]] = entry.get("value")
    return env


# --- NetworkPolicy semantics (enough of them for these manifests) --------------

def _selects(selector: Optional[Mapping[str, Any]], labels: Mapping[str, str]) -> bool:
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        present = expr["key"] in labels
        op = expr["operator"]
        if op == "In" and not (present and labels[expr["key"]] in expr["values"]):
            return False
        if op == "NotIn" and present and labels[expr["key"]] in expr["values"]:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


class Peer:
    """A pod (namespace, labels) or an address outside the cluster."""

    def __init__(self, namespace: Optional[str] = None, labels: Optional[Mapping[str, str]] = None,
                 address: Optional[str] = None, namespace_labels: Optional[Mapping[str, str]] = None) -> None:
        self.namespace = namespace
        self.labels = dict(labels or {})
        self.address = address
        self._namespace_labels = dict(namespace_labels or {})

    def namespace_labels(self) -> Dict[str, str]:
        if not self.namespace:
            return {}
        return {**self._namespace_labels, "kubernetes.io/metadata.name": self.namespace}


def _peer_matches(rule_peer: Mapping[str, Any], peer: Peer, policy_namespace: str) -> bool:
    if "ipBlock" in rule_peer:
        if peer.address is None:
            return False
        block = rule_peer["ipBlock"]
        address = ipaddress.ip_address(peer.address)
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", []))
    if peer.namespace is None:
        return False
    if "namespaceSelector" in rule_peer:
        if not _selects(rule_peer["namespaceSelector"], peer.namespace_labels()):
            return False
    elif peer.namespace != policy_namespace:
        return False
    return _selects(rule_peer.get("podSelector"), peer.labels)


def _port_matches(ports: Optional[List[Mapping[str, Any]]], port: int) -> bool:
    return not ports or any(p.get("port") == port and p.get("protocol", "TCP") == "TCP" for p in ports)


def allowed(docs: List[Dict[str, Any]], source: Peer, destination: Peer, port: int) -> bool:
    """Whether the NetworkPolicies let `source` open a TCP connection to
    `destination`:port (both directions must allow it when a side is a pod
    of the hotline namespace)."""
    policies = find(docs, "NetworkPolicy")

    def side_allows(pod: Peer, direction: str, other: Peer) -> bool:
        key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        selecting = [p for p in policies if p["metadata"]["namespace"] == pod.namespace
                     and _selects(p["spec"]["podSelector"], pod.labels)
                     and direction in p["spec"].get("policyTypes", ["Ingress"])]
        if not selecting:
            return True  # no policy isolates this pod in this direction
        for policy in selecting:
            for rule in policy["spec"].get(key) or []:
                peers = rule.get(peers_key)
                if (not peers or any(_peer_matches(p, other, pod.namespace) for p in peers)) \
                        and _port_matches(rule.get("ports"), port):
                    return True
        return False

    namespaces = {p["metadata"]["namespace"] for p in policies}
    egress_ok = source.namespace not in namespaces or side_allows(source, "Egress", destination)
    ingress_ok = destination.namespace not in namespaces or side_allows(destination, "Ingress", source)
    return egress_ok and ingress_ok


def ingress_paths(docs: List[Dict[str, Any]]) -> List[Tuple[str, str, str]]:
    """(path, pathType, backend Service) of every Ingress rule."""
    found = []
    for ingress in find(docs, "Ingress"):
        for rule in ingress["spec"].get("rules", []):
            for path in rule["http"]["paths"]:
                found.append((path["path"], path["pathType"], path["backend"]["service"]["name"]))
    return found


def path_routed(docs: List[Dict[str, Any]], request_path: str) -> bool:
    for path, kind, _ in ingress_paths(docs):
        if kind == "Exact" and request_path == path:
            return True
        if kind in ("Prefix", "ImplementationSpecific"):
            prefix = path.rstrip("/")
            if request_path == prefix or request_path.startswith(prefix + "/") or prefix == "":
                return True
    return False

