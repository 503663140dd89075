"""The embedded profile exactly as `make run` starts it, for the attack tests.

``scripts/run.sh`` runs in a copy of the repository (its own var/: secrets,
SQLite stores, logs) on free ports, with the real .venv and models linked
in. One instance serves every security test module of the session (one Rasa
server at a time on a shared machine); it stops when the test process ends.
"""
from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import requests

from hotline.ops.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
READY = "Ассистент горячей линии запущен"
# Settings a developer's shell may carry: the copy makes its own.
CLEARED = ("RASA_API_TOKEN", "WEBCHAT_SECRET", "HANDOFF_SECRET", "VOICE_CHANNEL_TOKEN", "DATABASE_URL",
           "WEBCHAT_ALLOWED_ORIGINS", "RASA_HOST", "ACTION_HOST", "HANDOFF_CONSOLE_HOST", "WEBCHAT_HOST",
           "HANDOFF_RASA_URL")
PICKUP_MAX_POLLS = 4


def _copy_repository(target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout.splitlines()
    for name in listed:
        source = ROOT / name
        if not source.is_file() or name.startswith(("tests/", "bench/")):
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    shutil.rmtree(target / "models", ignore_errors=True)
    (target / "models").symlink_to(ROOT / "models")


class EmbeddedRun:
    """`make run` (scripts/run.sh) in a throw-away copy of the repository."""

    def __init__(self, timeout: float = 420) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="hotline-security-"))
        self.root = self.base / "repo"
        self.root.mkdir()
        _copy_repository(self.root)
        self.ports = {name: free_port() for name in
                      ("RASA_PORT", "ACTION_PORT", "WEBCHAT_PORT", "HANDOFF_CONSOLE_PORT")}
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        env.update({k: str(v) for k, v in self.ports.items()})
        env.update(PYTHONUNBUFFERED="1", HANDOFF_PICKUP_MAX_POLLS=str(PICKUP_MAX_POLLS))
        self.env = env
        self.output_path = self.base / "run.out"
        self.proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=self.root, env=env,
                                     stdout=open(self.output_path, "w"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        atexit.register(self.stop)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scripts/run.sh exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            if READY in self.output():
                return
            time.sleep(1)
        raise TimeoutError(f"scripts/run.sh not ready in {timeout:.0f} s:\n{self.output()[-3000:]}")

    # --- what a test needs ----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['RASA_PORT']}"

    @property
    def demo_origin(self) -> str:
        return f"http://localhost:{self.ports['WEBCHAT_PORT']}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.root / 'var' / 'status.db'}"

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def secret(self, name: str) -> str:
        return (self.root / "var" / name).read_text().strip()

    def api_auth(self):
        from hotline.rasa_api import BearerAuth

        return BearerAuth(self.secret("rasa-api.secret"))

    def tracker(self, conversation_id: str) -> Dict:
        reply = requests.get(f"{self.url}/conversations/{conversation_id}/tracker", auth=self.api_auth(),
                             timeout=30)
        reply.raise_for_status()
        return reply.json()

    def user_texts(self, conversation_id: str) -> List[str]:
        return [e.get("text") for e in self.tracker(conversation_id).get("events", []) if e["event"] == "user"]

    def rest(self, sender: str, message: str, **extra) -> List[Dict]:
        reply = requests.post(f"{self.url}/webhooks/rest/webhook",
                              json={"sender": sender, "message": message, **extra}, timeout=60)
        reply.raise_for_status()
        return reply.json()

    def pids(self) -> List[int]:
        """Every process of the profile (run.sh's session)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getsid(int(entry.name)) == self.proc.pid:
                        found.append(int(entry.name))
                except (ProcessLookupError, PermissionError):
                    pass
        return found

    def listening(self) -> Dict[int, str]:
        """Port → local address of every TCP listener of the profile's processes (``ss -ltnp``)."""
        pids = set(self.pids())
        table = subprocess.run(["ss", "-ltnpH"], check=True, capture_output=True, text=True).stdout
        found: Dict[int, str] = {}
        for line in table.splitlines():
            owners = {int(p) for p in re.findall(r"pid=(\d+)", line)}
            if not owners & pids:
                continue
            local = line.split()[3]
            address, _, port = local.rpartition(":")
            found[int(port)] = address.strip("[]")
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        for pid in self.pids():  # anything the session left behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


_running: Optional[EmbeddedRun] = None


def embedded_run(trained_model: Path) -> EmbeddedRun:
    """The one `make run` of this test session (started on first use)."""
    global _running
    if _running is None or _running.proc.poll() is not None:
        assert trained_model.exists()
        _running = EmbeddedRun()
    return _running
