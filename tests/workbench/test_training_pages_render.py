"""The «Обучение» pages of a finished job, in the browser: what a trainer
reads (figures, deltas, the picture and its table) and the WCAG 2.1 AA audit
(axe-core). The job is written as files, as the runner leaves them: no
training and no Rasa server (the pages say the server does not answer)."""
from __future__ import annotations

import pytest

from hotline.heldout import Prediction
from tests.a11y.axe import Audit, browser_context
from tests.workbench.conftest import PASSWORD
from workbench.jobs import STEPS, write_json

JOB = "tpc000-abc123"
MODEL = "hotline-00000000000000aa.tar.gz"


def rows(greet_right: bool):
    wrong = Prediction("ну привет, до встречи", "greet", None, "greet" if greet_right else "goodbye", None)
    return [Prediction("здравствуйте", "greet", None, "greet", None), wrong,
            Prediction("до свидания", "goodbye", None, "goodbye", None),
            Prediction("сколько стоит", "faq", "faq/cost", "faq", "faq/cost"),
            Prediction("адрес почты", "faq", "faq/email", "faq", "faq/cost")]


@pytest.fixture
def finished_job(project_dir):
    state = project_dir / "var" / "workbench"
    job_dir = state / "jobs" / JOB
    job_dir.mkdir(parents=True)
    (job_dir / "log.txt").write_text("=== Шаг 1 из 4: Проверка данных ===\nrasa data validate: no warnings\n")
    write_json(job_dir / "job.json", {
        "id": JOB, "trainer": {"login": "petrova", "name": "Анна Петрова"}, "created": "2026-11-30T10:00:00+00:00",
        "finished": "2026-11-30T10:03:00+00:00", "status": "succeeded", "step": 4, "error": None, "model": MODEL,
        "baseline": {"model": "hotline-running.tar.gz", "evaluation": "running.json"},
        "new_before": [{"text": "здравия желаю", "expected": "greet", "before": "nlu_fallback"}],
        "steps": [{"name": n, "title": t, "status": "ok", "seconds": 30.0} for n, t in STEPS]})
    write_json(job_dir / "candidate.json", {"model": MODEL, "rows": [r.as_dict() for r in rows(False)],
                                            "new": [Prediction("здравия желаю", "greet", None, "greet", None).as_dict()]})
    (state / "evaluations").mkdir()
    write_json(state / "evaluations" / "running.json", {"rows": [r.as_dict() for r in rows(True)]})
    return job_dir


def test_a_failed_job_shows_its_step_error_and_log(signed_in, finished_job):
    failed = finished_job.parent / "tpc001-def456"
    failed.mkdir()
    (failed / "log.txt").write_text("WARNING: There is a message in the training data labeled with intent "
                                    "'no_such_intent'.\n")
    steps = [{"name": n, "title": t, "status": "pending", "seconds": None} for n, t in STEPS]
    steps[0].update(status="failed", seconds=12.0)
    write_json(failed / "job.json", {
        "id": failed.name, "trainer": {"login": "petrova", "name": "Анна Петрова"},
        "created": "2026-11-30T11:00:00+00:00", "finished": "2026-11-30T11:00:12+00:00", "status": "failed",
        "step": 1, "error": "Шаг 1 из 4 «Проверка данных» не пройден: в данных есть ошибки. Работающая модель не менялась.",
        "model": None, "baseline": None, "steps": steps})
    client = signed_in("petrova")
    page = client.get(f"/training/jobs/{failed.name}").text
    assert 'id="step-validate" data-status="failed"' in page and "не пройден, 12 с" in page
    assert "Шаг 1 из 4 «Проверка данных» не пройден" in page and "no_such_intent" in page
    assert 'id="job-report" hidden' in page
    assert client.get(f"/training/jobs/{failed.name}/report").status_code == 409
    refused = client.post(f"/api/training/jobs/{failed.name}/activate")
    assert refused.status_code == 409 and "прошло все четыре шага" in refused.json()["error"]
    assert client.get("/training/jobs/nope").status_code == 404
    stop = client.post(f"/api/training/jobs/{failed.name}/cancel")
    assert stop.status_code == 409 and "останавливать нечего" in stop.json()["error"]


def test_report_reads_right(signed_in, finished_job):
    client = signed_in("petrova")
    report = client.get(f"/training/jobs/{JOB}/report").text
    # 4 of 5 intents right now against 5 of 5 before: 80,0 % and −20,0 п.п.
    assert "80,0\u00a0%" in report and "−20,0\u00a0п.п." in report
    assert "Сравнение — с работающей моделью <code>hotline-running.tar.gz</code>" in report
    assert "здравия желаю" in report and "greet — верно" in report and "nlu_fallback — неверно" in report
    assert "Перестала понимать (1)" in report and "ну привет, до встречи" in report
    # Without a Rasa server the page says so instead of offering a switch it cannot make.
    assert 'id="activate"' not in report and "Активировать сейчас нельзя: Сервер Rasa" in report
    index = client.get("/training").text
    assert 'id="running-model-error"' in index and "не отвечает" in index
    assert f'href="/training/jobs/{JOB}/report"' in index


def follow_a_running_job(page, url, finished_job) -> None:
    """The job page updates itself (static/training.js) while the runner works."""
    import fcntl
    import json
    import os

    running = finished_job.parent / "tpc002-aaa111"
    running.mkdir()
    job = json.loads((finished_job / "job.json").read_text())
    steps = [{"name": n, "title": t, "status": "pending", "seconds": None} for n, t in STEPS]
    steps[0]["status"] = "running"
    job.update(id=running.name, status="running", step=1, steps=steps, finished=None, model=None)
    write_json(running / "job.json", job)
    (running / "log.txt").write_text("=== Шаг 1 из 4: Проверка данных ===\n")
    # The runner's lock, held by the test as a runner would hold it.
    lock = os.open(finished_job.parents[1] / "training.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        page.goto(f"{url}/training/jobs/{running.name}")
        assert page.locator("#job-progress").get_attribute("value") == "0"
        assert page.locator("#job-report").is_hidden() and page.locator("#job-cancel").is_visible()
        steps[0].update(status="ok", seconds=20.0)
        steps[1]["status"] = "running"
        job.update(step=2, steps=steps)
        write_json(running / "job.json", job)
        with open(running / "log.txt", "a") as log:
            log.write("=== Шаг 2 из 4: Обучение модели ===\n")
        page.wait_for_function("document.getElementById('job-progress').value === 1", timeout=15_000)
        assert "Шаг 2 из 4: Обучение модели" in page.locator("#job-log").inner_text()
        assert "шаг 2 из 4" in page.locator("#job-status").inner_text()
        for step in steps:
            step.update(status="ok", seconds=20.0)
        job.update(step=4, steps=steps, status="succeeded", model=MODEL)
        write_json(running / "job.json", job)
    finally:
        os.close(lock)
    page.wait_for_selector("#report-link", state="visible", timeout=15_000)
    assert page.locator("#job-status").inner_text() == "Состояние: готово."
    assert page.locator("#job-cancel").is_hidden()


@pytest.mark.timeout(180)
def test_training_pages_pass_the_wcag_audit(workbench, make_account, finished_job, browser, tmp_path):
    make_account("petrova")
    audit = Audit()
    page = browser_context(browser).new_page()
    page.goto(f"{workbench.url}/login?next=/training")
    page.fill("input[name=login]", "petrova")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#start-training")
    audit.check(page, "training: index")
    page.screenshot(path=str(tmp_path / "training.png"), full_page=True)
    page.goto(f"{workbench.url}/training/jobs/{JOB}")
    assert page.locator("#job-progress").get_attribute("value") == "4"
    audit.check(page, "training: job")
    page.goto(f"{workbench.url}/training/jobs/{JOB}/report")
    page.click("#confusion-table-details summary")
    assert page.locator("#confusion-picture").evaluate("img => img.naturalWidth") > 300
    audit.check(page, "training: report")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    follow_a_running_job(page, workbench.url, finished_job)
    audit.check(page, "training: job, live")
    audit.assert_clean()
