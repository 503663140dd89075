"""Training jobs of the workbench: validate → train → held-out NLU test →
story test, one at a time, in a background process.

* **One at a time, across processes.** ``Jobs.start`` takes an exclusive
  ``flock`` on ``<state>/training.lock`` without waiting and hands the open
  lock to the runner process it starts (``pass_fds``): the lock lives exactly
  as long as the runner, whichever workbench process started it. A second
  request while it is held is refused (``Busy``) with a polite Russian
  message naming who started the running job and its step — refused rather
  than queued, so that a trainer never waits for a job built from data that
  another trainer was still editing.
* **The runner** (``python -m workbench.jobs run …``) is niced and detached
  from the workbench (its own session): a workbench restart does not stop a
  training, and the page shows the job from its JSON file
  (``<state>/jobs/<id>/job.json``) and its log (``log.txt``). A runner killed
  mid-way leaves a ``running`` job whose lock is free: the next read marks it
  interrupted.
* **The running model is never touched.** The candidate model goes to
  ``<state>/models/`` under its fingerprinted name (hotline.nlu.training): a model
  already trained from the same inputs — by an earlier job or by
  ``make train`` — is reused instead of trained again. Activation is a
  separate, explicit step (workbench/activation.py). A failing step ends the
  job with that step marked and the tail of its log.
* **No personal data in the log.** Every line of the steps' output goes
  through the project's masking (hotline.privacy) before it is written; the
  data files hold none, but an utterance pasted into them by mistake would
  otherwise be shown to every trainer.
"""
from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from hotline.paths import ROOT
from hotline.privacy import mask_text

if TYPE_CHECKING:
    from workbench.activation import Activation

STEPS = (
    ("validate", "Проверка данных"),
    ("train", "Обучение модели"),
    ("nlu", "Проверка понимания на отложенных фразах"),
    ("stories", "Проверка тестовых диалогов"),
)
# Generous bounds: a step that hangs must not hold the lock for ever.
STEP_TIMEOUT_S = {"validate": 900, "train": 3600, "nlu": 1800, "stories": 1800}
NICE = 10
LOG_TAIL = 200
CANCEL = "cancel.json"
MAX_LINE = 2000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Rasa's own log lines start with the date and time; the date would be masked
# like a date of birth («2026-***:07:43»), so only the time is kept.
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T](\d{2}:\d{2}:\d{2})(?:[.,]\d+)?")
# Contacts are masked too: a phone number or an e-mail address in a log line
# is personal whatever the line is about.
_CONTACT = re.compile(r"(?<![\w+])(?:\+7|8)[\s(‐‑–—-]*\d{3}[\s)‐‑–—-]*\d{3}[\s‐‑–—-]*\d{2}[\s‐‑–—-]*\d{2}(?!\d)"
                      r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_line(line: str) -> str:
    """A line of a step's output as it may be stored and shown."""
    line = _STAMP.sub(r"\1", _ANSI.sub("", line).rstrip("\r\n"))
    if len(line) > MAX_LINE:
        line = line[:MAX_LINE] + " …"
    return _CONTACT.sub("***", mask_text(line))


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


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def clock(iso: Optional[str]) -> str:
    """«14:05» in the server's local time."""
    if not iso:
        return "—"
    return dt.datetime.fromisoformat(iso).astimezone().strftime("%H:%M")


def when(iso: Optional[str]) -> str:
    """«30.11.2026 14:05» in the server's local time."""
    if not iso:
        return "—"
    return dt.datetime.fromisoformat(iso).astimezone().strftime("%d.%m.%Y %H:%M")


def write_json(path: Path, data: Any) -> None:
    """Written aside and renamed: a reader never sees half a file."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temp, path)


def read_json(path: Path) -> Optional[Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class Workspace:
    """Where a job reads the project and keeps its state.

    ``project``: the repository copy with data/, domain.yml, config.yml,
    tests/ and scripts/ (the workbench's project_dir); ``state``: the
    workbench's own files (var/workbench); ``rasa_url``: the running Rasa
    server whose model the report compares against (None: no comparison)."""

    project: Path = ROOT
    state: Path = ROOT / "var" / "workbench"
    python: str = sys.executable
    rasa_url: Optional[str] = None
    env: Dict[str, str] = field(default_factory=dict)

    @property
    def jobs(self) -> Path:
        return self.state / "jobs"

    @property
    def models(self) -> Path:
        return self.state / "models"

    @property
    def evaluations(self) -> Path:
        return self.state / "evaluations"

    @property
    def lock(self) -> Path:
        return self.state / "training.lock"

    def job_dir(self, job_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-z]{6}-[0-9a-f]{6}", job_id or ""):
            raise KeyError(job_id)
        return self.jobs / job_id


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


# --- the runner (its own process) ---------------------------------------------

class StepFailed(Exception):
    """A step's command failed; the message is for the trainer."""


class Cancelled(Exception):
    """A trainer stopped the job."""


class Runner:
    def __init__(self, ws: Workspace, job_id: str,
                 activation: Optional["Activation"] = None, keep_models: Optional[int] = None) -> None:
        from hotline import settings

        self.ws = ws
        self.keep_models = settings.get("WORKBENCH_KEEP_MODELS") if keep_models is None else keep_models
        self.running_model: Optional[str] = None
        self.job_dir = ws.job_dir(job_id)
        self.path = self.job_dir / "job.json"
        self.job = read_json(self.path)
        self.log_path = self.job_dir / "log.txt"
        self.activation = activation
        self.process: Optional[subprocess.Popen] = None
        self.cancelled = False

    def cancel(self, *_: Any) -> None:
        """SIGTERM from ``Jobs.cancel``: the step's process goes, the job ends as cancelled."""
        self.cancelled = True
        if self.process is not None:
            _kill_group(self.process)

    def save(self) -> None:
        write_json(self.path, self.job)

    def clean(self, line: str) -> str:
        """Masked, and with the folders spelled short: the log is about the job, not the disk."""
        line = line.replace(str(self.ws.state), "<workbench>").replace(str(self.ws.project) + os.sep, "")
        return mask_line(line)

    def say(self, line: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(self.clean(line) + "\n")

    def run(self) -> Dict[str, Any]:
        try:
            return self._run()
        finally:
            self.prune()

    def prune(self) -> None:
        """Old candidates go when a job ends, however it ended (workbench/pruning.py)."""
        from workbench.pruning import protected_names, prune_models

        try:
            protected = protected_names(read_json(self.ws.state / "activation.json"),
                                        [self.running_model, self.job.get("model")])
            deleted = prune_models(self.ws.models, self.keep_models, protected)
        except Exception as error:  # noqa: BLE001 — housekeeping never changes the job's outcome
            self.say(f"Старые модели не удалены: {type(error).__name__}.")
            return
        if deleted:
            self.say(f"Удалены старые модели-кандидаты ({len(deleted)}): {', '.join(deleted)}. Хранятся "
                     f"{self.keep_models} новейших, активная и предыдущая (для отката).")

    def _run(self) -> Dict[str, Any]:
        steps = {"validate": self.validate, "train": self.train, "nlu": self.nlu, "stories": self.stories}
        started_job = time.monotonic()
        for number, step in enumerate(self.job["steps"], 1):
            self.job["step"] = number
            step["status"] = "running"
            self.save()
            self.say(f"=== Шаг {number} из {len(STEPS)}: {step['title']} ===")
            started = time.monotonic()
            try:
                steps[step["name"]]()
                if self.cancelled:
                    raise Cancelled()
            except Cancelled:
                step.update(status="cancelled", seconds=round(time.monotonic() - started, 1))
                who = (read_json(self.job_dir / CANCEL) or {}).get("by") or "тренер"
                self.say(f"=== Обучение остановил тренер {who} ===")
                self.job.update(status="cancelled", finished=now(),
                                error=f"Обучение остановил тренер {who} на шаге {number} из {len(STEPS)} "
                                      f"«{step['title']}». Работающая модель не менялась.")
                self.save()
                return self.job
            except Exception as error:  # noqa: BLE001 — any failure ends the job with its step shown
                step.update(status="failed", seconds=round(time.monotonic() - started, 1))
                message = str(error) if isinstance(error, StepFailed) else \
                    f"внутренняя ошибка ({type(error).__name__}: {mask_line(str(error))[:300]})"
                self.say(f"Шаг «{step['title']}» не пройден: {message}")
                self.job.update(status="failed", finished=now(),
                                error=f"Шаг {number} из {len(STEPS)} «{step['title']}» не пройден: {message}. "
                                      "Работающая модель не менялась.")
                self.save()
                return self.job
            step.update(status="ok", seconds=round(time.monotonic() - started, 1))
            self.save()
        self.job.update(status="succeeded", finished=now(), seconds=round(time.monotonic() - started_job, 1))
        self.say("=== Готово: модель обучена и проверена. Отчёт — на странице задания. ===")
        self.save()
        return self.job

    def command(self, name: str, args: List[str], failure: str) -> None:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
        self.say("$ " + " ".join(_shown(a, self.ws) for a in args))
        if self.cancelled:
            raise Cancelled()
        # Its own process group: stopping a step stops what it started too (rasa train under hotline.nlu.training).
        process = self.process = subprocess.Popen(args, cwd=self.ws.project, env=env, stdin=subprocess.DEVNULL,
                                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                                  encoding="utf-8", errors="replace", start_new_session=True)
        # A step that hangs silently is killed too, not only one that keeps printing.
        watchdog = threading.Timer(STEP_TIMEOUT_S[name], _kill_group, (process,))
        watchdog.start()
        assert process.stdout is not None
        try:
            with open(self.log_path, "a", encoding="utf-8") as log:
                for line in process.stdout:
                    log.write(self.clean(line) + "\n")
                    log.flush()
            code = process.wait()
        finally:
            timed_out = watchdog.finished.is_set() and process.returncode != 0
            watchdog.cancel()
            self.process = None
        if self.cancelled:
            raise Cancelled()
        if timed_out:
            raise StepFailed(f"шаг не закончился за {STEP_TIMEOUT_S[name] // 60} мин")
        if code != 0:
            raise StepFailed(failure)

    # --- the steps ---

    def validate(self) -> None:
        self.command("validate", [self.ws.python, str(ROOT / "scripts" / "validate.py"),
                                  "--project", str(self.ws.project)],
                     "в данных есть ошибки или предупреждения — они перечислены в журнале задания")

    def train(self) -> None:
        from hotline.nlu.training import model_path, training_seconds_file

        name = model_path(root=self.ws.project).name
        target = self.ws.models / name
        self.job["model"] = name
        self.save()
        self.ws.models.mkdir(parents=True, exist_ok=True)
        earlier = self.ws.project / "models" / name
        if target.exists():
            self.say(f"Модель с такими же данными уже обучена ({name}): обучение не нужно.")
            return
        if earlier.exists():
            self.say(f"Модель с такими же данными уже есть в models/ ({name}): копируется, обучение не нужно.")
            copy_file(earlier, target)
            seconds = training_seconds_file(earlier)
            if seconds.exists():
                copy_file(seconds, training_seconds_file(target))
            return
        self.command("train", [self.ws.python, "-m", "hotline.nlu.training", "--out", str(self.ws.models),
                               "--project", str(self.ws.project)],
                     "обучение завершилось с ошибкой — подробности в журнале задания")
        if not target.exists():
            raise StepFailed(f"после обучения нет файла модели {name}")

    def nlu(self) -> None:
        from workbench import evaluate

        model = self.ws.models / self.job["model"]
        running_name, running = self.running()
        new = self.new_examples(running_name)
        self.command("nlu", [self.ws.python, "-m", "workbench.evaluate", "predict", "--model", str(model),
                             "--out", str(self.job_dir / evaluate.CANDIDATE), "--held-out", str(self.held_out),
                             "--extra", str(new)],
                     "проверка на отложенных фразах завершилась с ошибкой — подробности в журнале задания")
        self.job["new_before"] = self.parse_by_running(read_json(new) or [])
        self.job["baseline"] = self.baseline(running_name, running)
        self.save()

    def running(self) -> Tuple[Optional[str], Optional[Path]]:
        """The running model's file name and archive (None when unknown)."""
        if self.activation is None:
            return None, None
        try:
            name = self.activation.running_name()
        except Exception as error:  # noqa: BLE001 — the comparison is optional
            self.say(f"Сервер Rasa не ответил: {mask_line(str(error))[:300]}")
            return None, None
        self.running_model = name or None
        return name or None, self.activation.locate(name)

    def new_examples(self, running_name: Optional[str]) -> Path:
        """Notes the training phrases this model learns from, and writes the ones the
        running model did not have (its own note, else the data when the workbench first started)."""
        from workbench import evaluate

        notes = self.ws.state / "examples"
        current = evaluate.nlu_examples(self.ws.project / "data")
        notes.mkdir(parents=True, exist_ok=True)
        write_json(notes / f"{self.job['model']}.json", current)
        before = read_json(notes / f"{running_name}.json") if running_name else None
        if before is None:
            before = read_json(notes / evaluate.FIRST_START)
        new = evaluate.new_examples(current, before) if before is not None else []
        if new:
            self.say(f"Новых обучающих фраз по сравнению с работающей моделью: {len(new)} — они тоже проверяются.")
        path = self.job_dir / "new_examples.json"
        write_json(path, new)
        return path

    def parse_by_running(self, examples: List[List[Optional[str]]]) -> List[Dict[str, Any]]:
        """What the running server makes of the new phrases («было» in the report)."""
        from hotline import heldout

        shown = []
        for text, intent, key in examples:
            expected = key if intent == heldout.FAQ and key else intent
            try:
                result = self.activation.parse(text) if self.activation else None
            except Exception:  # noqa: BLE001 — «было» is optional
                result = None
            got = heldout.outcome(heldout.prediction(text, intent, key, result))[1] if result else None
            shown.append({"text": text, "expected": expected, "before": got})
        return shown

    def baseline(self, name: Optional[str], running: Optional[Path]) -> Dict[str, Any]:
        """Predictions of the model the Rasa server runs, cached by its content."""
        from workbench import evaluate

        if running is None:
            why = "файл работающей модели не найден" if name else "сервер Rasa не сообщил, какая модель работает"
            self.say(f"Сравнение с работающей моделью недоступно: {why}.")
            return {"error": f"{why}, сравнение недоступно"}
        cache = self.ws.evaluations / f"{evaluate.cache_key(running, self.ws.project)}.json"
        if cache.exists():
            self.say(f"Работающая модель {running.name} уже проверена на этих фразах: результат из кэша.")
        else:
            self.say(f"Проверка работающей модели {running.name} на тех же фразах (один раз для этой модели).")
            self.ws.evaluations.mkdir(parents=True, exist_ok=True)
            self.command("nlu", [self.ws.python, "-m", "workbench.evaluate", "predict", "--model", str(running),
                                 "--out", str(cache), "--held-out", str(self.held_out)],
                         "проверка работающей модели завершилась с ошибкой — подробности в журнале задания")
        return {"model": running.name, "evaluation": cache.name}

    @property
    def held_out(self) -> Path:
        return self.ws.project / "tests" / "nlu_heldout.yml"

    def stories(self) -> None:
        model = self.ws.models / self.job["model"]
        out = self.job_dir / "stories"
        try:
            self.command("stories", [self.ws.python, "-m", "rasa", "test", "core", "--model", str(model),
                                     "--stories", "tests/test_stories.yml", "--fail-on-prediction-errors",
                                     "--out", str(out)],
                         "модель ошиблась в тестовых диалогах (tests/test_stories.yml) — "
                         "неверно предсказанные шаги показаны в журнале задания")
        except StepFailed:
            failed = out / "failed_test_stories.yml"
            if failed.exists():
                self.say("--- Диалоги с ошибками (failed_test_stories.yml) ---")
                for line in failed.read_text(encoding="utf-8", errors="replace").splitlines()[:300]:
                    self.say(line)
            raise


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _shown(arg: str, ws: Workspace) -> str:
    """Paths in the log relative to the project or the state folder: shorter, and no home folders."""
    for base, label in ((ws.state, "<workbench>/"), (ws.project, ""), (ROOT, "")):
        try:
            return f"{label}{Path(arg).relative_to(base)}"
        except ValueError:
            continue
    return "python" if arg == ws.python else arg


def copy_file(src: Path, dst: Path) -> None:
    """Copied aside and renamed: Rasa or a restart never loads half an archive."""
    temp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copy2(src, temp)
    os.replace(temp, dst)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.jobs", description="Run one workbench training job.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--job", required=True)
    run.add_argument("--project", type=Path, default=ROOT)
    run.add_argument("--state", type=Path, default=ROOT / "var" / "workbench")
    run.add_argument("--rasa-url")
    args = parser.parse_args(argv)
    os.nice(NICE)
    ws = Workspace(project=args.project.resolve(), state=args.state.resolve(), rasa_url=args.rasa_url)
    activation = None
    if args.rasa_url:
        from workbench.activation import Activation

        activation = Activation(ws.state, args.rasa_url, [ws.models, ws.project / "models", ROOT / "models"])
    runner = Runner(ws, args.job, activation)
    signal.signal(signal.SIGTERM, runner.cancel)
    job = runner.run()
    return 0 if job["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
