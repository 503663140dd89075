"""Every page of the operators' console passes the WCAG 2.1 AA audit of
axe-core in headless Chromium (tests/a11y/axe.py): login (also with its error),
queue (tickets in every state), a ticket being answered, operators, audit log,
figures. Each page is audited in the state an operator sees it in, with rows
and messages on it: an empty table hides contrast and labelling faults."""
from __future__ import annotations

import pytest

from handoff import repository as repo
from tests.a11y.axe import Audit, browser_context

PASSWORD = "correct-horse-battery"


def sign_in(page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#queue-table")


@pytest.mark.timeout(180)
def test_console_pages_pass_wcag_21_aa(browser, console, make_operator, db_url):
    make_operator("admin", name="Администратор", admin=True)
    make_operator("anna", name="Анна Иванова")
    mine, _ = repo.create_ticket("telegram_1", "telegram", "fraud", "report_fraud",
                                 "Мошенничество: звонят и просят код из смс", url=db_url)
    repo.create_ticket("vk_2", "vk", "request", "", "Не приходит SMS", url=db_url)
    closed, _ = repo.create_ticket("rest_3", "rest", "fallback", "", "бот не понял вопрос", url=db_url)
    audit = Audit()
    context = browser_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{console.url}/login")
        audit.check(page, "console: login")
        page.fill("#login", "admin")
        page.fill("#password", "wrong-password-1")
        page.click("#login-submit")
        page.wait_for_selector("#login-error")
        audit.check(page, "console: login with an error")

        sign_in(page, console.url, "admin")
        page.click(f"#take-{closed.id}")
        page.wait_for_selector("#close-ticket")
        page.fill("#resolution", "ответила")
        page.click("#close-ticket")
        page.wait_for_selector("#queue-table")
        page.click(f"#take-{mine.id}")
        page.wait_for_selector("#reply-text")
        page.fill("#reply-text", "Никому не называйте код из смс.")
        page.click("#send-reply")
        page.wait_for_selector("#reply-status:has-text('Доставлено')")
        repo.add_message(mine.id, "citizen", "а если я уже сказал код?", "broker", delivered=True, url=db_url)
        page.wait_for_selector("#live-messages >> text=а если я уже сказал код?")
        audit.check(page, "console: ticket being answered")

        page.goto(f"{console.url}/queue")
        page.wait_for_selector(f"#ticket-row-{mine.id}.mine")
        audit.check(page, "console: queue (waiting, mine, closed)")
        for path, ready, name in [("/admin/operators", "#operators-table", "operators"),
                                  ("/audit", "#audit-table", "audit log"),
                                  ("/figures", "#figures-table", "figures")]:
            page.goto(console.url + path)
            page.wait_for_selector(ready)
            audit.check(page, f"console: {name}")

        # An operator's ticket seen by another operator, unmasked only after take.
        other = context.new_page()
        sign_in(other, console.url, "anna")
        other.goto(f"{console.url}/tickets/{mine.id}")
        audit.check(other, "console: someone else's ticket")
    finally:
        context.close()
    assert len(audit.pages) == 8
    audit.assert_clean()
