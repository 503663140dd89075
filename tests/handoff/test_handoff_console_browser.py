"""The console clicked through in headless Chromium (Playwright): sign in, the
live queue, take, a canned answer, the citizen's answer appearing live, close.
Chromium is the Debian package `make test` installs; without it the test fails."""
from __future__ import annotations

import shutil

import pytest

from handoff import repository as repo
from handoff.canned import canned_answers

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(autouse=True)
def _chromium_installed():
    if CHROMIUM is None:
        pytest.fail("Chromium not found; run `make test` as root or install the Debian package chromium",
                    pytrace=False)


def test_console_in_a_browser(console, make_operator, db_url, fake_rasa):
    from playwright.sync_api import sync_playwright

    make_operator("anna", name="Анна Иванова")
    make_operator("boris", name="Борис")
    ticket, _ = repo.create_ticket("telegram_1", "telegram", "fraud", "report_fraud",
                                   "Мошенничество: звонят и просят код из смс", url=db_url)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{console.url}/login")
            page.fill("#login", "anna")
            page.fill("#password", "wrong-password-1")
            page.click("#login-submit")
            assert page.text_content("#login-error") == "Неверный логин или пароль."
            page.fill("#password", "correct-horse-battery")
            page.click("#login-submit")
            page.wait_for_selector(f"#ticket-row-{ticket.id}")
            errors.clear()  # the wrong password's 401 page is logged by Chromium itself
            # A new ticket shows up by itself (the page polls the queue).
            later, _ = repo.create_ticket("vk_2", "vk", "request", "", "Не приходит SMS", url=db_url)
            page.wait_for_selector(f"#ticket-row-{later.id}")
            page.click(f"#take-{ticket.id}")
            page.wait_for_selector("#reply-text")
            page.select_option("#canned", "security_tips")
            # The domain's answer fills the box, and what was sent is what the operator saw.
            chosen = page.input_value("#reply-text")
            assert chosen == next(a["text"] for a in canned_answers() if a["key"] == "security_tips")
            page.click("#send-reply")
            page.wait_for_selector("#reply-status:has-text('Доставлено')")
            assert fake_rasa.fake.deliveries[-1]["text"] == chosen
            repo.add_message(ticket.id, "citizen", "а если я уже сказал код?", "broker", delivered=True, url=db_url)
            page.wait_for_selector("#live-messages >> text=а если я уже сказал код?")
            page.fill("#resolution", "объяснила, что делать")
            page.click("#close-ticket")
            page.wait_for_selector("#queue-table")
            assert repo.get_ticket(ticket.id, url=db_url).status == "closed"
            assert errors == []
            # Another operator cannot open it.
            other = browser.new_page()
            other.goto(f"{console.url}/login")
            other.fill("#login", "boris")
            other.fill("#password", "correct-horse-battery")
            other.click("#login-submit")
            other.wait_for_selector("#queue-table")
            other.goto(f"{console.url}/tickets/{ticket.id}")
            assert "другой оператор" in other.text_content("#error")
        finally:
            browser.close()
