"""The «Обучение» section end to end, as a trainer's browser drives it: start
a job (a second one is refused), follow it, read the report against the
running model, activate the new model in a real Rasa server and roll back.

The job is real (validate → train → held-out test → story test) but trains
nothing: the project copy's models/ holds the session's model under the
copy's fingerprint, which the job reuses, so this runs the session's model
under another name — enough for Rasa to tell the two apart.
"""
from __future__ import annotations

import shutil
import time

import pytest
import requests

from hotline.nlu.training import model_path
from tests.handoff.handoff_helpers import AppThread, handoff_settings


@pytest.fixture
def workbench(workbench_config, servers, trained_model):
    """The workbench wired to the session's Rasa server and its API key."""
    from workbench.app import create_app

    settings = handoff_settings(rasa_url=servers.url, rasa_token=servers.api_key)
    thread = AppThread(lambda: create_app(workbench_config, settings))
    yield thread
    thread.stop()
    # Whatever the test switched, the session's server runs the session's model again.
    requests.put(f"{servers.url}/model", json={"model_file": str(trained_model)}, auth=servers.auth, timeout=300)


def running(servers) -> str:
    return requests.get(f"{servers.url}/status", auth=servers.auth, timeout=30).json()["model_file"]


def wait_finished(client, job_id: str, timeout: float = 900) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/training/jobs/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(2)
    raise AssertionError(f"job still running after {timeout} s")


def test_a_trainer_trains_compares_activates_and_rolls_back(signed_in, servers, trained_model, project_dir, db_url):
    # A phrase labelled in the workbench since the running model was trained.
    chitchat = project_dir / "data" / "nlu" / "chitchat.yml"
    chitchat.write_text(chitchat.read_text(encoding="utf-8").replace(
        "- intent: greet\n  examples: |\n", "- intent: greet\n  examples: |\n    - здравия желаю всем на линии\n", 1),
        encoding="utf-8")
    candidate = model_path(root=project_dir).name
    (project_dir / "models").mkdir()
    shutil.copy2(trained_model, project_dir / "models" / candidate)

    petrova = signed_in("petrova")
    page = petrova.get("/training")
    assert page.status_code == 200 and 'id="start-training"' in page.text
    assert f'<code id="running-model">{trained_model.name}</code>' in page.text

    assert petrova.post("/api/training/start", csrf=False).status_code == 403
    started = petrova.post("/api/training/start")
    assert started.status_code == 202, started.text
    job_id = started.json()["job"]
    refused = signed_in("ivanov").post("/api/training/start")
    assert refused.status_code == 409
    assert refused.json()["error"].startswith("Обучение уже идёт: его запустил тренер Petrova")
    job_page = petrova.get(f"/training/jobs/{job_id}")
    assert 'id="job-progress"' in job_page.text and "/static/training.js" in job_page.text

    job = wait_finished(petrova, job_id)
    print("steps:", [(s["name"], s["seconds"]) for s in job["steps"]])
    assert job["status"] == "succeeded", job["error"]
    assert [s["status"] for s in job["steps"]] == ["ok"] * 4 and job["model"] == candidate

    report = petrova.get(f"/training/jobs/{job_id}/report")
    assert report.status_code == 200
    text = report.text
    # The same model content as the running one: the figures do not move.
    assert f"Сравнение — с работающей моделью <code>{trained_model.name}</code>" in text
    assert 'id="metric-intent_accuracy"' in text and "без изменений" in text
    assert "здравия желаю всем на линии" in text and "greet — верно" in text
    picture = petrova.get(f"/training/jobs/{job_id}/confusion.png")
    assert picture.headers["Content-Type"] == "image/png" and picture.content[:4] == b"\x89PNG"
    assert 'id="confusion-table"' in text and 'alt="Матрица ошибок по ' in text

    activated = petrova.post(f"/api/training/jobs/{job_id}/activate")
    assert activated.status_code == 200, activated.text
    assert "останется и после перезапуска" in activated.json()["message"]
    assert running(servers) == candidate
    assert servers.send("after-activation", "здравствуйте")
    index = petrova.get("/training").text
    assert f'<code id="running-model">{candidate}</code>' in index and 'id="rollback"' in index
    again = petrova.post(f"/api/training/jobs/{job_id}/activate")
    assert again.status_code == 409 and "уже работает" in again.json()["error"]

    rolled = petrova.post("/api/training/rollback")
    assert rolled.status_code == 200, rolled.text
    assert running(servers) == trained_model.name

    from handoff import repository as repo

    actions = [(e.action, e.subject, e.operator_login) for e in repo.audit_entries(url=db_url)
               if e.action.startswith("wb_")]
    assert actions == [("wb_rollback", trained_model.name, "petrova"),
                       ("wb_activate_failed", candidate, "petrova"), ("wb_activate", candidate, "petrova"),
                       ("wb_train_refused", None, "ivanov"), ("wb_train_start", job_id, "petrova")]
    for path in ("/training", f"/training/jobs/{job_id}", f"/training/jobs/{job_id}/report",
                 f"/api/training/jobs/{job_id}"):
        assert servers.api_key not in petrova.get(path).text
