"""A trainer's sitting in the workbench, in headless Chromium (Playwright),
against a real Rasa server: from «бот не понял вот эти сообщения» to a
retrained, compared and activated model.

The tracker DB holds the seeded conversations (fakes/tracker_seed.py) and
three real ones: citizens wrote something the running model misclassifies
and, getting a wrong answer, wrote it again (the inbox's «repeated»). The
trainer labels those three, trains (the one training of this test: ~1–2 min
on two cores), sees them right in the report where the running model had them
wrong, activates, and the running server answers them right. The workbench
edits a temporary copy of the project, never the repository; the YAML it
wrote passes `rasa data validate`. Last, two tabs edit one response at once:
the second save is refused with both texts kept.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import yaml

from hotline.ops.local_servers import LocalServers
from hotline.paths import ROOT
from tests.a11y.axe import browser_context
from tests.handoff.handoff_helpers import AppThread, handoff_settings
from tests.workbench.conftest import PASSWORD
from tests.workbench.journey import (MISUNDERSTOOD, as_repository, citizens_write, inbox_group, label_in_inbox,
                                    understood)

RESPONSE = "utter_thank"
TRAINING_TIMEOUT_S = 1200


def tree_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(str(file).encode() + file.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def rasa(trained_model: Path, tmp_path_factory) -> Iterator[LocalServers]:
    """A Rasa server of its own (the activation swaps its model), with the
    action server, its API token, and a tracker DB that starts seeded."""
    from fakes.tracker_seed import seed_tracker

    workdir = tmp_path_factory.mktemp("journey-rasa")
    seed_tracker(f"sqlite:///{workdir / 'tracker.db'}")
    running = LocalServers(workdir, trained_model)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def citizens(rasa: LocalServers) -> Dict[str, str]:
    """The three messages, each written twice by a citizen over REST; what
    the running model understood them as."""
    before = citizens_write(rasa)
    for text, label in MISUNDERSTOOD:
        assert before[text] != label, f"the running model already understands «{text}» as {label}: pick another"
    return before


@pytest.fixture
def project_dir(project_dir: Path) -> Path:
    """The temporary project copy (tests/workbench/conftest.py) as a git
    repository, so the «Изменения» page can show the trainer's diff."""
    return as_repository(project_dir)


@pytest.fixture
def workbench(rasa, project_dir, db_url) -> Iterator[AppThread]:
    from workbench.app import create_app
    from workbench.config import WorkbenchConfig

    config = WorkbenchConfig(project_dir=project_dir, database_url=db_url,
                             tracker_url=f"sqlite:///{rasa.workdir / 'tracker.db'}")
    settings = handoff_settings(rasa_url=rasa.url, rasa_token=rasa.api_key)
    thread = AppThread(lambda: create_app(config, settings))
    yield thread
    thread.stop()


def sign_in(page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#current-trainer")


def wait_for_report(page, timeout_s: float) -> None:
    """Follow the job page (it refreshes itself) until the report link shows."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.locator("#report-link").is_visible():
            return
        error = page.locator("#job-error")
        if error.is_visible() and error.text_content().strip():
            log = page.locator("#job-log").text_content()
            pytest.fail(f"training failed: {error.text_content()}\n{log[-3000:]}")
        page.wait_for_timeout(2000)
    pytest.fail(f"no report after {timeout_s} s: {page.locator('#job-log').text_content()[-3000:]}")


def report_rows(page) -> Dict[str, List[str]]:
    rows = {}
    for row in page.locator("#new-examples tbody tr").all():
        cells = [c.strip() for c in row.locator("td").all_text_contents()]
        rows[cells[0]] = cells
    return rows


@pytest.mark.slow
@pytest.mark.timeout(TRAINING_TIMEOUT_S + 600)
def test_trainer_labels_trains_compares_activates(citizens, rasa, workbench, project_dir, make_account, browser):
    from playwright.sync_api import expect

    repository = tree_digest(ROOT / "data", ROOT / "domain.yml", ROOT / "tests" / "test_stories.yml")
    make_account("olga")
    context = browser_context(browser)
    try:
        page = context.new_page()
        sign_in(page, workbench.url, "olga")

        # 1. The inbox: the three messages are there, labelled one by one.
        page.goto(f"{workbench.url}/inbox")
        for text, _ in MISUNDERSTOOD:
            expect(inbox_group(page, text)).to_have_count(1)
        for text, label in MISUNDERSTOOD:
            label_in_inbox(page, workbench.url, text, label)
        written = "\n".join(p.read_text(encoding="utf-8") for p in (project_dir / "data" / "nlu").glob("*.yml"))
        for text, _ in MISUNDERSTOOD:
            assert f"- {text}\n" in written

        # 2. Train, following the job page until its report.
        page.goto(f"{workbench.url}/training")
        page.click("#start-training")
        page.wait_for_selector("#job-progress")
        wait_for_report(page, TRAINING_TIMEOUT_S)
        job = context.request.get(f"{workbench.url}/api/training/jobs/{page.url.rsplit('/', 1)[-1]}").json()
        print("training steps, s:", {step["name"]: step["seconds"] for step in job["steps"]})
        page.click("#report-link")
        page.wait_for_selector("#metrics")

        # 3. The report: the new model gets the three right, the running one did not.
        rows = report_rows(page)
        for text, label in MISUNDERSTOOD:
            assert text in rows, f"«{text}» missing from the report's new phrases: {sorted(rows)}"
            _, expected, now, before = rows[text]
            assert expected == label
            assert now == f"{label} — верно", rows[text]
            assert before == f"{citizens[text]} — неверно", rows[text]

        # 4. Activate: the running server answers them right now.
        candidate = page.text_content("#candidate-model").strip()
        page.click("#activate")
        page.wait_for_selector("#training-notice")
        assert page.text_content("#running-model").strip() == candidate
        for number, (text, label) in enumerate(MISUNDERSTOOD):
            sender = f"journey_after_{number}"
            replies = rasa.send(sender, text)
            assert understood(rasa, sender) == label
            if label == "faq/wait_time":   # the FAQ answer itself, not only the label
                assert "Среднее время ожидания ответа" in " ".join(r.get("text", "") for r in replies)

        # 5. What the workbench wrote is valid Rasa data.
        validate = subprocess.run([sys.executable, str(ROOT / "scripts" / "validate.py"), "--project", str(project_dir)],
                                  capture_output=True, text=True, timeout=600)
        assert validate.returncode == 0 and "no warnings" in validate.stdout, validate.stdout[-3000:]

        # 6. Two tabs edit one response at once: the second save is refused,
        # and neither text is lost.
        first, second = page, context.new_page()
        for tab in (first, second):
            tab.goto(f"{workbench.url}/responses/edit?name={RESPONSE}")
        mine = "Пожалуйста! Если будут ещё вопросы — пишите."
        theirs = "Рад помочь! Обращайтесь, если что-то ещё понадобится."
        first.fill("#text-0", mine)
        first.click("#save-0")
        first.wait_for_selector("#saved-0")
        second.fill("#text-0", theirs)
        second.click("#save-0")
        second.wait_for_selector("#error-0")
        assert second.input_value("#text-0") == theirs          # the second trainer's text is still there
        assert mine in second.text_content("#theirs-0")           # next to what the first one saved
        domain = yaml.safe_load((project_dir / "domain.yml").read_text(encoding="utf-8"))
        assert domain["responses"][RESPONSE][0]["text"].strip() == mine
    finally:
        context.close()
    # Nothing of this touched the repository itself.
    assert tree_digest(ROOT / "data", ROOT / "domain.yml", ROOT / "tests" / "test_stories.yml") == repository
