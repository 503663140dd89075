"""The runner of one training job (its own process, ``python -m workbench.jobs
run``): the four steps, each a command whose output goes masked into the
job's log, the job's state written after each, and old candidate models
pruned at the end."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from hotline.paths import ROOT
from workbench.jobs.common import CANCEL, STEPS, Workspace, copy_file, mask_line, now, read_json, write_json

if TYPE_CHECKING:
    from workbench.activation import Activation

# Generous bounds: a step that hangs must not hold the lock for ever.
STEP_TIMEOUT_S = {"validate": 900, "train": 3600, "nlu": 1800, "stories": 1800}


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
