"""End to end with the real servers (rasa run --enable-api, the action
server, the event broker and the handoff channel) and the console:

* a citizen on the REST webhook asks for an operator, the ticket appears,
  an operator takes it in the console and replies, the citizen receives the
  reply, the citizen's next message reaches the console and the tracker, the
  operator closes, the bot answers again and asks for a rating;
* the same through the web widget's socket.io channel, and through the Telegram
  and VK channels against their local fakes (tests/channels);
* «вернуться к боту» while waiting;
* a restart of every server while a ticket waits loses nothing.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List

import pytest

from handoff import repository as repo
from tests.handoff.handoff_helpers import wait_until
from fakes.handoff_stack import PASSWORD, Stack, WidgetCitizen

pytestmark = pytest.mark.slow


def _texts(replies: List[Dict[str, Any]]) -> str:
    return " ".join(r.get("text", "") for r in replies)


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    from hotline.db.engine import init_db
    from handoff.admin import add_operator
    from fakes.telegram import FakeTelegramAPI
    from fakes.vk import FakeVK

    from fakes.handoff_stack import VK_GROUP_ID, VK_TOKEN

    workdir = tmp_path_factory.mktemp("handoff-e2e")
    db_url = f"sqlite:///{workdir / 'store.db'}"
    init_db(db_url)
    add_operator("anna", "Анна", PASSWORD, via="cli", url=db_url)
    add_operator("boris", "Борис", PASSWORD, via="cli", url=db_url)
    with FakeTelegramAPI() as telegram, FakeVK(VK_TOKEN, VK_GROUP_ID) as vk:
        running = Stack(workdir, trained_model, db_url, telegram=telegram, vk=vk).start()
        yield running
        running.stop()


def _operator(stack: Stack, login: str = "anna"):
    return stack.operator(login)


def _ticket_of(stack: Stack, conversation: str) -> Dict[str, Any]:
    return stack.ticket_of(conversation, "boris")


def test_rest_citizen_operator_and_back_to_the_bot(stack):
    citizen = "rest-handoff-1"
    servers = stack.servers
    asked = _texts(servers.send(citizen, "позовите оператора"))
    assert "одной строкой" in asked
    queued = _texts(servers.send(citizen, "не приходит смс с кодом при входе"))
    assert "передано оператору" in queued and "1‑й в очереди" in queued and "около" in queued

    ticket = _ticket_of(stack, f"rest_{citizen}")
    assert ticket["channel"] == "rest" and ticket["status"] == "waiting"
    assert ticket["summary"] == "не приходит смс с кодом при входе"

    anna = _operator(stack)
    assert anna.take(ticket["id"]).status_code == 200
    joined = stack.pull(citizen)
    assert "подключился оператор Анна" in joined[-1]["text"]
    last = joined[-1]["id"]

    # The operator's reply reaches the citizen's channel.
    sent_at = time.perf_counter()
    assert anna.reply(ticket["id"], "Здравствуйте! Проверьте, какой номер указан в профиле.").status_code == 200
    received = stack.pull(citizen, after=last)
    assert received[0]["text"] == "Здравствуйте! Проверьте, какой номер указан в профиле."
    assert received[0]["from"] == "operator" and received[0]["operator"] == "Анна"
    print(f"REST: operator send → citizen has it: {(time.perf_counter() - sent_at) * 1000:.0f} ms")
    last = received[-1]["id"]

    # The citizen's next message: the bot stays silent, the console and the tracker get it.
    assert servers.send(citizen, "номер старый, сменил его в прошлом году") == []
    messages = wait_until(lambda: [m for m in anna.get(f"/api/tickets/{ticket['id']}/messages").json()["messages"]
                                   if m["direction"] == "citizen"], what="the citizen's message in the console")
    assert messages[-1]["text"] == "номер старый, сменил его в прошлом году"
    history = stack.tracker_texts(f"rest_{citizen}")
    assert ("user", "номер старый, сменил его в прошлом году") in history
    assert ("bot", "Здравствуйте! Проверьте, какой номер указан в профиле.") in history
    transcript = anna.get(f"/api/tickets/{ticket['id']}").json()["transcript"]
    assert {"bot", "citizen", "operator", "event"} <= {item["who"] for item in transcript}

    # The operator closes: the bot is back and asks for a rating.
    assert anna.close(ticket["id"], "подсказала сменить номер в профиле").status_code == 200
    back = stack.pull(citizen, after=last)
    assert "Разговор с оператором завершён" in back[-1]["text"] and "от 1 до 5" in back[-1]["text"]
    assert "Спасибо за оценку" in _texts(servers.send(citizen, "5"))
    assert repo.get_ticket(ticket["id"], url=stack.db_url).rating == 5
    answer = _texts(servers.send(citizen, "какие документы нужны для загранпаспорта"))
    assert "загранпаспорт" in answer.lower()


def test_socketio_widget_citizen(stack):
    widget = WidgetCitizen(stack.servers.url, origin=stack.origin)
    try:
        widget.say("соедините меня с живым человеком")
        wait_until(lambda: "одной строкой" in widget.texts(), what="the summary question")
        widget.say("отклонили заявление на загранпаспорт")
        wait_until(lambda: "передано оператору" in widget.texts(), what="queued")
        ticket = _ticket_of(stack, widget.session_id)
        assert ticket["channel"] == "socketio"
        boris = _operator(stack, "boris")
        assert boris.take(ticket["id"]).status_code == 200
        wait_until(lambda: "подключился оператор Борис" in widget.texts(), what="joined notice over socket.io")
        sent_at = time.perf_counter()
        boris.reply(ticket["id"], "Причина отказа указана в личном кабинете, раздел «Заявления».")
        got = wait_until(lambda: [r for r in widget.received if "Причина отказа" in r.get("text", "")],
                         what="the reply in the widget")
        print(f"socket.io: operator send → widget has it: {(got[0]['at'] - sent_at) * 1000:.0f} ms")
        widget.say("вижу, там нужна новая фотография")
        wait_until(lambda: any(m["text"] == "вижу, там нужна новая фотография"
                               for m in boris.get(f"/api/tickets/{ticket['id']}/messages").json()["messages"]),
                   what="the widget citizen's message in the console")
        boris.close(ticket["id"], "объяснил причину отказа")
        prompt = wait_until(lambda: [r for r in widget.received if "от 1 до 5" in r.get("text", "")],
                            what="rating prompt")
        assert prompt[0].get("quick_replies") or prompt[0].get("buttons")
    finally:
        widget.close()


def test_telegram_citizen(stack):
    chat = 5_550_001
    conversation = f"telegram_{chat}"
    assert any("одной строкой" in t for t in stack.telegram_say(chat, "позовите оператора"))
    assert any("передано оператору" in t for t in stack.telegram_say(chat, "пришло письмо о штрафе, не понимаю"))
    ticket = _ticket_of(stack, conversation)
    assert ticket["channel"] == "telegram"
    anna = _operator(stack)
    mark = stack.telegram.mark()
    anna.take(ticket["id"])
    anna.reply(ticket["id"], "Проверьте штраф в разделе «Штрафы» личного кабинета.")
    stack.telegram.wait_for("sendMessage", count=2, chat_id=chat, since=mark)
    texts = stack.telegram.texts_to(chat, since=mark)
    assert "подключился оператор Анна" in texts[0] and texts[1].startswith("Проверьте штраф")
    assert stack.telegram_say(chat, "нашёл, спасибо") == []  # paused: only the operator sees it
    wait_until(lambda: any(m["text"] == "нашёл, спасибо"
                           for m in anna.get(f"/api/tickets/{ticket['id']}/messages").json()["messages"]),
               what="the Telegram citizen's message in the console")
    mark = stack.telegram.mark()
    anna.close(ticket["id"], "подсказала раздел")
    rating = stack.telegram.wait_for("sendMessage", chat_id=chat, since=mark)[0]
    assert "от 1 до 5" in rating.params["text"] and rating.params.get("reply_markup")
    assert any("Спасибо за оценку" in t for t in stack.telegram_say(chat, "4"))


def test_vk_citizen(stack):
    peer = 77_001
    assert any("одной строкой" in t for t in stack.vk_say(peer, "хочу поговорить с оператором"))
    assert any("передано оператору" in t for t in stack.vk_say(peer, "не могу подтвердить учетную запись"))
    ticket = _ticket_of(stack, f"vk_{peer}")
    assert ticket["channel"] == "vk"
    boris = _operator(stack, "boris")
    before = len(stack.vk.sent_to(peer))
    boris.take(ticket["id"])
    boris.reply(ticket["id"], "Подтвердить учётную запись можно в МФЦ с паспортом и СНИЛС.")
    sent = stack.vk.wait_for_sent(peer, before + 2)[before:]
    assert sent[1].message.startswith("Подтвердить учётную запись")
    assert stack.vk_say(peer, "а записываться надо?") == []
    wait_until(lambda: any(m["text"] == "а записываться надо?"
                           for m in boris.get(f"/api/tickets/{ticket['id']}/messages").json()["messages"]),
               what="the VK citizen's message in the console")
    before = len(stack.vk.sent_to(peer))
    boris.close(ticket["id"])
    prompt = stack.vk.wait_for_sent(peer, before + 1)[before]
    assert "от 1 до 5" in prompt.message


def test_citizen_returns_to_the_bot_while_waiting(stack):
    citizen = "rest-handoff-return"
    stack.servers.send(citizen, "хочу поговорить с оператором")
    stack.servers.send(citizen, "вопрос про материнский капитал")
    ticket = _ticket_of(stack, f"rest_{citizen}")
    assert stack.servers.send(citizen, "вернуться к боту") == []  # paused: the console resumes the bot
    back = stack.pull(citizen)
    assert "запрос оператору отменён" in back[-1]["text"]
    closed = repo.get_ticket(ticket["id"], url=stack.db_url)
    assert closed.status == "closed" and closed.closed_by == "citizen"
    assert "загранпаспорт" in _texts(stack.servers.send(citizen, "какие документы нужны для загранпаспорта")).lower()


def test_restart_while_a_ticket_waits_loses_nothing(stack):
    citizen = "rest-handoff-restart"
    stack.servers.send(citizen, "позовите оператора")
    stack.servers.send(citizen, "не могу записаться в мфц через портал")
    ticket = _ticket_of(stack, f"rest_{citizen}")
    assert stack.servers.send(citizen, "я подожду") == []
    stack.stop()
    stack.start()  # new processes, new ports, the same database and tracker store
    again = _ticket_of(stack, f"rest_{citizen}")
    assert again["id"] == ticket["id"] and again["status"] == "waiting"
    anna = _operator(stack)
    assert anna.take(ticket["id"]).status_code == 200
    detail = anna.get(f"/api/tickets/{ticket['id']}").json()
    assert [m["text"] for m in detail["messages"] if m["direction"] == "citizen"] == ["я подожду"]
    assert any(item["text"] == "не могу записаться в мфц через портал" for item in detail["transcript"])
    anna.reply(ticket["id"], "Запишу вас сам: какой район?")
    assert stack.pull(citizen)[-1]["text"] == "Запишу вас сам: какой район?"
    assert stack.servers.send(citizen, "центральный") == []  # still paused after the restart
    wait_until(lambda: any(m["text"] == "центральный"
                           for m in anna.get(f"/api/tickets/{ticket['id']}/messages").json()["messages"]),
               what="message after restart")
