"""Training jobs: one at a time (across processes), a job killed mid-way is
shown as interrupted, a failing step ends the job with that step shown and
no model produced, and nothing personal reaches the log."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hotline.paths import ROOT
from workbench.jobs import Busy, Jobs, Workspace, mask_line


def wait_finished(jobs: Jobs, job_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        if job["status"] != "running":
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still running after {timeout} s: {jobs.log(job_id)[-20:]}")


@pytest.fixture
def sleeper(tmp_path) -> Path:
    """A stand-in for the runner that just holds the lock it inherits."""
    path = tmp_path / "sleeper.sh"
    path.write_text("#!/bin/sh\nexec sleep 120\n")
    path.chmod(0o755)
    return path


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_second_job_is_refused_politely_while_one_runs(tmp_path, sleeper):
    ws = Workspace(project=tmp_path, state=tmp_path / "state", python=str(sleeper))
    first = Jobs(ws).start("petrova", "Анна Петрова")
    try:
        with pytest.raises(Busy) as refused:
            Jobs(ws).start("ivanov", "Иван Иванов")
        message = str(refused.value)
        assert message.startswith("Обучение уже идёт: его запустил тренер Анна Петрова в ")
        assert "шаг 1 из 4 — «Проверка данных»" in message and "дождаться" in message
        # Another process (a second workbench) is refused just the same.
        other = subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; from workbench.jobs import *\n"
             "try:\n Jobs(Workspace(project=Path(sys.argv[1]), state=Path(sys.argv[1]) / 'state')).start('x', 'X')\n"
             "except Busy as e:\n print(e)", str(tmp_path)],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert other.stdout.startswith("Обучение уже идёт: его запустил тренер Анна Петрова"), other.stderr
        assert [j["id"] for j in Jobs(ws).history()] == [first["id"]]
    finally:
        _stop(first["pid"])


def test_a_runner_that_died_shows_as_interrupted_and_frees_the_lock(tmp_path, sleeper):
    ws = Workspace(project=tmp_path, state=tmp_path / "state", python=str(sleeper))
    jobs = Jobs(ws)
    first = jobs.start("petrova", "Анна Петрова")
    assert jobs.current()["id"] == first["id"]
    _stop(first["pid"])
    job = wait_finished(jobs, first["id"], timeout=30)
    assert job["status"] == "interrupted"
    assert job["steps"][0]["status"] == "failed"
    assert "Работающая модель не менялась" in job["error"]
    assert jobs.current() is None
    second = jobs.start("ivanov", "Иван Иванов")
    _stop(second["pid"])


def test_log_lines_are_masked():
    line = "\x1b[33mparsing 'мой снилс 123-456-789 64, др 12.03.1985, тел +7 912 345-67-89'\x1b[0m\n"
    assert mask_line(line) == "parsing 'мой снилс ***, др ***, тел ***'"
    # Rasa's timestamp keeps its time instead of turning into «2026-***:07:43».
    assert mask_line("2026-11-30 13:07:43 INFO     rasa.validator  - No conflicts") == \
        "13:07:43 INFO     rasa.validator  - No conflicts"


def test_unknown_job_ids_are_not_paths(tmp_path):
    jobs = Jobs(Workspace(project=tmp_path, state=tmp_path / "state"))
    assert jobs.get("../../etc/passwd") is None
    assert jobs.log("../x") == []


def test_failing_validation_ends_the_job_at_step_one(tmp_path, project_dir):
    project = project_dir
    broken = project / "data" / "nlu" / "chitchat.yml"
    broken.write_text(broken.read_text(encoding="utf-8")
                      + "\n- intent: no_such_intent\n  examples: |\n    - что-то новое\n    - ещё одно\n",
                      encoding="utf-8")
    ws = Workspace(project=project, state=tmp_path / "state")
    jobs = Jobs(ws)
    started = time.monotonic()
    job = wait_finished(jobs, jobs.start("petrova", "Анна Петрова")["id"])
    print(f"failing validate job: {time.monotonic() - started:.1f} s")
    assert job["status"] == "failed"
    assert [s["status"] for s in job["steps"]] == ["failed", "pending", "pending", "pending"]
    assert job["error"].startswith("Шаг 1 из 4 «Проверка данных» не пройден")
    assert "Работающая модель не менялась" in job["error"]
    assert any("no_such_intent" in line for line in jobs.log(job["id"]))
    assert not (ws.models.exists() and any(ws.models.iterdir()))
    # The lock went with the runner: the next job may start.
    assert jobs.current() is None


def _processes_in(folder: Path) -> list:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")) == folder:
                found.append(proc.name)
        except OSError:
            continue
    return found


def test_the_trainer_who_started_a_job_may_stop_it_and_nothing_is_left_running(tmp_path, project_dir):
    from workbench.jobs import NotStopped

    jobs = Jobs(Workspace(project=project_dir, state=tmp_path / "state"))
    job = jobs.start("petrova", "Анна Петрова")
    deadline = time.monotonic() + 60
    while not any(line.startswith("$ ") for line in jobs.log(job["id"])):
        assert time.monotonic() < deadline, jobs.log(job["id"])
        time.sleep(0.2)
    with pytest.raises(NotStopped, match="может тренер, который его запустил \\(Анна Петрова\\), или администратор"):
        jobs.cancel(job["id"], "ivanov", "Иван Иванов")
    jobs.cancel(job["id"], "petrova", "Анна Петрова")
    stopped = wait_finished(jobs, job["id"], timeout=60)
    assert stopped["status"] == "cancelled"
    assert [s["status"] for s in stopped["steps"]] == ["cancelled", "pending", "pending", "pending"]
    assert stopped["error"] == ("Обучение остановил тренер Анна Петрова на шаге 1 из 4 «Проверка данных». "
                                "Работающая модель не менялась.")
    with pytest.raises(NotStopped, match="уже закончилось"):
        jobs.cancel(job["id"], "petrova", "Анна Петрова")
    # The step's own children (rasa data validate) went with it.
    deadline = time.monotonic() + 10
    while _processes_in(project_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_in(project_dir) == []
    assert jobs.current() is None
