"""Every page of the trainers' workbench passes the WCAG 2.1 AA audit of
axe-core in headless Chromium (tests/a11y/axe.py), in the state a trainer
sees it: the inbox of a seeded tracker DB, a conversation, a response being
edited, the training page, the changes page with a diff (the training job
and report pages are audited by test_training_pages_render.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.a11y.axe import Audit, browser_context
from tests.workbench.conftest import PASSWORD
from tests.workbench.journey import as_repository


@pytest.fixture
def project_dir(project_dir: Path) -> Path:
    """The project copy as a git repository, with one trainer's edit in it
    (the «Изменения» page then has a diff to show)."""
    as_repository(project_dir)
    domain = project_dir / "domain.yml"
    domain.write_text(domain.read_text(encoding="utf-8").replace(
        "Спасибо за звонок. До свидания!", "Спасибо за звонок. Всего доброго!"), encoding="utf-8")
    return project_dir


@pytest.fixture
def seeded(workbench_config) -> None:
    """The seeded tracker DB (before the browser: Playwright's sync API keeps
    an event loop running, and the seeder runs its own)."""
    from fakes.tracker_seed import seed_tracker

    seed_tracker(workbench_config.tracker_url)


@pytest.mark.timeout(240)
def test_workbench_pages_pass_wcag_21_aa(seeded, browser, workbench, make_account):
    make_account("olga")
    audit = Audit()
    context = browser_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{workbench.url}/login")
        audit.check(page, "workbench: login")
        page.fill("#login", "olga")
        page.fill("#password", "wrong-password-1")
        page.click("#login-submit")
        page.wait_for_selector("#login-error")
        audit.check(page, "workbench: login with an error")
        page.fill("#login", "olga")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#current-trainer")
        audit.check(page, "workbench: index")

        page.goto(f"{workbench.url}/inbox")
        page.wait_for_selector("#inbox-summary")
        audit.check(page, "workbench: inbox")

        page.goto(f"{workbench.url}/conversations")
        page.wait_for_selector("#conversations-table")
        audit.check(page, "workbench: conversations")
        page.locator("#conversations-table a").first.click()
        page.wait_for_selector("#tags")
        audit.check(page, "workbench: a conversation")

        page.goto(f"{workbench.url}/responses")
        audit.check(page, "workbench: responses")
        # A response with a chat and a voice variant (the voice one has the player).
        page.goto(f"{workbench.url}/responses/edit?name=utter_faq/wait_time")
        page.wait_for_selector("#text-1")
        audit.check(page, "workbench: a response with its voice variant")

        page.goto(f"{workbench.url}/training")
        audit.check(page, "workbench: training")

        page.goto(f"{workbench.url}/changes")
        page.wait_for_selector("pre.diff")
        audit.check(page, "workbench: changes with a diff")
    finally:
        context.close()
    assert len(audit.pages) == 10
    audit.assert_clean()
