"""Server-owned identities: a stranger cannot act inside another citizen's
conversation from any channel (issue 11, item 1).

Played against `make run` (scripts/run.sh, tests/security/trust_stack.py):
a REST client naming a Telegram conversation, a socket.io client asking for
another browser's or a Telegram session, a forged session token, a REST or
voice client claiming another input channel, and the handoff broker fed a
message from the wrong channel for a waiting ticket.
"""
from __future__ import annotations

import time

import pytest
import requests

from fakes.widget_citizen import WidgetCitizen
from trust_stack import embedded_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(trained_model):
    return embedded_run(trained_model)


def _victim_conversation(run, conversation_id: str, text: str) -> None:
    """A citizen's existing conversation, as the operators' tools write it (the API, with the key)."""
    reply = requests.post(f"{run.url}/conversations/{conversation_id}/tracker/events", auth=run.api_auth(),
                          json=[{"event": "user", "text": text, "input_channel": "telegram",
                                 "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []}}],
                          timeout=30)
    assert reply.status_code == 200, reply.text


def test_rest_sender_cannot_reach_a_telegram_conversation(run):
    victim = "telegram_700000001"
    _victim_conversation(run, victim, "здравствуйте, я жду оператора")
    answers = run.rest(victim, "вернуться к боту", input_channel="telegram")
    assert answers, "the attacker gets an answer in his own conversation"
    assert {a["recipient_id"] for a in answers} == {f"rest_{victim}"}
    assert run.user_texts(victim) == ["здравствуйте, я жду оператора"]  # nothing written into the victim's
    own = run.tracker(f"rest_{victim}")
    assert [e["text"] for e in own["events"] if e["event"] == "user"] == ["вернуться к боту"]
    assert own["latest_input_channel"] == "rest"  # the body's input_channel is not believed


@pytest.mark.parametrize("sender", [None, "", {"id": 1}, "x" * 200])
def test_rest_without_a_usable_sender_is_refused_not_pooled(run, sender):
    reply = requests.post(f"{run.url}/webhooks/rest/webhook", json={"sender": sender, "message": "привет"},
                          timeout=30)
    assert reply.status_code == 400
    assert run.user_texts("default") == []  # Rasa's shared fallback conversation stays empty


def Widget(url: str, origin: str) -> WidgetCitizen:
    """A browser's widget that has connected and not yet asked for a session."""
    return WidgetCitizen(url, origin=origin, request=False)


def _wait(predicate, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_socketio_client_cannot_take_over_another_session(run):
    victim = Widget(run.url, run.demo_origin)
    attacker = Widget(run.url, run.demo_origin)
    try:
        mine = victim.request()
        assert mine["session_id"].startswith("web_") and mine["token"]
        victim.say("здравствуйте")
        assert _wait(lambda: victim.received), "the victim gets the bot's greeting"

        # Asking for the victim's session by id, with a forged token, or for a Telegram chat.
        signature = mine["token"].split(".")[1]
        forged = f"{mine['session_id']}.{'1' if signature[0] == '0' else '0'}{signature[1:]}"
        for request in ({"session_id": mine["session_id"]}, {"session_id": mine["session_id"], "token": forged},
                        {"session_id": "telegram_700000001"}, {"token": "telegram_700000001.00"}):
            got = attacker.request(**request)
            assert got["session_id"] not in (mine["session_id"], "telegram_700000001"), request
        # Writing with the victim's session id in the message goes to the attacker's own session.
        attacker.say("какие документы нужны для загранпаспорта", session_id=mine["session_id"])
        assert _wait(lambda: attacker.received), "the attacker is answered in his own conversation"
        victim.say("спасибо")
        assert _wait(lambda: len(run.user_texts(mine["session_id"])) >= 2)
        time.sleep(1)
        assert run.user_texts(mine["session_id"]) == ["здравствуйте", "спасибо"]
        assert "загранпаспорт" not in victim.texts().lower()  # the attacker's answers never reach the victim
    finally:
        victim.close()
        attacker.close()


def test_a_widget_reconnecting_with_its_token_continues_its_conversation(run):
    first = Widget(run.url, run.demo_origin)
    try:
        mine = first.request()
        first.say("здравствуйте")
        assert _wait(lambda: first.received)
    finally:
        first.close()
    again = Widget(run.url, run.demo_origin)
    try:
        assert again.request(session_id=mine["session_id"], token=mine["token"])["session_id"] == mine["session_id"]
        again.say("спасибо")
        assert _wait(lambda: run.user_texts(mine["session_id"]) == ["здравствуйте", "спасибо"])
    finally:
        again.close()


def test_socket_from_a_foreign_page_is_refused(run):
    import socketio

    with pytest.raises(socketio.exceptions.ConnectionError):
        Widget(run.url, "https://evil.example")


def test_voice_webhook_answers_the_phone_server_only(run):
    body = {"sender": "telegram_700000002", "message": "/greet"}
    url = f"{run.url}/webhooks/voice/webhook"
    assert requests.post(url, json=body, timeout=30).status_code == 403
    assert requests.post(url, json=body, headers={"Authorization": "Bearer guessed"}, timeout=30).status_code == 403
    token = run.secret("voice-channel.secret")
    reply = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert reply.status_code == 200
    assert run.user_texts("telegram_700000002") == []  # even the phone server stays in phone_…
    assert run.user_texts("phone_telegram_700000002") == ["/greet"]


def test_handoff_broker_takes_a_tickets_messages_only_from_its_channel(tmp_path):
    from hotline.db.engine import init_db
    from handoff import repository as repo
    from handoff.broker import HandoffEventBroker

    url = f"sqlite:///{tmp_path / 'store.db'}"
    init_db(url)
    ticket, _ = repo.create_ticket("telegram_700000003", "telegram", "request", "", "вопрос", url=url)
    broker = HandoffEventBroker(url)
    for channel in ("rest", "socketio", None):
        broker.handle({"event": "user", "sender_id": "telegram_700000003", "text": "вернуться к боту",
                       "input_channel": channel, "timestamp": time.time(), "parse_data": {}})
    assert repo.get_ticket(ticket.id, url=url).status == "waiting"
    broker.handle({"event": "user", "sender_id": "telegram_700000003", "text": "я здесь",
                   "input_channel": "telegram", "timestamp": time.time(), "parse_data": {}})
    assert [m.text for m in repo.ticket_messages(ticket.id, url=url)] == ["я здесь"]
