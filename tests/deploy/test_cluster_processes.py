"""The cluster runs the processes the one-machine profiles run, the same way.

The one-machine side is read from the project itself: the production
supervisor (hotline/ops/supervisor/) is started with its infrastructure steps
stubbed and every process it spawns recorded, with command and environment;
the Makefile and the start scripts are scanned for the modules they run.
"""
from __future__ import annotations

import importlib
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from tests.deploy.cluster import (ROOT, containers, environment, find, pod_spec, python_commands,
                                  workloads)

# Options whose values are addresses, ports, tokens or the model file: they
# differ between loopback and a cluster by design.
PLACE_OPTIONS = {"--interface", "--host", "--port", "--http-port", "--model", "--auth-token", "--rasa-url"}

# Modules the one-machine scripts run that are not processes of a cluster.
NOT_CLUSTER_PROCESSES = {
    "hotline.nlu.training": "trains the model while the image is built (Dockerfile)",
    "voice.model_download": "downloads the voice models; the cluster mounts them (components/phone)",
    "voice.loop": "a developer's microphone loop",
    "pytest": "the test suite",
    "hotline.rasa_api": "prints an API token for a person at a terminal (make run's banner)",
    "rasa": "Rasa's own CLI for a developer (make shell, test-nlu, test-stories); every server runs "
            "through hotline.rasa_server",
    "venv": "make lock's throw-away environment",
    "workbench": "the trainers' workbench edits a checkout of the project (data/, git branches) and trains "
                 "models; it runs beside a checkout on loopback, never behind the cluster's ingress",
}
ONE_MACHINE_SCRIPTS = ("Makefile", "scripts/run.sh", "deploy/run_prod.sh")
PRODUCTION_START = ROOT / "deploy" / "run_prod.sh"


def supervisor_module() -> str:
    """The module `make run-prod` hands the profile to (its last command)."""
    return re.findall(r"-m\s+([\w.]+)\s+run\b", PRODUCTION_START.read_text())[-1]


@pytest.fixture(scope="module")
def supervisor(tmp_path_factory) -> Dict[str, Any]:
    """What `make run-prod` starts, recorded instead of started."""
    prod = importlib.import_module(supervisor_module())
    saved = dict(os.environ)
    os.environ.clear()  # only the profile's own variables, not this shell's
    try:
        base = tmp_path_factory.mktemp("prod")
        model = base / "model.tar.gz"
        model.write_bytes(b"")
        profile = prod.ProdProfile(prod.ProdConfig.ephemeral(base, model=model))
        spawned: Dict[str, Tuple[List[str], Dict[str, str]]] = {}
        ran: List[List[str]] = []

        def spawn(name, command, env=None):
            spawned[name] = (list(command), dict(env or profile.env()))

        def run(command, *args, **kwargs):
            ran.append(list(command))
            return subprocess.CompletedProcess(command, 0, "", "")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(profile, "_spawn", spawn)
            for step in ("start_pg", "start_redis", "start_nginx", "wait_action_server", "wait_actions_lb",
                         "wait_rasa"):
                patch.setattr(profile, step, lambda *a, **k: None)
            patch.setattr(subprocess, "run", run)
            profile.start(log=lambda message: None)
            migrations = {True: [c for c in ran]}
            ran.clear()
            profile.config.load_demo = False
            profile.migrate()
            migrations[False] = list(ran)
        return {"spawned": spawned, "migrations": migrations, "config": prod.ProdConfig()}
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _from_module(command: List[str]) -> List[str]:
    return command[command.index("-m"):]


def _options(command: List[str]) -> Dict[str, Any]:
    """--option value / --flag pairs after the module (and Rasa's subcommand)."""
    options: Dict[str, Any] = {}
    words = command[2:]
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            if i + 1 < len(words) and not words[i + 1].startswith("--"):
                options[word] = words[i + 1]
                i += 2
                continue
            options[word] = True
        i += 1
    return options


def _file_option(value: Any) -> Any:
    """A path the supervisor gives absolutely is the image's path relative to /app."""
    if isinstance(value, str) and value.startswith(str(ROOT) + os.sep):
        return str(Path(value).relative_to(ROOT))
    return value


def _identity(command: List[str]) -> Tuple[str, ...]:
    """Module, plus the subcommand of Rasa's CLI."""
    module = command[1]
    return (module, command[2]) if module == "rasa" else (module,)


def _cluster_processes(docs) -> Dict[Tuple[str, ...], List[Tuple[Dict, Dict, List[str]]]]:
    found: Dict[Tuple[str, ...], List] = {}
    for workload, container in containers(docs):
        for command in python_commands(container.get("command", []) + container.get("args", [])):
            found.setdefault(_identity(command), []).append((workload, container, command))
    return found


@pytest.mark.parametrize("overlay", ["small", "production"])
def test_each_process_of_the_production_supervisor_is_a_deployment_with_its_command(
        overlay, supervisor, manifests):
    cluster = _cluster_processes(manifests[overlay])
    kinds = {}
    for name, (command, env) in supervisor["spawned"].items():
        if "-m" not in command:
            continue  # nginx and redis-server: the Ingress and an external service
        kinds[_identity(_from_module(command))] = (_from_module(command), env)
    assert kinds, "the supervisor spawned no Python process: the recording is broken"
    for identity, (command, env) in kinds.items():
        matches = [m for m in cluster.get(identity, []) if m[0]["kind"] == "Deployment"]
        assert len(matches) == 1, f"{' '.join(identity)} must run in exactly one Deployment"
        workload, container, cluster_command = matches[0]
        ours, theirs = _options(command), _options(cluster_command)
        assert set(theirs) - PLACE_OPTIONS == set(ours) - PLACE_OPTIONS, f"{' '.join(identity)}: options differ"
        for option, value in ours.items():
            if option not in PLACE_OPTIONS:
                assert theirs[option] == _file_option(value), f"{' '.join(identity)} {option}"
        cluster_env = environment(manifests[overlay], container)
        missing = sorted(set(env) - set(cluster_env))
        assert not missing, f"{workload['metadata']['name']} lacks {missing}"
        assert cluster_env["HOTLINE_SERVICE"] == env["HOTLINE_SERVICE"]


def test_the_production_overlay_scales_from_the_supervisors_instance_counts(supervisor, manifests):
    docs = manifests["production"]
    config = supervisor["config"]
    spawned = supervisor["spawned"]
    counts = {"hotline.rasa_server": config.rasa_instances, "hotline.action_server": config.action_instances}
    cluster = _cluster_processes(docs)
    for module, count in counts.items():
        assert any(_from_module(c)[1] == module for c, _ in spawned.values() if "-m" in c)
        (identity,) = [i for i in cluster if i[0] == module]
        (deployment,) = [w for w, _, _ in cluster[identity] if w["kind"] == "Deployment"]
        (hpa,) = [h for h in find(docs, "HorizontalPodAutoscaler")
                  if h["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]]
        assert hpa["spec"]["minReplicas"] >= count, "one pod must be able to die, as on one machine"
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]


@pytest.mark.parametrize("overlay,demo", [("small", True), ("production", False)])
def test_the_migration_job_runs_the_supervisors_migrations(overlay, demo, supervisor, manifests):
    expected = [_from_module(c) for c in supervisor["migrations"][demo]]
    assert expected
    (job,) = find(manifests[overlay], "Job")
    (container,) = pod_spec(job)["containers"]
    commands = python_commands(container["command"])
    assert commands[: len(expected)] == expected


def _one_machine_modules() -> Dict[str, str]:
    found = {}
    for script in ONE_MACHINE_SCRIPTS:
        for module in re.findall(r"-m\s+([A-Za-z_][\w.]*)", (ROOT / script).read_text()):
            found.setdefault(module, script)
    return found


def test_every_process_the_one_machine_scripts_run_runs_in_some_overlay(manifests):
    cluster = set()
    for docs in manifests.values():
        cluster |= {identity[0] for identity in _cluster_processes(docs)}
    modules = _one_machine_modules()
    assert {"rasa", "handoff.console"} <= set(modules), modules  # the scan reads the scripts
    # The supervisor itself: Kubernetes supervises the pods.
    exempt = {**NOT_CLUSTER_PROCESSES, supervisor_module(): "the one-machine supervisor"}
    missing = {m: s for m, s in modules.items() if m not in cluster and m not in exempt}
    assert not missing, f"run by the one-machine scripts but by no workload: {missing}"
    stale = {m for m in NOT_CLUSTER_PROCESSES if m not in modules}
    assert not stale, f"exceptions for modules the scripts no longer run: {stale}"


def test_vk_long_polling_runs_in_the_rasa_deployment_as_make_vk_longpoll_does(manifests):
    modes = set(re.findall(r"VK_MODE=(\w+)", (ROOT / "Makefile").read_text()))
    assert modes
    for mode in modes:
        overlays = []
        for overlay, docs in manifests.items():
            for workload, container, _ in _cluster_processes(docs).get(("hotline.rasa_server",), []):
                if environment(docs, container).get("VK_MODE") == mode:
                    overlays.append(overlay)
                    # One poller: a second one would push the first one's key out.
                    assert workload["spec"]["replicas"] == 1
                    assert not [h for h in find(docs, "HorizontalPodAutoscaler")
                                if h["spec"]["scaleTargetRef"]["name"] == workload["metadata"]["name"]]
        assert overlays, f"no overlay runs Rasa with VK_MODE={mode}"


def test_a_single_reader_process_never_runs_twice(manifests):
    """Telegram allows one getUpdates reader; the console runs the handoff worker."""
    for docs in manifests.values():
        for workload in workloads(docs):
            command = pod_spec(workload)["containers"][0].get("command", [])
            modules = {c[1] for c in python_commands(command)}
            if modules & {"connectors.telegram.polling", "handoff.console"}:
                assert workload["spec"]["replicas"] == 1
                assert workload["spec"]["strategy"]["type"] == "Recreate"
