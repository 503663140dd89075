"""The jobs as the workbench sees them: one at a time (an exclusive flock on
``<state>/training.lock`` handed to the runner process), read from their
files, started and stopped."""
from __future__ import annotations

import fcntl
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from hotline.paths import ROOT
from workbench.jobs.common import CANCEL, LOG_TAIL, STEPS, Workspace, clock, now, read_json, write_json


class NotStopped(Exception):
    """A job cannot be stopped; ``str()`` is the message for the trainer."""


class Busy(Exception):
    """A job is running already; ``str()`` is the message for the trainer."""

    def __init__(self, job: Optional[Dict[str, Any]]) -> None:
        super().__init__()
        self.job = job

    def __str__(self) -> str:
        job = self.job
        if not job:
            return ("Обучение уже идёт. Дождитесь его окончания — ход обучения виден на странице «Обучение», "
                    "и после этого запустите новое.")
        who = job.get("trainer", {}).get("name") or job.get("trainer", {}).get("login") or "другой тренер"
        step = job.get("step") or 1
        title = STEPS[min(step, len(STEPS)) - 1][1]
        return (f"Обучение уже идёт: его запустил тренер {who} в {clock(job.get('created'))}, "
                f"сейчас шаг {step} из {len(STEPS)} — «{title}». Можно дождаться его окончания "
                f"(ход обучения виден на странице «Обучение») и затем запустить новое: "
                f"ваши изменения в данных попадут в следующую модель.")


def _lock_is_free(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases the probe's lock if it got one
    return True


class Jobs:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    # --- reading ---------------------------------------------------------

    def get(self, job_id: str) -> Optional[Dict[str, Any]]:
        try:
            path = self.ws.job_dir(job_id) / "job.json"
        except KeyError:
            return None
        job = read_json(path)
        if job and job.get("status") == "running" and _lock_is_free(self.ws.lock):
            # Re-read: the runner writes its last state before it lets the lock go.
            job = read_json(path)
            if job and job.get("status") == "running":
                job = _interrupted(job)
                write_json(path, job)
        return job

    def history(self, limit: int = 20) -> List[Dict[str, Any]]:
        if not self.ws.jobs.is_dir():
            return []
        ids = sorted((p.name for p in self.ws.jobs.iterdir() if p.is_dir()), reverse=True)[:limit]
        return [job for job in (self.get(i) for i in ids) if job]

    def current(self) -> Optional[Dict[str, Any]]:
        """The running job, if any."""
        for job in self.history(5):
            if job.get("status") == "running":
                return job
        return None

    def log(self, job_id: str, tail: int = LOG_TAIL) -> List[str]:
        try:
            path = self.ws.job_dir(job_id) / "log.txt"
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except (KeyError, FileNotFoundError):
            return []
        return lines[-tail:]

    # --- stopping --------------------------------------------------------

    def cancel(self, job_id: str, login: str, name: str, is_admin: bool = False) -> Dict[str, Any]:
        """Stop a running job (its trainer or an admin); ``NotStopped`` says why not."""
        job = self.get(job_id)
        if job is None or job["status"] != "running":
            raise NotStopped("Это обучение уже закончилось: останавливать нечего.")
        if job["trainer"].get("login") != login and not is_admin:
            raise NotStopped(f"Остановить обучение может тренер, который его запустил "
                             f"({job['trainer'].get('name') or job['trainer'].get('login')}), или администратор.")
        pid = job.get("pid")
        # The runner's pid, checked against its command line: a pid the system
        # has given to another process since must never get the signal.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, TypeError):
            cmdline = []
        if b"workbench.jobs" not in cmdline or job_id.encode() not in cmdline:
            raise NotStopped("Процесс обучения не найден: обновите страницу.")
        write_json(self.ws.job_dir(job_id) / CANCEL, {"by": name, "login": login, "at": now()})
        os.kill(pid, signal.SIGTERM)
        return job

    # --- starting --------------------------------------------------------

    def start(self, login: str, name: str) -> Dict[str, Any]:
        """Start a job for the trainer; ``Busy`` when one is running."""
        self.ws.jobs.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.ws.lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Busy(self.current()) from None
        try:
            job = self._create(login, name)
            command = [self.ws.python, "-m", "workbench.jobs", "run", "--job", job["id"],
                       "--project", str(self.ws.project), "--state", str(self.ws.state)]
            if self.ws.rasa_url:
                command += ["--rasa-url", self.ws.rasa_url]
            env = {**os.environ, **self.ws.env, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
                   "WORKBENCH_JOB_LOCK_FD": str(fd)}
            # The runner imports this package from the code's checkout, whatever the project copy.
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
            job_dir = self.ws.job_dir(job["id"])
            with open(job_dir / "runner.txt", "w") as runner_output:
                process = subprocess.Popen(command, cwd=self.ws.project, env=env, pass_fds=(fd,),
                                           stdin=subprocess.DEVNULL, stdout=runner_output,
                                           stderr=subprocess.STDOUT, start_new_session=True)
            job["pid"] = process.pid
            write_json(job_dir / "job.json", job)
            return job
        finally:
            os.close(fd)  # the runner holds its own copy of the lock

    def _create(self, login: str, name: str) -> Dict[str, Any]:
        job_id = f"{_base36(int(time.time()))}-{secrets.token_hex(3)}"
        job_dir = self.ws.job_dir(job_id)
        job_dir.mkdir(parents=True)
        job = {"id": job_id, "trainer": {"login": login, "name": name}, "created": now(), "finished": None,
               "status": "running", "step": 1, "error": None, "model": None, "baseline": None,
               "steps": [{"name": n, "title": t, "status": "pending", "seconds": None} for n, t in STEPS]}
        write_json(job_dir / "job.json", job)
        (job_dir / "log.txt").touch()
        return job


def _base36(number: int) -> str:
    """Ids sort by time, and hold no run of digits the log's masking would take for a date."""
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return digits.rjust(6, "0")


def _interrupted(job: Dict[str, Any]) -> Dict[str, Any]:
    job = dict(job)
    current = job["steps"][min(max(job.get("step") or 1, 1), len(job["steps"])) - 1]
    if current["status"] in ("pending", "running"):
        current["status"] = "failed"
    job.update(status="interrupted", finished=now(),
               error="Обучение прервалось: процесс обучения завершился, не дописав результат "
                     "(например, сервер перезапустили). Работающая модель не менялась; запустите обучение снова.")
    return job
