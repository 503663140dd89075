"""Start the action server and `rasa run` on free local ports.

Used by the REST tests and the latency benchmark, so that both measure the
same thing `make run` starts: real processes, real HTTP, Rasa started by
hotline.rasa_server with its API locked by a key of its own (``auth`` signs
the bearer tokens API calls need: ``requests.get(url, auth=servers.auth)``).
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
import yaml

from hotline.paths import ROOT
from hotline.ops.ports import free_port
from hotline.rasa_api import BearerAuth




def wait_for(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up in {timeout} s")


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class LocalServers:
    def __init__(self, workdir: Path, model: Path, extra_env: Optional[Dict[str, str]] = None,
                 credentials: Optional[Path] = None, extra_endpoints: Optional[Dict[str, Any]] = None) -> None:
        self.workdir = workdir
        self.extra_env = dict(extra_env or {})
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.pickups: Dict[str, Dict[str, Any]] = {}  # REST sender → its ticket's pickup (handoff/pickup.py)
        self.rasa_log = workdir / "rasa.log"
        self.action_log = workdir / "actions.log"
        endpoints = workdir / "endpoints.yml"
        endpoints.write_text(
            yaml.safe_dump(
                {
                    "action_endpoint": {"url": f"http://127.0.0.1:{self.action_port}/webhook"},
                    "tracker_store": {"type": "hotline.rasa.tracker_store.MaskingSQLTrackerStore",
                                      "dialect": "sqlite", "db": str(workdir / "tracker.db")},
                    **(extra_endpoints or {}),
                }
            )
        )
        self.api_key = str((extra_env or {}).get("RASA_API_TOKEN") or secrets.token_urlsafe(32))
        self.auth = BearerAuth(self.api_key)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **(extra_env or {}),
               "RASA_API_TOKEN": self.api_key}
        self.actions = subprocess.Popen(
            [sys.executable, "-m", "hotline.action_server", "--port", str(self.action_port)],
            cwd=ROOT, env=env, stdout=open(self.action_log, "w"), stderr=subprocess.STDOUT,
        )
        self.rasa = subprocess.Popen(
            [sys.executable, "-m", "hotline.rasa_server", "run", "--interface", "127.0.0.1",
             "--port", str(self.rasa_port), "--enable-api",
             "--model", str(model), "--endpoints", str(endpoints),
             "--credentials", str(credentials or ROOT / "credentials.yml")],
            cwd=ROOT, env=env, stdout=open(self.rasa_log, "w"), stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{self.action_port}/health", 120, self.actions)
            # "/" needs no API token: a 401 on /status would log an ERROR.
            wait_for(f"http://127.0.0.1:{self.rasa_port}/", 300, self.rasa)
        except BaseException:  # a pytest timeout too: never leave servers behind
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def tracker(self, conversation_id: str) -> Dict[str, Any]:
        reply = requests.get(f"{self.url}/conversations/{conversation_id}/tracker", auth=self.auth, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def send(self, sender: str, message: Any) -> List[Dict[str, Any]]:
        reply = requests.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
        )
        reply.raise_for_status()
        messages = reply.json()
        for message in messages:
            custom = message.get("custom")
            if isinstance(custom, dict) and "handoff_pickup" in custom:
                self.pickups[sender] = custom["handoff_pickup"]
        return messages

    def logs(self) -> str:
        return self.rasa_log.read_text(errors="replace") + self.action_log.read_text(errors="replace")

    def stop(self) -> None:
        for proc in (self.rasa, self.actions):
            if proc.poll() is None:
                proc.terminate()
        for proc in (self.rasa, self.actions):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
