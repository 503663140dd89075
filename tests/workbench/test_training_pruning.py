"""Old candidate models are deleted when a training job ends: the newest
WORKBENCH_KEEP_MODELS stay, and so do the active model and the previous one
(rollback), however old; the project's models/ is never touched. No
training here: the archives are stand-ins and the job's first step fails
straight away."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import List

import pytest

from workbench.jobs import Jobs, Runner, StepFailed, Workspace, read_json, write_json


def _models(folder: Path, count: int) -> List[str]:
    """`count` archives (with their training-time notes), oldest first, a minute apart."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    start = time.time() - count * 60
    for index in range(count):
        name = f"hotline-{index:016x}.tar.gz"
        for path in (folder / name, folder / name.replace(".tar.gz", ".training.json")):
            path.write_bytes(b"stand-in")
            os.utime(path, (start + index * 60, start + index * 60))
        names.append(name)
    return names


def _archives(folder: Path) -> set:
    return {p.name for p in folder.iterdir() if p.name.endswith(".tar.gz")}


def _fail_at_once(runner: Runner) -> None:
    raise StepFailed("в данных есть ошибки")


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(project=tmp_path / "project", state=tmp_path / "state")


def _finish_a_job(ws: Workspace, monkeypatch, keep=None) -> dict:
    job = Jobs(ws)._create("petrova", "Анна Петрова")
    monkeypatch.setattr(Runner, "validate", _fail_at_once)
    return Runner(ws, job["id"], keep_models=keep).run()


def test_a_finished_job_keeps_the_newest_the_active_and_the_previous_model(ws, monkeypatch):
    names = _models(ws.models, 9)
    project_models = ws.project / "models"
    kept_by_make_train = _models(project_models, 2)
    write_json(ws.state / "activation.json", {"active": str(ws.models / names[1]),
                                              "previous": str(ws.models / names[0]), "history": []})
    job = _finish_a_job(ws, monkeypatch, keep=3)
    assert job["status"] == "failed"  # pruning runs however the job ended
    assert _archives(ws.models) == {names[0], names[1], *names[-3:]}
    # The notes go with their archives.
    assert {p.name for p in ws.models.iterdir() if p.name.endswith(".training.json")} == \
        {n.replace(".tar.gz", ".training.json") for n in _archives(ws.models)}
    assert _archives(project_models) == set(kept_by_make_train)
    log = (ws.job_dir(job["id"]) / "log.txt").read_text(encoding="utf-8")
    assert "Удалены старые модели-кандидаты (4)" in log and names[2] in log


def test_the_number_kept_comes_from_the_setting(ws, monkeypatch):
    names = _models(ws.models, 4)
    monkeypatch.setenv("WORKBENCH_KEEP_MODELS", "2")
    _finish_a_job(ws, monkeypatch)
    assert _archives(ws.models) == set(names[-2:])
    # Without a record of activations nothing else is protected, and
    # nothing is deleted while there are no more than that.
    _finish_a_job(ws, monkeypatch)
    assert _archives(ws.models) == set(names[-2:])


def test_the_jobs_own_model_is_kept_even_when_reused_from_long_ago(ws, monkeypatch):
    names = _models(ws.models, 4)
    job = Jobs(ws)._create("petrova", "Анна Петрова")
    state = read_json(ws.job_dir(job["id"]) / "job.json")
    state["model"] = names[0]  # the train step found this old archive and reused it
    write_json(ws.job_dir(job["id"]) / "job.json", state)
    monkeypatch.setattr(Runner, "validate", _fail_at_once)
    Runner(ws, job["id"], keep_models=1).run()
    assert _archives(ws.models) == {names[0], names[-1]}


def test_no_models_folder_yet_is_fine(ws, monkeypatch):
    job = _finish_a_job(ws, monkeypatch, keep=1)
    assert job["status"] == "failed" and not ws.models.exists()
    assert "Старые модели не удалены" not in (ws.job_dir(job["id"]) / "log.txt").read_text(encoding="utf-8")
