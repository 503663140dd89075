"""The web chat widget passes the WCAG 2.1 AA audit of axe-core in headless
Chromium (tests/a11y/axe.py): the portal page with the launcher, the open
chat in the middle of a conversation (bot text, quick replies, link buttons,
the typing indicator), and the same in the high-contrast and large-text modes.
The socket.io server is mocked at the WebSocket (Engine.IO 4 frames), as in
test_webchat.py: the audit needs the widget's pages, not the bot's answers."""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List

import pytest

from connectors.webchat.serve import serve_in_thread
from tests.a11y.axe import assert_accessible, browser_context

HOST = "hotline-webchat"


def mock_rasa(page) -> List[Any]:
    sockets: List[Any] = []

    def on_socket(ws) -> None:
        sockets.append(ws)

        def on_message(frame) -> None:
            if frame == "40":
                ws.send('40{"sid":"mock-namespace-sid"}')
            elif frame.startswith("42") and json.loads(frame[2:])[0] == "session_request":
                ws.send('42["session_confirm",{"session_id":"a11ysession0001","token":"mock-token"}]')

        ws.on_message(on_message)
        ws.send('0{"sid":"mock-sid","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')

    page.route_web_socket(re.compile(r"^ws://mock-rasa\.test/socket\.io/"), on_socket)
    return sockets


@pytest.mark.timeout(120)
def test_widget_passes_wcag_21_aa(browser):
    from playwright.sync_api import expect

    server = serve_in_thread(0, rasa_url="http://mock-rasa.test")
    context = browser_context(browser)
    try:
        page = context.new_page()
        sockets = mock_rasa(page)
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        widget = page.locator(HOST)
        expect(widget.locator(".launcher")).to_be_visible()
        assert_accessible(page, "widget: closed, on the portal page")

        widget.locator(".launcher").click()
        expect(widget.locator(".status")).to_have_text("На связи")
        widget.locator("textarea").fill("привет")
        page.keyboard.press("Enter")
        expect(widget.locator(".typing")).to_be_visible()
        assert_accessible(page, "widget: open, the bot typing")

        def bot(message: Dict[str, Any]) -> None:
            sockets[-1].send("42" + json.dumps(["bot_uttered", message], ensure_ascii=False))

        bot({"text": "Здравствуйте! Я помощник горячей линии.\n• статус заявления\n• частые вопросы",
             "quick_replies": [{"content_type": "text", "title": "Статус заявления", "payload": "/check_status"},
                               {"content_type": "text", "title": "Об услугах", "payload": "/services"}]})
        bot({"text": "Портал", "buttons": [{"title": "Открыть портал", "payload": "https://www.gosuslugi.ru"}]})
        expect(widget.locator(".msg.bot")).to_have_count(2)
        assert_accessible(page, "widget: open, a conversation")
        for switch in ("Высокий контраст", "Крупный шрифт"):
            widget.get_by_role("button", name=re.compile(switch)).click()
            assert_accessible(page, f"widget: {switch.lower()}")
    finally:
        context.close()
        server.shutdown()
        server.server_close()
