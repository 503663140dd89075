"""The operators' Telegram workspace (python-telegram-bot) against a local
fake of the Bot API, reached through PTB's own base_url setting."""
from __future__ import annotations

import pytest

from fakes.operators_bot_api import CHAT_ID, TOKEN, FakeBotApi
from handoff import repository as repo
from tests.handoff.handoff_helpers import AppThread, wait_until

ANNA = {"id": 111, "is_bot": False, "first_name": "Анна"}
BORIS = {"id": 222, "is_bot": False, "first_name": "Борис"}
STRANGER = {"id": 999, "is_bot": False, "first_name": "Посторонний"}


@pytest.fixture
def bot_api():
    fake = FakeBotApi()
    thread = AppThread(fake.app)
    thread.fake = fake
    yield thread
    thread.stop()


def test_ticket_topic_take_reply_and_close_from_telegram(console_factory, bot_api, fake_rasa, make_operator, db_url):
    make_operator("anna", name="Анна", telegram_id=ANNA["id"])
    make_operator("boris", name="Борис", telegram_id=BORIS["id"])
    api, rasa = bot_api.fake, fake_rasa.fake
    console_factory(telegram=True, tg_token=TOKEN, tg_chat_id=CHAT_ID, tg_api_url=bot_api.url)
    ticket, _ = repo.create_ticket("vk_55", "vk", "fraud", "report_fraud", "Мошенничество: просят код", url=db_url)

    topic = wait_until(lambda: api.sent("createForumTopic"), what="a topic for the ticket")[0]
    assert topic["params"]["name"].startswith(f"№{ticket.id} · Мошенничество")
    thread = wait_until(lambda: repo.get_ticket(ticket.id, url=db_url).tg_topic_id, what="topic id stored")
    card = wait_until(lambda: api.find_card(thread), what="the ticket card in its topic")
    assert "Канал: ВКонтакте" in card["text"]

    repo.add_message(ticket.id, "citizen", "мне опять звонят", "broker", delivered=True, url=db_url)
    wait_until(lambda: any("мне опять звонят" in t for t in api.sent_in_topic(thread)), what="citizen message")

    # A stranger in the group cannot take it.
    api.press_button(STRANGER, f"take:{ticket.id}", card)
    alert = wait_until(lambda: api.sent("answerCallbackQuery"), what="refusal")[0]
    assert alert["params"].get("show_alert") in (True, "true", "True")
    assert repo.get_ticket(ticket.id, url=db_url).status == "waiting"

    api.press_button(ANNA, f"take:{ticket.id}", card)
    wait_until(lambda: repo.get_ticket(ticket.id, url=db_url).status == "assigned", what="taken")
    assert repo.get_ticket(ticket.id, url=db_url).operator_name == "Анна"
    wait_until(lambda: any("подключился оператор Анна" in d["text"] for d in rasa.deliveries), what="joined notice")

    api.push_text(BORIS, "я отвечу", thread)
    wait_until(lambda: any("только оператор, который его взял" in t for t in api.sent_in_topic(thread)),
               what="Boris refused")
    assert not any(d["text"] == "я отвечу" for d in rasa.deliveries)

    api.push_text(ANNA, "Не называйте код никому. Я заблокирую подозрительные входы.", thread)
    delivered = wait_until(lambda: [d for d in rasa.deliveries if d["text"].startswith("Не называйте код")],
                           what="operator reply delivered")
    assert delivered[0]["channel"] == "vk" and delivered[0]["conversation_id"] == "vk_55"
    # Her own message is not echoed back into the topic.
    assert not any(t.startswith("🎧") for t in api.sent_in_topic(thread))

    api.push_text(ANNA, "/close объяснила, как защитить аккаунт", thread)
    wait_until(lambda: repo.get_ticket(ticket.id, url=db_url).status == "closed", what="closed")
    closed = repo.get_ticket(ticket.id, url=db_url)
    assert closed.resolution == "объяснила, как защитить аккаунт" and closed.closed_by == "operator"
    # The bot resumes right after the close is stored, not in the same step.
    wait_until(lambda: ("vk_55", "return_to_bot") in rasa.triggered, what="bot resumed")
    wait_until(lambda: api.topics[thread]["closed"], what="topic closed")
    audit = {(e.action, e.via) for e in repo.audit_entries(200, ticket_id=ticket.id, url=db_url)}
    assert {("take", "telegram"), ("write", "telegram"), ("close", "telegram"), ("refused", "telegram")} <= audit
