"""The VK channel against a local fake of VK's API, with the real Rasa server.

The fake (vk_fake.py) speaks VK's protocol over HTTP; the channel talks to it
through the real client library (vk_api) with VK_API_URL pointing at it. The
Callback API tests post events to `rasa run`'s /webhooks/vk/webhook exactly as
VK does; the Bots Long Poll tests run a second server in long-poll mode.
"""
from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import yaml

from connectors.vk.api import VKClient, method_base_url
from connectors.vk.channel import NON_TEXT_REPLY, VKInput, VKSettings
from connectors.vk.keyboard import PayloadStore, build_keyboards, payload_command
from connectors.vk.text import split_text
from hotline.ops.local_servers import LocalServers

from fakes.vk import FakeVK

GROUP_ID = 218_000_001
TOKEN = "vk1.a.test-" + secrets.token_hex(20)
SECRET = "cb-secret-" + secrets.token_hex(8)
CONFIRMATION = "c0nf1rm" + secrets.token_hex(2)
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
RETRY_BASE = 0.3  # VK_RETRY_BASE_DELAY for the servers under test

_peers = iter(range(10_001, 99_999))


def new_peer() -> int:
    return next(_peers)


# --- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeVK]:
    with FakeVK(TOKEN, GROUP_ID) as server:
        yield server


def _start(fake: FakeVK, model: Path, workdir: Path, mode: str) -> LocalServers:
    credentials = workdir / "credentials.yml"
    credentials.write_text(yaml.safe_dump({"rest": None, "connectors.vk.channel.VKInput": None}))
    env = {
        "VK_TOKEN": TOKEN, "VK_GROUP_ID": str(GROUP_ID), "VK_CONFIRMATION": CONFIRMATION,
        "VK_SECRET": SECRET, "VK_API_URL": fake.api_url, "VK_MODE": mode,
        "VK_RETRY_BASE_DELAY": str(RETRY_BASE),
    }
    return LocalServers(workdir, model, extra_env=env, credentials=credentials)


@pytest.fixture(scope="module")
def vk_server(fake: FakeVK, trained_model: Path, tmp_path_factory) -> Iterator[LocalServers]:
    servers = _start(fake, trained_model, tmp_path_factory.mktemp("vk-callback"), "callback")
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def webhook(vk_server: LocalServers) -> str:
    return f"{vk_server.url}/webhooks/vk/webhook"


# --- helpers -------------------------------------------------------------------


def tracker_events(server: LocalServers, sender: str) -> List[Dict[str, Any]]:
    reply = requests.get(f"{server.url}/conversations/{sender}/tracker", auth=server.auth, timeout=30)
    reply.raise_for_status()
    return reply.json().get("events") or []


def user_turns(events: List[Dict[str, Any]]) -> int:
    return sum(1 for e in events if e["event"] == "user")


def wait_for_turn(server: LocalServers, sender: str, turns: int, timeout: float = 60) -> List[Dict[str, Any]]:
    """The tracker once it holds `turns` user messages, each fully answered
    (Rasa saves the tracker after the replies were sent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = tracker_events(server, sender)
        if user_turns(events) >= turns and events[-1]["event"] == "action" \
                and events[-1]["name"] == "action_listen":
            return events
        time.sleep(0.2)
    raise TimeoutError(f"{sender}: turn {turns} not answered in {timeout} s")


def last_turn_bots(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    start = max(i for i, e in enumerate(events) if e["event"] == "user")
    return [e for e in events[start:] if e["event"] == "bot"]


def say(fake: FakeVK, server: LocalServers, url: str, peer: int, text: str = "",
        payload: Any = None) -> List[Any]:
    """One citizen message over the Callback API; the VK messages it got."""
    before = len(fake.sent_to(peer))
    turns = user_turns(tracker_events(server, f"vk_{peer}"))
    reply = fake.post_callback(url, fake.message_new(peer, text, payload=payload), SECRET)
    assert reply.status_code == 200 and reply.text == "ok"
    events = wait_for_turn(server, f"vk_{peer}", turns + 1)
    expected = len(last_turn_bots(events))
    return fake.wait_for_sent(peer, before + expected)[before:]


def keyboard_payloads(sent) -> List[str]:
    out = []
    for message in sent:
        for row in (message.keyboard or {}).get("buttons", []):
            for button in row:
                out.append(json.loads(button["action"]["payload"])["command"])
    return out


# --- Callback API ----------------------------------------------------------------


def test_health_shows_the_mode(vk_server):
    reply = requests.get(f"{vk_server.url}/webhooks/vk/", timeout=10)
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok", "mode": "callback", "long_poll_running": False}


def test_confirmation_handshake(webhook):
    reply = requests.post(webhook, json={"type": "confirmation", "group_id": GROUP_ID}, timeout=10)
    assert reply.status_code == 200
    assert reply.text == CONFIRMATION
    assert reply.headers["content-type"].startswith("text/plain")
    other = requests.post(webhook, json={"type": "confirmation", "group_id": GROUP_ID + 1}, timeout=10)
    assert other.status_code == 403 and CONFIRMATION not in other.text


def test_wrong_or_missing_secret_is_403_and_not_logged(fake, vk_server, webhook):
    peer = new_peer()
    marker = "поддельное сообщение " + secrets.token_hex(6)
    for secret in ("wrong-secret", None, SECRET[:-1]):
        reply = fake.post_callback(webhook, fake.message_new(peer, marker), secret)
        assert reply.status_code == 403
        assert reply.text != "ok"
    time.sleep(1.5)
    assert fake.sent_to(peer) == []
    logs = vk_server.logs()
    assert "wrong or missing secret" in logs
    assert marker not in logs and "wrong-secret" not in logs


def test_greeting_gets_a_russian_answer_with_a_keyboard(fake, vk_server, webhook):
    peer = new_peer()
    started = time.perf_counter()
    reply = fake.post_callback(webhook, fake.message_new(peer, "здравствуйте"), SECRET)
    answered_in = time.perf_counter() - started
    assert reply.status_code == 200 and reply.text == "ok"
    assert answered_in < 1.0, "the Callback API must get its ok before the event is handled"

    sent = fake.wait_for_sent(peer, 1, settle=0.5)
    text = " ".join(m.message for m in sent)
    assert CYRILLIC.search(text) and ("Здравствуйте" in text or "Добрый день" in text)
    keyboards = [m.keyboard for m in sent if m.keyboard]
    assert keyboards, "the greeting's topic buttons come as a VK keyboard"
    keyboard = keyboards[0]
    assert keyboard["inline"] is True and keyboard["one_time"] is False
    buttons = [b["action"] for row in keyboard["buttons"] for b in row]
    assert all(b["type"] == "text" and 0 < len(b["label"]) <= 40 for b in buttons)
    assert "/check_application_status" in keyboard_payloads(sent)
    assert all(m.random_id for m in sent) and len({m.random_id for m in sent}) == len(sent)
    assert all(m.params["v"] for m in sent)
    assert all(c.token_ok for c in fake.calls_of("messages.send"))


def test_button_payload_gets_the_payloads_answer(fake, vk_server, webhook):
    peer = new_peer()
    sent = say(fake, vk_server, webhook, peer, "Регистрация и вход",
               payload={"command": "/ask_registration_help"})
    events = tracker_events(vk_server, f"vk_{peer}")
    user = [e for e in events if e["event"] == "user"][-1]
    assert user["parse_data"]["intent"]["name"] == "ask_registration_help"
    assert user["input_channel"] == "vk"
    # the same answer as the payload gets over REST
    vk_server.send(f"rest-{peer}", "/ask_registration_help")
    rest_bots = last_turn_bots(wait_for_turn(vk_server, f"rest-{peer}", 1))
    assert [b["metadata"].get("utter_action") for b in last_turn_bots(events)] == \
           [b["metadata"].get("utter_action") for b in rest_bots]
    assert [m.message for m in sent] == [b["text"].strip() for b in last_turn_bots(events)]
    assert "регистрац" in " ".join(m.message for m in sent).lower()


def test_vk_start_button_greets(fake, vk_server, webhook):
    peer = new_peer()
    sent = say(fake, vk_server, webhook, peer, "Начать", payload={"command": "start"})
    assert "/ask_service_info" in keyboard_payloads(sent)


def test_repeated_event_id_is_answered_once(fake, vk_server, webhook):
    peer = new_peer()
    event = fake.message_new(peer, "по какому номеру звонить на горячую линию")
    for retry in range(3):
        reply = fake.post_callback(webhook, event, SECRET, retry=retry)
        assert reply.status_code == 200 and reply.text == "ok"
    events = wait_for_turn(vk_server, f"vk_{peer}", 1)
    expected = len(last_turn_bots(events))
    sent = fake.wait_for_sent(peer, expected, settle=2.0)
    assert user_turns(tracker_events(vk_server, f"vk_{peer}")) == 1
    assert len(sent) == expected


@pytest.mark.parametrize("code", [6, 9, 10])
def test_retryable_error_is_retried_with_backoff_and_delivered_once(fake, vk_server, webhook, code):
    peer = new_peer()
    before = len(fake.calls_of("messages.send"))
    fake.fail_next("messages.send", code, times=1)
    sent = say(fake, vk_server, webhook, peer, "по какому номеру звонить на горячую линию")
    calls = [c for c in fake.calls_of("messages.send")[before:] if c.params.get("peer_id") == str(peer)]
    failed = [c for c in calls if c.error == code]
    assert len(failed) == 1
    first_ok = next(c for c in calls if c.error is None)
    assert first_ok.params["random_id"] == failed[0].params["random_id"], "a retry keeps its random_id"
    assert first_ok.at - failed[0].at >= RETRY_BASE * 0.95, "backoff before the retry"
    assert len([m for m in sent if m.random_id == int(failed[0].params["random_id"])]) == 1
    assert f"[{code}]" in vk_server.logs()


def test_other_errors_are_logged_without_the_token_and_the_dialogue_goes_on(fake, vk_server, webhook):
    peer = new_peer()
    fake.fail_next("messages.send", 901, times=1)
    before = len(fake.calls_of("messages.send"))
    fake.post_callback(webhook, fake.message_new(peer, "спасибо"), SECRET)
    wait_for_turn(vk_server, f"vk_{peer}", 1)
    calls = fake.calls_of("messages.send")[before:]
    assert [c.error for c in calls if c.params.get("peer_id") == str(peer)][0] == 901
    logs = vk_server.logs()
    assert "[901]" in logs and TOKEN not in logs
    # not retried, and the next message is answered as usual
    assert say(fake, vk_server, webhook, peer, "здравствуйте")


@pytest.mark.parametrize("kind", ["photo", "sticker", "audio_message", "doc", "geo"])
def test_non_text_messages_get_a_polite_russian_answer(fake, vk_server, webhook, kind):
    peer = new_peer()
    if kind == "geo":
        event = fake.message_new(peer, "", geo=fake.geo())
    else:
        event = fake.message_new(peer, "", attachments=[fake.attachment(kind, peer)])
    reply = fake.post_callback(webhook, event, SECRET)
    assert reply.status_code == 200 and reply.text == "ok"
    sent = fake.wait_for_sent(peer, 1, settle=0.5)
    assert [m.message for m in sent] == [NON_TEXT_REPLY]
    assert CYRILLIC.search(NON_TEXT_REPLY) and "текст" in NON_TEXT_REPLY


def test_photo_with_a_caption_is_answered_by_its_text(fake, vk_server, webhook):
    peer = new_peer()
    fake.post_callback(webhook, fake.message_new(peer, "здравствуйте",
                                                 attachments=[fake.attachment("photo", peer)]), SECRET)
    events = wait_for_turn(vk_server, f"vk_{peer}", 1)
    assert [e for e in events if e["event"] == "user"][-1]["parse_data"]["intent"]["name"] == "greet"


def test_other_events_and_bad_requests(fake, vk_server, webhook):
    reply = fake.post_callback(webhook, {"type": "message_typing_state", "group_id": GROUP_ID,
                                         "event_id": secrets.token_hex(20), "v": "5.199",
                                         "object": {"state": "typing", "from_id": 1, "to_id": -GROUP_ID}},
                               SECRET)
    assert reply.status_code == 200 and reply.text == "ok"
    bad = requests.post(webhook, data=b"not json", headers={"Content-Type": "application/json"}, timeout=10)
    assert bad.status_code == 400
    other_group = fake.message_new(new_peer(), "здравствуйте")
    other_group["group_id"] = GROUP_ID + 1
    assert fake.post_callback(webhook, other_group, SECRET).status_code == 403


def test_sending_from_outside_a_request_via_rasa(fake, vk_server):
    """Rasa's API pushes into a VK conversation (operator handoff path)."""
    peer = new_peer()
    reply = requests.post(f"{vk_server.url}/conversations/vk_{peer}/trigger_intent",
                          params={"output_channel": "vk"}, json={"name": "greet"}, auth=vk_server.auth, timeout=60)
    assert reply.status_code == 200, reply.text
    sent = fake.wait_for_sent(peer, 1, settle=0.5)
    assert "/ask_service_info" in keyboard_payloads(sent)


def test_same_answers_as_rest(fake, vk_server, webhook, domain_yaml):
    """The scripted conversation: same responses (and buttons) on REST and VK."""
    script = [
        ("здравствуйте", None),
        ("по какому номеру звонить на горячую линию", None),
        ("Регистрация и вход", "/ask_registration_help"),
        ("какие документы нужны для загранпаспорта", None),
    ]
    domain_responses = domain_yaml.get("responses") or {}
    peer = new_peer()
    rest_sender = f"rest-vs-vk-{peer}"
    for turn, (text, button) in enumerate(script, start=1):
        rest = vk_server.send(rest_sender, button or text)
        vk = say(fake, vk_server, webhook, peer, text, payload={"command": button} if button else None)
        rest_bots = last_turn_bots(wait_for_turn(vk_server, rest_sender, turn))
        vk_bots = last_turn_bots(wait_for_turn(vk_server, f"vk_{peer}", turn))
        assert [b["metadata"].get("utter_action") for b in vk_bots] == \
               [b["metadata"].get("utter_action") for b in rest_bots], text
        # what VK delivered is exactly what Rasa said, one message per reply
        assert [m.message for m in vk] == [b["text"].strip() for b in vk_bots]
        assert keyboard_payloads(vk) == [b["payload"] for r in rest for b in r.get("buttons", [])]
        # a response with a single variation reads the same word for word
        for rest_reply, vk_message, bot in zip(rest, vk, vk_bots):
            variations = domain_responses.get(bot["metadata"].get("utter_action") or "", [])
            if len(variations) == 1:
                assert rest_reply["text"].strip() == vk_message.message


def test_no_token_secret_or_message_text_in_logs(fake, vk_server, webhook):
    peer = new_peer()
    text = "мой снилс 112-233-445 95 что с заявлением"
    say(fake, vk_server, webhook, peer, text)
    logs = vk_server.logs()
    for secret in (TOKEN, SECRET, "112-233-445 95", text):
        assert secret not in logs


# --- the client on its own ---------------------------------------------------------


@pytest.fixture
def client(fake: FakeVK) -> Iterator[VKClient]:
    client = VKClient(TOKEN, GROUP_ID, api_url=fake.api_url, retry_base_delay=0.05)
    yield client
    client.close()


def test_send_text_without_an_event_splits_long_replies(fake, client):
    from connectors.vk import api

    peer = new_peer()
    paragraph = "Очень длинный ответ о государственных услугах. " * 30
    text = "\n\n".join([paragraph.strip()] * 8)  # 8 paragraphs of 1,409 characters
    api.set_default_client(client)
    try:
        asyncio.run(api.send_text(peer, text, buttons=[{"title": "Статус заявления",
                                                        "payload": "/check_application_status"}]))
    finally:
        api.set_default_client(None)
    sent = fake.sent_to(peer)
    # two whole paragraphs fit in 4,096 characters, three do not
    assert len(sent) == 4 and all(len(m.message) <= 4096 for m in sent)
    assert all(m.message.endswith(".") for m in sent), "cut at a sentence or paragraph end"
    assert re.sub(r"\s+", " ", " ".join(m.message for m in sent)) == re.sub(r"\s+", " ", text)
    assert all(m.message == "\n\n".join([paragraph.strip()] * 2) for m in sent)
    assert [m.keyboard is not None for m in sent] == [False, False, False, True]


def test_retries_are_bounded(fake, client):
    peer = new_peer()
    fake.fail_next("messages.send", 10, times=client.max_retries + 1)
    with pytest.raises(Exception) as raised:
        asyncio.run(client.send_text(peer, "проверка"))
    assert "[10]" in str(raised.value) and TOKEN not in str(raised.value)
    assert fake.sent_to(peer) == []


def test_wrong_token_is_reported_without_it(fake):
    client = VKClient("wrong-" + TOKEN, GROUP_ID, api_url=fake.api_url)
    try:
        with pytest.raises(Exception) as raised:
            asyncio.run(client.send_text(new_peer(), "проверка"))
        assert "[5]" in str(raised.value) and TOKEN not in str(raised.value)
    finally:
        client.close()


def test_split_text_keeps_everything_and_respects_the_limit():
    assert split_text("коротко") == ["коротко"]
    assert split_text("  ") == []
    word = "а" * 5000
    assert [len(p) for p in split_text(word)] == [4096, 904]
    text = "Строка один.\nСтрока два. " * 400
    pieces = split_text(text, 1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_keyboards_respect_vk_limits():
    store = PayloadStore()
    buttons = [{"title": f"Кнопка номер {i} с очень длинной подписью больше сорока", "payload": f"/intent_{i}"}
               for i in range(12)]
    buttons.append({"title": "Длинный payload", "payload": "я" * 400})
    keyboards = [json.loads(k) for k in build_keyboards(buttons, store)]
    assert [sum(len(r) for r in k["buttons"]) for k in keyboards] == [10, 3]
    for keyboard in keyboards:
        assert keyboard["inline"] and len(keyboard["buttons"]) <= 6
        for row in keyboard["buttons"]:
            assert len(row) <= 5
            for button in row:
                assert len(button["action"]["label"]) <= 40 and len(button["action"]["payload"]) <= 255
    last = keyboards[1]["buttons"][-1][-1]["action"]["payload"]
    assert payload_command(last, store) == "я" * 400
    assert payload_command('{"command":"start"}', store) == "/greet"
    assert payload_command("not json", store) is None
    assert payload_command('{"button":"1"}', store) is None


def test_an_unconfigured_channel_does_not_break_the_server(monkeypatch):
    for name in ("VK_TOKEN", "VK_GROUP_ID", "VK_CONFIRMATION", "VK_SECRET", "VK_MODE"):
        monkeypatch.delenv(name, raising=False)
    channel = VKInput.from_credentials(None)
    assert channel.client is None and channel.get_output_channel() is None
    assert channel.blueprint(lambda message: None).name == "vk_webhook"


def test_settings_come_from_the_environment():
    env = {"VK_TOKEN": "t", "VK_GROUP_ID": "5", "VK_MODE": "longpoll", "VK_API_URL": "http://h:1"}
    settings = VKSettings.load(None, env)
    assert (settings.token, settings.group_id, settings.mode) == ("t", 5, "longpoll")
    assert VKSettings.load({"mode": "callback"}, env).mode == "callback"
    with pytest.raises(ValueError):
        VKSettings.load({"mode": "webhook-ish"}, {})
    assert method_base_url("http://h:1") == "http://h:1/method/"
    assert method_base_url("https://api.vk.com/method/") == "https://api.vk.com/method/"


# --- Bots Long Poll ----------------------------------------------------------------


@pytest.fixture(scope="module")
def lp_server(fake: FakeVK, trained_model: Path, tmp_path_factory) -> Iterator[LocalServers]:
    servers = _start(fake, trained_model, tmp_path_factory.mktemp("vk-longpoll"), "longpoll")
    yield servers
    servers.stop()


def _lp_say(fake: FakeVK, server: LocalServers, peer: int, text: str, turn: int,
            event: Optional[Dict[str, Any]] = None) -> List[Any]:
    before = len(fake.sent_to(peer))
    fake.push_event(event or fake.message_new(peer, text))
    events = wait_for_turn(server, f"vk_{peer}", turn)
    return fake.wait_for_sent(peer, before + len(last_turn_bots(events)))[before:]


def test_long_poll_end_to_end(fake, lp_server):
    fake.wait_for_calls("groups.getLongPollServer", 1)
    peer = new_peer()
    sent = _lp_say(fake, lp_server, peer, "здравствуйте", 1)
    assert "/ask_service_info" in keyboard_payloads(sent)

    # a button press arrives by long poll too
    pressed = fake.message_new(peer, "Связаться с оператором", payload={"command": "/request_operator"})
    sent = _lp_say(fake, lp_server, peer, "", 2, event=pressed)
    assert "оператор" in sent[0].message.lower()

    # non-text
    before = len(fake.sent_to(peer))
    fake.push_event(fake.message_new(peer, "", attachments=[fake.attachment("sticker", peer)]))
    assert fake.wait_for_sent(peer, before + 1)[-1].message == NON_TEXT_REPLY


@pytest.mark.parametrize("failed", [1, 2, 3])
def test_long_poll_recovers_from_failed(fake, lp_server, failed):
    fake.wait_for_calls("groups.getLongPollServer", 1)
    servers_before = len(fake.calls_of("groups.getLongPollServer"))
    fake.fail_longpoll(failed)
    if failed in (2, 3):  # a new key (and for 3 a new ts) from groups.getLongPollServer
        fake.wait_for_calls("groups.getLongPollServer", servers_before + 1)
    else:
        time.sleep(0.5)
    peer = new_peer()
    assert _lp_say(fake, lp_server, peer, "здравствуйте", 1)
    health = requests.get(f"{lp_server.url}/webhooks/vk/", timeout=10).json()
    assert health["mode"] == "longpoll" and health["long_poll_running"] is True


def test_long_poll_repeated_event_is_answered_once(fake, lp_server):
    peer = new_peer()
    event = fake.message_new(peer, "по какому номеру звонить на горячую линию")
    fake.push_event(event)
    fake.push_event(event)
    events = wait_for_turn(lp_server, f"vk_{peer}", 1)
    expected = len(last_turn_bots(events))
    assert len(fake.wait_for_sent(peer, expected, settle=2.0)) == expected
    assert user_turns(tracker_events(lp_server, f"vk_{peer}")) == 1
    logs = lp_server.logs()
    assert TOKEN not in logs and fake.lp_key not in logs
