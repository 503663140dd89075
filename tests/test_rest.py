"""Round trips over Rasa's REST webhook with the real servers running."""
from __future__ import annotations

import re

import pytest
import requests

CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def _texts(replies):
    return " ".join(r.get("text", "") for r in replies)


def test_documents_for_a_foreign_passport(servers):
    replies = servers.send("rest-passport", "какие документы нужны для загранпаспорта")
    text = _texts(replies)
    assert "загранпаспорт" in text.lower()
    assert "портал" in text


def test_greeting_shows_the_menu_buttons(servers):
    replies = servers.send("rest-greet", "здравствуйте")
    buttons = [b["payload"] for r in replies for b in r.get("buttons", [])]
    assert "/check_application_status" in buttons


def test_faq_answer_uses_the_configured_number(servers):
    text = _texts(servers.send("rest-faq", "по какому номеру звонить на горячую линию"))
    assert "800‑100‑200" in text


def test_frequent_questions_button_opens_the_knowledge_base_answer(servers, domain_yaml):
    topics = next(v for v in domain_yaml["responses"]["utter_fallback"]
                  if (v.get("condition") or [{}])[0].get("value") == "topics" and not v.get("channel"))
    payload = next(b["payload"] for b in topics["buttons"] if b["title"] == "Частые вопросы")
    text = _texts(servers.send("rest-faq-button", payload))
    assert "«Помощь и поддержка»" in text and "поисковую строку" in text


def test_three_misses_end_with_how_to_reach_a_human(servers):
    answers = [_texts(servers.send("rest-miss", "ывапролдж фыва")) for _ in range(3)]
    assert "сформулируйте" in answers[0] or "переформулир" in answers[0]
    assert "тему" in answers[1]
    assert "оператор" in answers[2]


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "а" * 10_000,
        "🙂🙏🔥",
        "zdravstvuyte",
        "<script>alert('x')</script>",
        "'; DROP TABLE applications; --",
        "<b>привет</b>",
        "SELECT * FROM users WHERE 1=1",
    ],
)
def test_bad_input_gets_a_polite_russian_answer(servers, message):
    replies = servers.send("rest-bad-input", message)
    text = _texts(replies)
    assert text and CYRILLIC.search(text), (message[:40], replies)


def test_transliterated_greeting_is_understood(servers):
    buttons = [b for r in servers.send("rest-translit", "privet") for b in r.get("buttons", [])]
    assert buttons


def test_server_logs_show_no_errors(servers):
    servers.send("rest-log", "а" * 10_000)
    logs = servers.logs()
    assert "Traceback" not in logs
    assert not re.search(r"\bERROR\b", logs), [l for l in logs.splitlines() if "ERROR" in l][:5]
