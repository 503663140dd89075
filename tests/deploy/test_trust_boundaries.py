"""What an attacker on the internet, or in a compromised pod, can reach.

On one machine the boundary is loopback plus nginx's public server
(deploy/nginx.conf.template); in the cluster it is the Ingress plus the
NetworkPolicies, evaluated here for the rendered overlays.
"""
from __future__ import annotations

import re
from typing import Dict, List

import pytest
import yaml

from tests.deploy.cluster import (ROOT, OVERLAYS, Peer, allowed, find, ingress_paths, path_routed,
                                  pod_labels, workloads)

NAMESPACE = "hotline"
INGRESS_CONTROLLER = Peer(namespace="ingress-nginx", labels={"app.kubernetes.io/name": "ingress-nginx"})
# A namespace the cluster's owner marks as the operators' network.
OPERATORS = Peer(namespace="operators", labels={"app": "internal-gateway"},
                 namespace_labels={"hotline.gov.ru/operators": "true"})
OTHER_TENANT = Peer(namespace="shop", labels={"app": "web"})
KUBE_DNS = Peer(namespace="kube-system", labels={"k8s-app": "kube-dns"})
TELEGRAM_API = Peer(address="149.154.167.220")  # api.telegram.org
PRIVATE_HOST = Peer(address="10.20.30.40")
MANAGED_POSTGRES = Peer(address="10.50.0.5")


def _public_nginx_locations() -> List[str]:
    """Locations of the one-machine profile's public server block."""
    template = (ROOT / "deploy" / "nginx.conf.template").read_text()
    public = template.split("server {")[1]
    locations = re.findall(r"location\s+(?:=\s+)?(\S+)\s*\{", public)
    return [loc for loc in locations if loc not in ("/", "/nginx-health")]


def _pods(docs) -> Dict[str, Peer]:
    return {pod_labels(w)["app.kubernetes.io/component"]: Peer(NAMESPACE, pod_labels(w)) for w in workloads(docs)}


def _port(docs, service: str) -> int:
    (svc,) = find(docs, "Service", service)
    return svc["spec"]["ports"][0]["port"]


def _channel_names() -> List[str]:
    """Input channels of the production credentials, by their Rasa names."""
    import importlib

    names = []
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    for path in credentials:
        module, _, attribute = path.rpartition(".")
        names.append(getattr(importlib.import_module(module), attribute).name())
    return names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_routes_only_what_nginx_makes_public_and_the_widget_files(overlay, manifests):
    from connectors.webchat.serve import STATIC

    public = _public_nginx_locations()
    assert "/webhooks/telegram/" in public  # the template is read
    paths = ingress_paths(manifests[overlay])
    assert paths
    for path, kind, service in paths:
        if service == "hotline-rasa":
            assert path in public, path
        elif service == "hotline-webchat":
            target = STATIC / path.lstrip("/")
            assert target.is_file() if kind == "Exact" else target.is_dir(), path
            assert not path.endswith(".html")
        else:
            raise AssertionError(f"{path} goes to {service}, which is not public")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_rasa_api_ops_and_internal_channels_are_not_on_the_ingress(overlay, manifests):
    docs = manifests[overlay]
    internal_channels = set(_channel_names()) - {"telegram", "vk", "max", "socketio"}
    assert {"rest", "handoff", "voice"} <= internal_channels
    never = ["/", "/status", "/version", "/model/parse", "/conversations/telegram_1/tracker",
             "/conversations/telegram_1/messages", "/ops/health", "/ops/metrics", "/demo.html",
             *(f"/webhooks/{name}/webhook" for name in internal_channels)]
    routed = [p for p in never if path_routed(docs, p)]
    assert not routed, f"{overlay} routes {routed}"
    # socket.io for the widget is on it in every profile.
    assert path_routed(docs, "/socket.io/")


def test_the_messenger_webhooks_are_public_only_where_no_poller_reads_them(manifests):
    docs = manifests["production"]
    assert path_routed(docs, "/webhooks/telegram/webhook") and path_routed(docs, "/webhooks/vk/webhook")
    assert path_routed(docs, "/webhooks/max/webhook")
    assert not path_routed(manifests["small"], "/webhooks/telegram/webhook")


# Who may open a connection to each internal service, as loopback decides
# on one machine: the action server for Rasa only, the console for the
# operators only, Rasa for the ingress controller and its own clients.
REACHABLE_FROM = {
    "actions": {"rasa"},
    "console": {"operators"},
    "rasa": {"ingress", "console", "telegram-polling", "max-polling", "phone"},
}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("target", sorted(REACHABLE_FROM))
def test_each_internal_service_is_reachable_only_from_its_clients(overlay, target, manifests):
    docs = manifests[overlay]
    pods = _pods(docs)
    port = _port(docs, f"hotline-{target}")
    sources = {**pods, "ingress": INGRESS_CONTROLLER, "operators": OPERATORS, "other tenant": OTHER_TENANT}
    reached_by = {name for name, peer in sources.items()
                  if name != target and allowed(docs, peer, pods[target], port)}
    assert reached_by == REACHABLE_FROM[target] & set(sources)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_egress_goes_only_where_each_process_needs_it(overlay, manifests):
    docs = manifests[overlay]
    pods = _pods(docs)
    for name, pod in pods.items():
        assert allowed(docs, pod, KUBE_DNS, 53), f"{name} cannot resolve names"
        # Nobody reaches a private host's web port (cloud metadata, other services).
        assert not allowed(docs, pod, PRIVATE_HOST, 443), name
        assert not allowed(docs, pod, PRIVATE_HOST, 80), name
        needs_database = name in ("rasa", "actions", "console", "migrate", "purge")
        assert allowed(docs, pod, MANAGED_POSTGRES, 5432) == needs_database, name
        # The messenger APIs: Rasa answers citizens, the console runs the
        # operators' Telegram group, the pollers read Telegram and MAX (both
        # public HTTPS, so one rule serves either address).
        assert allowed(docs, pod, TELEGRAM_API, 443) == \
            (name in ("rasa", "console", "telegram-polling", "max-polling")), name
    assert allowed(docs, pods["rasa"], MANAGED_POSTGRES, 6379)
    assert not allowed(docs, pods["actions"], MANAGED_POSTGRES, 6379)
    assert not allowed(docs, pods["webchat"], TELEGRAM_API, 443)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_isolated_by_a_default_deny(overlay, manifests):
    docs = manifests[overlay]
    deny = [p for p in find(docs, "NetworkPolicy")
            if p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny
    # A pod without a rule of its own can reach nothing but DNS.
    stranger = Peer(NAMESPACE, {"app.kubernetes.io/component": "debug-shell"})
    assert allowed(docs, stranger, KUBE_DNS, 53)
    assert not allowed(docs, stranger, TELEGRAM_API, 443)
    assert not allowed(docs, stranger, MANAGED_POSTGRES, 5432)
    assert not allowed(docs, OTHER_TENANT, stranger, 8080)
