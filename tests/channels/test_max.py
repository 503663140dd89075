"""The MAX channel against a local fake of the MAX Bot API (fakes/max.py),
driven by the project's own client (connectors/max/client.py), with the real
Rasa server: the webhook as MAX calls it, the long-polling process, the
durable inbox across a restart, and the operator handoff's delivery."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from connectors.inbox import Inbox
from connectors.max.channel import MaxInput, sender_id_for, update_key
from connectors.max.client import MaxApiError, MaxClient
from connectors.max.config import MaxSettings
from connectors.max.keyboard import build_keyboard
from connectors.telegram import texts
from connectors.telegram.formatting import PayloadStore
from hotline.ops import local_servers
from hotline.ops.local_servers import LocalServers
from tests.channels.conversation_script import SAME_ANSWERS_SCRIPT, bot_texts, bot_turns
from fakes.max import (TOKEN, Call, FakeMax, attachment_update, bot_started_update, callback_update,
                             edited_update, new_user, text_update)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "max-webhook-secret_0123456789"
HANDOFF_SECRET = "handoff-secret-for-max-tests-0123456789"


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def settings(fake: FakeMax, **overrides: Any) -> MaxSettings:
    values = {"token": TOKEN, "api_url": fake.base_url, "webhook_secret": SECRET, "retry_base_delay": 0.05}
    values.update(overrides)
    return MaxSettings(**values)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeMax]:
    with FakeMax() as api:
        yield api


# ---------------------------------------------------------------- the client


def test_token_goes_in_the_authorization_header(fake):
    async def go() -> None:
        client = MaxClient(settings(fake))
        try:
            assert (await client.get_me())["is_bot"] is True
        finally:
            await client.close()
    mark = fake.mark()
    run(go())
    (call,) = fake.calls[mark:]
    assert call.authorized and "access_token" not in call.query


def test_429_and_5xx_are_retried_with_backoff_and_sent_once(fake):
    user = new_user()
    fake.fail_next("/messages", 429)
    fake.fail_next("/messages", 503)

    async def go() -> None:
        client = MaxClient(settings(fake, retry_base_delay=0.2))
        try:
            await client.send_message("проверка", user_id=user)
        finally:
            await client.close()
    run(go())
    attempts = [c for c in fake.calls if c.path == "/messages" and c.user_id == user]
    assert [c.status for c in attempts] == [429, 503, 200]
    assert attempts[1].at - attempts[0].at >= 0.9, "429 waits out Retry-After"
    assert attempts[2].at - attempts[1].at >= 0.15, "5xx waits the backoff"


def test_other_errors_are_not_retried_and_carry_no_token(fake):
    async def go() -> None:
        client = MaxClient(settings(fake, token="wrong-" + TOKEN))
        try:
            await client.send_message("проверка", user_id=new_user())
        finally:
            await client.close()
    with pytest.raises(MaxApiError) as raised:
        run(go())
    assert raised.value.status == 401 and TOKEN not in str(raised.value)


def test_keyboard_uses_callback_buttons_and_short_keys():
    store = PayloadStore()
    long_payload = '/inform{"application_number": "' + "7" * 80 + '"}'
    keyboard = build_keyboard([{"title": "Статус заявления", "payload": "/check_application_status"},
                               {"title": "Длинная", "payload": long_payload},
                               {"title": "Сайт", "payload": "https://www.gosuslugi.ru"}], store)
    rows = keyboard["payload"]["buttons"]
    assert keyboard["type"] == "inline_keyboard" and all(len(row) == 1 for row in rows)
    assert rows[0][0] == {"type": "callback", "text": "Статус заявления", "payload": "/check_application_status"}
    assert len(rows[1][0]["payload"]) < 64 and store.resolve(rows[1][0]["payload"]) == long_payload
    assert rows[2][0]["type"] == "link"


def test_update_keys_identify_redeliveries():
    user = new_user()
    message = text_update(user, "здравствуйте")
    assert update_key(message) == update_key(dict(message))
    assert update_key(message) != update_key(text_update(user, "здравствуйте"))
    press = callback_update(user, "/greet")
    assert update_key(press).startswith("cb:")


def test_no_token_means_the_channel_is_off(monkeypatch):
    for name in ("MAX_TOKEN", "MAX_WEBHOOK_SECRET", "MAX_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    channel = MaxInput.from_credentials(None)
    assert not channel.settings.enabled and channel.get_output_channel() is None
    assert channel.settings.secret == ""
    with pytest.raises(ValueError):
        MaxSettings.load({}, {"MAX_TOKEN": "t", "MAX_WEBHOOK_SECRET": "bad secret!"})


def test_an_update_accepted_by_a_killed_process_is_handled_after_restart(fake, tmp_path):
    """The first process stores the update (the webhook answered 200) and dies
    before handling it; the restarted one finds it and answers, once."""
    url = f"sqlite:///{tmp_path / 'inbox.db'}"
    user = new_user()
    update = text_update(user, "здравствуйте")
    seen: List[str] = []

    async def on_new_message(message) -> None:
        seen.append(message.sender_id)
        await message.output_channel.send_text_message(message.sender_id, "Ответ после перезапуска")

    async def first_life() -> None:
        dying = MaxInput(settings(fake))
        dying.inbox = Inbox("max", url=url, lease_seconds=0.5)
        # accepted and acknowledged, then the process is killed: no handling
        assert await dying.inbox._db(dying.inbox.store.accept, update_key(update), update) is True

    async def second_life() -> None:
        restarted = MaxInput(settings(fake))
        restarted.inbox = Inbox("max", handler=lambda u: restarted.handle_update(u, on_new_message), url=url,
                                lease_seconds=0.5, sweep_seconds=0.1)
        await asyncio.sleep(0.6)  # the dead process's lease runs out
        restarted.inbox.start()
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.1)
        # MAX re-sends it too: the inbox knows it
        assert await restarted.inbox.submit(update_key(update), update) is False
        await asyncio.sleep(0.3)
        await restarted.shutdown()

    run(first_life())
    run(second_life())
    assert seen == [sender_id_for(user)]
    assert [c.text for c in fake.sent_to(user)] == ["Ответ после перезапуска"]


# ------------------------------------------------------ the real Rasa server


@pytest.fixture(scope="module")
def rasa(trained_model: Path, fake: FakeMax, tmp_path_factory) -> Iterator[LocalServers]:
    workdir = tmp_path_factory.mktemp("max")
    credentials = workdir / "credentials.yml"
    credentials.write_text("rest:\nconnectors.max.channel.MaxInput:\nhandoff.rasa_channel.HandoffInput:\n",
                           encoding="utf-8")
    # The channel subscribes its webhook at start-up: the URL (Rasa's port)
    # must be known before LocalServers picks the port.
    port = local_servers.free_port()
    original, ports = local_servers.free_port, iter([port])
    env = {"MAX_TOKEN": TOKEN, "MAX_API_URL": fake.base_url, "MAX_WEBHOOK_SECRET": SECRET,
           "MAX_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhooks/max/webhook", "MAX_RETRY_BASE_DELAY": "0.2",
           "HANDOFF_SECRET": HANDOFF_SECRET, "DATABASE_URL": f"sqlite:///{workdir / 'hotline.db'}"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_servers, "free_port", lambda: next(ports, None) or original())
        servers = LocalServers(workdir, trained_model, extra_env=env, credentials=credentials)
    try:
        fake.wait_for("POST", "/subscriptions", timeout=30)
        yield servers
    finally:
        servers.stop()
        fake.subscriptions.clear()


def tracker(rasa: LocalServers, sender: str) -> Dict[str, Any]:
    return rasa.tracker(sender)


def turn(rasa: LocalServers, fake: FakeMax, user: int, update: Dict[str, Any], timeout: float = 60) -> List[Call]:
    """Deliver an update like MAX; wait until Rasa's turn is over; the messages it sent."""
    sender = sender_id_for(user)
    before = sum(e["event"] == "user" for e in tracker(rasa, sender)["events"])
    mark = fake.mark()
    assert fake.deliver(update) == 200
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = tracker(rasa, sender)
        if (sum(e["event"] == "user" for e in state["events"]) > before
                and state.get("latest_action_name") == "action_listen"):
            return fake.sent_to(user, since=mark)
        time.sleep(0.05)
    raise AssertionError(f"Rasa did not finish the turn of MAX user {user}")


def rest_turn(rasa: LocalServers, sender: str, text: str) -> List[Dict[str, Any]]:
    return rasa.send(sender, text)


@pytest.mark.slow
class TestWebhook:
    def test_start_up_subscribes_with_the_secret(self, rasa, fake):
        (subscription,) = fake.subscriptions
        assert subscription["url"] == f"{rasa.url}/webhooks/max/webhook"
        assert subscription["secret"] == SECRET
        assert set(subscription["update_types"]) == {"message_created", "message_callback", "bot_started",
                                                     "message_edited"}

    def test_same_answers_and_buttons_as_rest(self, rasa, fake):
        rest_sender, user = f"rest-max-{time.time_ns()}", new_user()
        delivered: List[List[str]] = []
        for kind, value in SAME_ANSWERS_SCRIPT:
            rest = rest_turn(rasa, rest_sender, value)
            update = text_update(user, value) if kind == "text" else callback_update(user, value)
            mark = fake.mark()
            sent = turn(rasa, fake, user, update)
            delivered.append([c.text for c in sent])
            # the same buttons, as MAX callback buttons carrying the payloads
            assert [b["payload"] for c in sent for b in c.buttons] == \
                   [b["payload"] for r in rest for b in r.get("buttons", [])]
            if kind == "button":
                (answer,) = fake.calls_of("POST", "/answers", since=mark)
                assert answer.query["callback_id"] == update["callback"]["callback_id"]
        rest_turns = bot_turns(tracker(rasa, rest_sender)["events"])
        max_events = tracker(rasa, sender_id_for(user))["events"]
        assert bot_turns(max_events) == rest_turns and len(rest_turns) == len(SAME_ANSWERS_SCRIPT)
        assert bot_texts(max_events) == delivered
        assert all(e.get("input_channel") == "max" for e in max_events if e["event"] == "user")

    def test_typing_is_shown_in_the_chat(self, rasa, fake):
        user = new_user()
        update = text_update(user, "здравствуйте")
        mark = fake.mark()
        turn(rasa, fake, user, update)
        chat = update["message"]["recipient"]["chat_id"]
        typing = fake.calls_of("POST", f"/chats/{chat}/actions", since=mark)
        assert typing and typing[0].body == {"action": "typing_on"}

    def test_forged_or_missing_secret_is_403_and_not_answered(self, rasa, fake):
        user = new_user()
        marker = "поддельное " + str(time.time_ns())
        mark = fake.mark()
        assert fake.deliver(text_update(user, marker), secret="wrong-secret") == 403
        assert fake.deliver(text_update(user, marker), secret=SECRET[:-1]) == 403
        reply = requests.post(f"{rasa.url}/webhooks/max/webhook", json=text_update(user, marker), timeout=10)
        assert reply.status_code == 403
        time.sleep(1.0)
        assert fake.sent_to(user, since=mark) == []
        logs = rasa.logs()
        assert "refused a call" in logs and marker not in logs and "wrong-secret" not in logs

    def test_duplicate_update_is_answered_once(self, rasa, fake):
        user = new_user()
        update = text_update(user, "по какому номеру звонить на горячую линию")
        first = turn(rasa, fake, user, update)
        assert first
        mark = fake.mark()
        assert fake.deliver(update) == 200 and fake.deliver(dict(update)) == 200
        time.sleep(1.5)
        assert fake.sent_to(user, since=mark) == []
        assert sum(e["event"] == "user" for e in tracker(rasa, sender_id_for(user))["events"]) == 1

    def test_bot_started_greets_and_a_deep_link_starts_the_status_check(self, rasa, fake):
        user = new_user()
        greeting = turn(rasa, fake, user, bot_started_update(user))
        assert "/check_application_status" in [b["payload"] for c in greeting for b in c.buttons]
        # the status check, started from a link «?start=status», goes on as over REST
        user, rest_sender = new_user(), f"rest-max-status-{time.time_ns()}"
        steps = [("start", "/check_application_status"), ("text", "1234567890"), ("text", "Иванов"),
                 ("text", "01.01.1950")]
        for kind, value in steps:
            rest_turn(rasa, rest_sender, value)
            update = bot_started_update(user, "status") if kind == "start" else text_update(user, value)
            sent = turn(rasa, fake, user, update)
            assert sent
        said = " ".join(c.text for c in fake.sent_to(user))
        assert "номер заявления" in said and "фамилию" in said and "дату рождения" in said
        assert bot_turns(tracker(rasa, sender_id_for(user))["events"]) == \
            bot_turns(tracker(rasa, rest_sender)["events"])

    @pytest.mark.parametrize("kind, expected", [("image", texts.NOT_TEXT), ("sticker", texts.NOT_TEXT),
                                                ("file", texts.NOT_TEXT), ("audio", texts.VOICE),
                                                ("video", texts.VOICE), ("location", texts.LOCATION),
                                                ("contact", texts.CONTACT)])
    def test_attachments_get_a_polite_russian_answer(self, rasa, fake, kind, expected):
        user = new_user()
        mark = fake.mark()
        assert fake.deliver(attachment_update(user, kind)) == 200
        (reply,) = fake.wait_for("POST", "/messages", user_id=user, since=mark, settle=0.5)
        assert reply.text == expected

    def test_an_edited_message_gets_a_note(self, rasa, fake):
        user = new_user()
        mark = fake.mark()
        assert fake.deliver(edited_update(user, "исправленный вопрос")) == 200
        (reply,) = fake.wait_for("POST", "/messages", user_id=user, since=mark, settle=0.5)
        assert reply.text == texts.EDITED

    def test_long_reply_is_split_at_4000(self, rasa, fake):
        paragraph = ("Очень длинный ответ о государственных услугах. " * 30).strip()
        text = "\n\n".join([paragraph] * 6)
        user = new_user()
        mark = fake.mark()
        reply = requests.post(f"{rasa.url}/webhooks/handoff/deliver", headers={"X-Handoff-Secret": HANDOFF_SECRET},
                              json={"channel": "max", "conversation_id": sender_id_for(user), "text": text,
                                    "buttons": [{"title": "Вернуться к боту", "payload": "/greet"}]}, timeout=30)
        assert reply.status_code == 200, reply.text
        sent = fake.sent_to(user, since=mark)
        assert len(sent) == 3 and all(len(c.text) <= 4000 for c in sent)
        assert [bool(c.buttons) for c in sent] == [False, False, True]
        assert " ".join(c.text for c in sent).split() == text.split()

    def test_operator_handoff_through_max(self, rasa, fake):
        user = new_user()
        sent = turn(rasa, fake, user, callback_update(user, "/request_operator"))
        assert "оператор" in " ".join(c.text for c in sent).lower()
        mark = fake.mark()
        reply = requests.post(f"{rasa.url}/webhooks/handoff/deliver", headers={"X-Handoff-Secret": HANDOFF_SECRET},
                              json={"channel": "max", "conversation_id": sender_id_for(user),
                                    "text": "Здравствуйте, меня зовут Анна, я оператор. Чем помочь?"}, timeout=30)
        assert reply.status_code == 200 and reply.json()["how"] == "pushed"
        (message,) = fake.sent_to(user, since=mark)
        assert message.text.startswith("Здравствуйте, меня зовут Анна")

    def test_logs_carry_no_token_secret_or_message_text(self, rasa, fake):
        user = new_user()
        turn(rasa, fake, user, text_update(user, "Меня зовут Тестов Тест Тестович, нужен загранпаспорт"))
        logs = rasa.logs()
        for secret in (TOKEN, SECRET, "Тестов Тест", str(user)):
            assert secret not in logs
        assert "Traceback" not in logs


# ---------------------------------------------------------- long polling


@pytest.fixture
def poller(rasa, fake, tmp_path):
    started: List[subprocess.Popen] = []
    marker_file = tmp_path / "max.marker"

    def _start() -> subprocess.Popen:
        env = {**os.environ, "MAX_TOKEN": TOKEN, "MAX_API_URL": fake.base_url, "MAX_WEBHOOK_SECRET": SECRET,
               "MAX_FORWARD_URL": f"{rasa.url}/webhooks/max/webhook", "MAX_MARKER_FILE": str(marker_file),
               "PYTHONUNBUFFERED": "1"}
        log_path = tmp_path / f"poller{len(started)}.log"
        proc = subprocess.Popen([sys.executable, "-m", "connectors.max.polling", "--timeout", "2"], cwd=ROOT,
                                env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
        proc.log_path = log_path
        started.append(proc)
        return proc

    saved = list(fake.subscriptions)
    fake.subscriptions.clear()  # long polling works only without a webhook subscription
    _start.marker_file = marker_file
    yield _start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    fake.subscriptions[:] = saved


@pytest.mark.slow
class TestPolling:
    def test_polling_answers_and_resumes_from_the_saved_marker(self, rasa, fake, poller):
        user = new_user()
        mark = fake.mark()
        first = poller()
        fake.push_update(text_update(user, "здравствуйте"))
        (greeting,) = fake.wait_for("POST", "/messages", user_id=user, since=mark, timeout=60)
        assert greeting.buttons
        deadline = time.monotonic() + 10
        while not poller.marker_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        first.send_signal(signal.SIGTERM)
        assert first.wait(15) == 0
        saved = int(poller.marker_file.read_text())
        # updates that arrive while the poller is down are not lost
        fake.push_update(callback_update(user, "/ask_registration_help"))
        second = poller()
        answered = fake.wait_for("POST", "/messages", user_id=user, since=mark, count=2, timeout=60)
        assert "регистрац" in answered[1].text.lower()
        polls = fake.calls_of("GET", "/updates", since=mark)
        assert any(c.query.get("marker") == str(saved) for c in polls[1:])
        assert [e["text"] for e in tracker(rasa, sender_id_for(user))["events"] if e["event"] == "user"] == \
            ["здравствуйте", "/ask_registration_help"]
        second.send_signal(signal.SIGTERM)
        assert second.wait(15) == 0
        for proc in (first, second):
            log = proc.log_path.read_text()
            assert TOKEN not in log and SECRET not in log and "здравствуйте" not in log
