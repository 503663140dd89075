"""The Telegram channel: unit tests, then the real Rasa server with the
channel against a local Bot API server (fakes/telegram.py),
in webhook mode and in long-polling mode.

One Rasa server for the whole module; chats are distinct per test.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from connectors.messenger_config import mask_secrets
from connectors.telegram import texts
from connectors.telegram.channel import TelegramInput, chat_id_from, send_text_to, sender_id_for
from connectors.telegram.client import TelegramClient
from connectors.telegram.config import TelegramSettings
from connectors.telegram.formatting import (MAX_CALLBACK_DATA_BYTES, PayloadStore, build_keyboard, payload_key,
                                            split_text, utf16_len)
from hotline.ops import local_servers
from hotline.ops.local_servers import LocalServers
from tests.channels.conversation_script import SAME_ANSWERS_SCRIPT, bot_texts, bot_turns
from fakes.telegram import (TOKEN, Call, FakeTelegramAPI, callback_update, contact_update,
                                          document_update, edited_update, group_text_update, location_update,
                                          photo_update, sticker_update, text_update, voice_update)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-webhook-secret_0123456789"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LONG_PAYLOAD = "где найти ответы на часто задаваемые вопросы"  # 82 bytes in UTF-8, a button of the domain
_chats = itertools.count(5_000_001)


def new_chat() -> int:
    return next(_chats)


def run(coroutine: Any) -> Any:
    return asyncio.new_event_loop().run_until_complete(coroutine)


# ---------------------------------------------------------------- unit tests

class TestSplitting:
    def test_short_text_is_one_message(self):
        assert split_text("  Здравствуйте!\nЧем помочь?  ") == ["Здравствуйте!\nЧем помочь?"]
        assert split_text("   ") == []

    def test_paragraphs_stay_whole(self):
        paragraphs = [(f"Абзац {i}. " + "Текст абзаца о госуслугах. " * 60).strip() for i in range(12)]
        chunks = split_text("\n\n".join(paragraphs))
        assert len(chunks) > 1 and all(utf16_len(c) <= 4096 for c in chunks)
        # every break falls between paragraphs: each chunk is whole paragraphs
        for chunk in chunks:
            assert all(p in paragraphs for p in chunk.split("\n\n"))
        assert "\n\n".join(chunks) == "\n\n".join(paragraphs)

    def test_lines_then_words(self):
        lines = ["строка " * 50 + str(i) for i in range(40)]
        chunks = split_text("\n".join(lines), limit=1000)
        assert all(len(c) <= 1000 for c in chunks)
        assert all(line.strip() in lines for c in chunks for line in c.split("\n"))
        words = " ".join(f"слово{i}" for i in range(3000))
        chunks = split_text(words)
        assert all(utf16_len(c) <= 4096 for c in chunks)
        assert " ".join(chunks) == words  # no word is cut, nothing lost

    def test_sentences_before_words(self):
        text = " ".join(f"Предложение номер {i} про запись в МФЦ." for i in range(400))
        chunks = split_text(text, limit=500)
        assert all(c.endswith(".") for c in chunks) and " ".join(chunks) == text

    def test_unbreakable_word_is_cut_and_emoji_count_twice(self):
        assert [len(c) for c in split_text("я" * 9000)] == [4096, 4096, 808]
        emoji = split_text("🙂" * 3000)
        assert [utf16_len(c) for c in emoji] == [4096, 1904] and "".join(emoji) == "🙂" * 3000


class TestKeyboards:
    def test_short_payloads_travel_in_callback_data(self):
        markup = build_keyboard([{"title": "Об услугах", "payload": "/ask_service_info"},
                                 {"title": "Портал", "payload": "https://www.gosuslugi.ru"}], PayloadStore())
        rows = markup.to_python()["inline_keyboard"]
        assert rows == [[{"text": "Об услугах", "callback_data": "/ask_service_info"}],
                        [{"text": "Портал", "url": "https://www.gosuslugi.ru"}]]

    def test_long_payload_is_kept_server_side(self):
        store = PayloadStore()
        data = build_keyboard([{"title": "Частые вопросы", "payload": LONG_PAYLOAD}], store
                              ).to_python()["inline_keyboard"][0][0]["callback_data"]
        assert len(LONG_PAYLOAD.encode()) > MAX_CALLBACK_DATA_BYTES >= len(data.encode())
        assert data == payload_key(LONG_PAYLOAD) and store.resolve(data) == LONG_PAYLOAD
        assert store.resolve("/greet") == "/greet" and store.resolve("~unknown") is None

    def test_store_is_bounded(self):
        store = PayloadStore(capacity=3)
        keys = [store.callback_data("очень длинная полезная нагрузка кнопки " * 2 + str(i)) for i in range(5)]
        assert len(store) == 3 and store.resolve(keys[0]) is None and store.resolve(keys[-1])


class TestSettingsAndPrivacy:
    def test_environment_and_derived_secret(self):
        settings = TelegramSettings.load(env={"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": "http://x"})
        assert settings.enabled and settings.api_url == "http://x"
        assert re.fullmatch(r"[0-9a-f]{64}", settings.secret) and TOKEN not in settings.secret
        assert TelegramSettings.load(env={"TELEGRAM_TOKEN": TOKEN}).secret == settings.secret
        explicit = TelegramSettings.load(env={"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET})
        assert explicit.secret == SECRET
        assert not TelegramSettings.load(env={}).enabled
        with pytest.raises(ValueError):
            TelegramSettings.load(env={"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "пробел и кириллица"})

    def test_credentials_override_options(self):
        settings = TelegramSettings.load({"private_only": "false", "max_send_attempts": "2"}, env={})
        assert settings.private_only is False and settings.max_send_attempts == 2

    def test_tokens_are_masked(self):
        url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
        assert TOKEN not in mask_secrets(url) and "***" in mask_secrets(url)

    def test_conversation_id_depends_on_the_chat_only(self):
        assert sender_id_for(-1001234) == "telegram_-1001234"
        assert chat_id_from("telegram_-1001234") == -1001234 == chat_id_from(-1001234)


class TestCommandsAndPayloads:
    def _channel_and_app(self):
        responses = {"utter_topics": [{"text": "Выберите тему",
                                       "buttons": [{"title": "Частые вопросы", "payload": LONG_PAYLOAD}]}]}
        domain = SimpleNamespace(intents=["greet", "inform", "ask_service_info"], responses=responses)
        return TelegramInput(TelegramSettings(token=TOKEN)), SimpleNamespace(ctx=SimpleNamespace(
            agent=SimpleNamespace(domain=domain)))

    def test_commands(self):
        channel, app = self._channel_and_app()
        assert channel._command_to_rasa("/start", app) == "/greet"
        assert channel._command_to_rasa("/start@gosuslugi_hotline_bot deeplink", app) == "/greet"
        assert channel._command_to_rasa("/ask_service_info", app) == "/ask_service_info"
        assert channel._command_to_rasa('/inform{"service": "passport"}', app) == '/inform{"service": "passport"}'
        assert channel._command_to_rasa("/загранпаспорт", app) == "загранпаспорт"
        assert channel._command_to_rasa("/unknown_intent", app) == "unknown_intent"
        assert channel._command_to_rasa("привет", app) == "привет"

    def test_a_domain_button_key_is_found_after_a_restart(self):
        channel, app = self._channel_and_app()  # a fresh channel: nothing in its payload store
        assert channel._resolve_payload(payload_key(LONG_PAYLOAD), app) == LONG_PAYLOAD
        assert channel._resolve_payload(payload_key("кнопка, которой нет в домене"), app) is None


class TestClientAgainstTheFake:
    """aiogram through the project's client, against the fake Bot API alone."""

    @pytest.fixture()
    def api(self):
        with FakeTelegramAPI() as api:
            yield api

    def test_flood_control_is_waited_out(self, api):
        client = TelegramClient(TelegramSettings(token=TOKEN, api_url=api.base_url))
        api.fail_next("sendMessage", retry_after=1)
        started = time.perf_counter()
        run(self._send_and_close(client, 77, "после паузы"))
        assert time.perf_counter() - started >= 1.0
        failed, ok = api.calls_of("sendMessage", 77, ok_only=False)
        assert (failed.status, ok.status, ok.params["text"]) == (429, 200, "после паузы")

    def test_attempts_are_bounded(self, api):
        from aiogram.utils.exceptions import RetryAfter
        client = TelegramClient(TelegramSettings(token=TOKEN, api_url=api.base_url, max_send_attempts=2))
        api.fail_next("sendMessage", retry_after=1, times=5)
        with pytest.raises(RetryAfter):
            run(self._send_and_close(client, 78, "не дойдёт"))
        assert len(api.calls_of("sendMessage", 78, ok_only=False)) == 2

    def test_a_reply_over_telegrams_limit_arrives_whole_in_pieces(self, api):
        # The fake refuses messages over 4096 characters as Telegram does, so
        # an unsplit reply would show up here as a failed call.
        settings = TelegramSettings(token=TOKEN, api_url=api.base_url)
        text = "я" * 4097
        sent = run(send_text_to(79, text, settings=settings))
        calls = api.calls_of("sendMessage", 79, ok_only=False)
        assert [c.status for c in calls] == [200] * sent and sent == 2
        assert "".join(c.params["text"] for c in calls) == text

    def test_send_text_to_without_a_request(self, api):
        settings = TelegramSettings(token=TOKEN, api_url=api.base_url)
        sent = run(send_text_to("telegram_80", "Оператор подключился к диалогу.\n\n" + "текст " * 1000,
                                [{"title": "Спасибо", "payload": "/thank"}], settings=settings))
        calls = api.calls_of("sendMessage", 80)
        # the short paragraph alone, then the long one in two; the keyboard with the last
        assert sent == len(calls) == 3 and calls[0].params["text"] == "Оператор подключился к диалогу."
        assert "reply_markup" in calls[-1].params and all("reply_markup" not in c.params for c in calls[:-1])

    def test_a_blocked_bot_is_not_an_error(self, api):
        api.blocked_chats.add(81)
        settings = TelegramSettings(token=TOKEN, api_url=api.base_url)
        assert run(send_text_to(81, "ответ", settings=settings)) == 0
        assert [c.status for c in api.calls_of("sendMessage", 81, ok_only=False)] == [403]

    def test_debug_logs_carry_no_text_or_token(self, api, caplog):
        """The channel in process, everything at DEBUG (as with `rasa run --debug`)."""
        caplog.set_level(logging.DEBUG)
        channel = TelegramInput(TelegramSettings(token=TOKEN, api_url=api.base_url))

        async def on_new_message(message) -> None:
            await message.output_channel.send_text_message(message.sender_id, "Ответ на: " + message.text)

        async def conversation() -> None:
            await channel.handle_update(text_update(82, "Моя фамилия Секретов"), on_new_message)
            await channel.handle_update(photo_update(82), on_new_message)
            await channel.shutdown()

        run(conversation())
        assert api.texts_to(82) == ["Ответ на: Моя фамилия Секретов", texts.NOT_TEXT]
        assert "Telegram message in chat 82" in caplog.text  # the chat id, at DEBUG only
        for secret in ("Секретов", "Ответ на", TOKEN, TOKEN.split(":")[1], channel.settings.secret):
            assert secret not in caplog.text

    @staticmethod
    async def _send_and_close(client: TelegramClient, chat_id: int, text: str) -> None:
        try:
            await client.send_message(chat_id, text)
        finally:
            await client.close()


# ------------------------------------------------------ the real Rasa server

@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as api:
        yield api


@pytest.fixture(scope="module")
def rasa(trained_model: Path, fake: FakeTelegramAPI, tmp_path_factory) -> Iterator[LocalServers]:
    workdir = tmp_path_factory.mktemp("telegram")
    credentials = workdir / "credentials.yml"
    credentials.write_text("rest:\nconnectors.telegram.channel.TelegramInput:\n", encoding="utf-8")
    # The channel registers its webhook at start-up, so its URL (Rasa's port)
    # must be known before LocalServers picks the port.
    port = local_servers.free_port()
    original, ports = local_servers.free_port, iter([port])
    env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.base_url, "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhooks/telegram/webhook"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_servers, "free_port", lambda: next(ports, None) or original())
        servers = LocalServers(workdir, trained_model, extra_env=env, credentials=credentials)
    try:
        fake.wait_for("setWebhook", timeout=30)
        yield servers
    finally:
        servers.stop()


def tracker(rasa: LocalServers, sender: str) -> Dict[str, Any]:
    reply = requests.get(f"{rasa.url}/conversations/{sender}/tracker", auth=rasa.auth, timeout=30)
    reply.raise_for_status()
    return reply.json()


def user_events(rasa: LocalServers, sender: str) -> List[Dict[str, Any]]:
    return [e for e in tracker(rasa, sender)["events"] if e["event"] == "user"]


def turn(rasa: LocalServers, fake: FakeTelegramAPI, chat_id: int, update: Dict[str, Any],
         timeout: float = 30) -> List[Call]:
    """Deliver an update that reaches Rasa; wait until Rasa's turn is over; its sendMessage calls."""
    sender = sender_id_for(chat_id)
    before = len(user_events(rasa, sender))
    mark = fake.mark()
    assert fake.deliver(update) == 200
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = tracker(rasa, sender)
        if (sum(e["event"] == "user" for e in state["events"]) > before
                and state.get("latest_action_name") == "action_listen"):
            return fake.calls_of("sendMessage", chat_id, since=mark)
        time.sleep(0.05)
    raise AssertionError(f"Rasa did not finish the turn of chat {chat_id}")


def assert_quiet(fake: FakeTelegramAPI, chat_id: int, since: int, seconds: float = 1.0) -> None:
    time.sleep(seconds)
    assert fake.calls_of("sendMessage", chat_id, since=since, ok_only=False) == []


def keyboard(call: Call) -> List[Dict[str, Any]]:
    return [b for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


@pytest.mark.slow
class TestWebhook:
    def test_start_up_registers_the_webhook_with_the_secret(self, rasa, fake):
        (call,) = fake.calls_of("setWebhook")[-1:]
        assert call.params["url"] == f"{rasa.url}/webhooks/telegram/webhook"
        assert call.params["secret_token"] == SECRET
        assert set(call.params["allowed_updates"]) == {"message", "edited_message", "callback_query"}

    def test_greeting_with_inline_keyboard_and_typing(self, rasa, fake):
        chat = new_chat()
        mark = fake.mark()
        (reply,) = turn(rasa, fake, chat, text_update(chat, "здравствуйте"))
        assert "Госуслуг" in reply.params["text"] and CYRILLIC.search(reply.params["text"])
        assert "/check_application_status" in [b.get("callback_data") for b in keyboard(reply)]
        typing = fake.calls_of("sendChatAction", chat, since=mark)
        assert typing and typing[0].params["action"] == "typing" and typing[0].at <= reply.at
        # one getMe at start-up, not one per message
        assert len(fake.calls_of("getMe")) == 1

    def test_start_command_opens_the_greeting(self, rasa, fake):
        chat = new_chat()
        (reply,) = turn(rasa, fake, chat, text_update(chat, "/start"))
        assert keyboard(reply) and "Госуслуг" in reply.params["text"]
        assert user_events(rasa, sender_id_for(chat))[-1]["parse_data"]["intent"]["name"] == "greet"

    def test_button_press_is_acknowledged_and_answered(self, rasa, fake):
        chat = new_chat()
        (greeting,) = turn(rasa, fake, chat, text_update(chat, "привет"))
        press = callback_update(chat, greeting.result, "/ask_service_info")
        mark = fake.mark()
        replies = turn(rasa, fake, chat, press)
        assert replies and all(CYRILLIC.search(r.params["text"]) for r in replies)
        (ack,) = fake.calls_of("answerCallbackQuery", since=mark)
        assert ack.params["callback_query_id"] == press["callback_query"]["id"]
        assert ack.at <= replies[0].at
        edit = fake.wait_for("editMessageReplyMarkup", chat_id=chat, since=mark)[0]
        assert int(edit.params["message_id"]) == greeting.result["message_id"]
        assert "reply_markup" not in fake.messages[greeting.result["message_id"]]
        last = user_events(rasa, sender_id_for(chat))[-1]
        assert last["text"] == "/ask_service_info" and last["parse_data"]["intent"]["name"] == "ask_service_info"

    def test_long_payload_button_goes_through_a_short_key(self, rasa, fake):
        chat = new_chat()
        turn(rasa, fake, chat, text_update(chat, "ывапролдж фыва"))
        (topics,) = turn(rasa, fake, chat, text_update(chat, "ывапролдж фыва"))[-1:]
        button = next(b for b in keyboard(topics) if b["text"] == "Частые вопросы")
        assert button["callback_data"].startswith("~") and len(button["callback_data"].encode()) <= 64
        replies = turn(rasa, fake, chat, callback_update(chat, topics.result, button["callback_data"]))
        assert user_events(rasa, sender_id_for(chat))[-1]["text"] == LONG_PAYLOAD
        assert replies and CYRILLIC.search(replies[0].params["text"])

    def test_unknown_button_key_gets_a_polite_answer(self, rasa, fake):
        chat = new_chat()
        message = {"message_id": 1, "chat": {"id": chat, "type": "private"}, "date": 1, "text": "старое меню"}
        mark = fake.mark()
        assert fake.deliver(callback_update(chat, message, "~ThisKeyWasNeverIssued0")) == 200
        (reply,) = fake.wait_for("sendMessage", chat_id=chat, since=mark)
        assert reply.params["text"] == texts.STALE_BUTTON
        assert fake.calls_of("answerCallbackQuery", since=mark)

    def test_wrong_or_missing_secret_is_refused(self, rasa, fake):
        chat = new_chat()
        mark = fake.mark()
        update = text_update(chat, "ПОДДЕЛЬНЫЙ ЗАПРОС 4242")
        url = f"{rasa.url}/webhooks/telegram/webhook"
        assert fake.deliver(update, secret="not-the-secret") == 403
        assert requests.post(url, json=update, timeout=10).status_code == 403
        assert requests.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": ""},
                             timeout=10).status_code == 403
        assert_quiet(fake, chat, mark, seconds=0.5)
        logs = rasa.logs()
        assert "refused a call with a wrong secret token (403)" in logs
        assert "refused a call with a missing secret token (403)" in logs
        assert "ПОДДЕЛЬНЫЙ ЗАПРОС" not in logs and str(chat) not in logs

    def test_duplicate_update_is_answered_once(self, rasa, fake):
        chat = new_chat()
        update = text_update(chat, "здравствуйте")
        mark = fake.mark()
        assert [fake.deliver(update) for _ in range(3)] == [200, 200, 200]
        fake.wait_for("sendMessage", chat_id=chat, since=mark)
        assert_quiet(fake, chat, fake.mark(), seconds=1.0)
        assert len(fake.calls_of("sendMessage", chat, since=mark)) == 1
        assert len(user_events(rasa, sender_id_for(chat))) == 1

    @pytest.mark.parametrize("make, expected", [
        (photo_update, texts.NOT_TEXT),
        (sticker_update, texts.NOT_TEXT),
        (document_update, texts.NOT_TEXT),
        (voice_update, texts.VOICE),
        (location_update, texts.LOCATION),
        (contact_update, texts.CONTACT),
        (lambda chat: edited_update(chat, "исправленный вопрос"), texts.EDITED),
    ], ids=["photo", "sticker", "document", "voice", "location", "contact", "edited"])
    def test_other_content_gets_a_polite_russian_answer(self, rasa, fake, make, expected):
        chat = new_chat()
        mark = fake.mark()
        assert fake.deliver(make(chat)) == 200
        (reply,) = fake.wait_for("sendMessage", chat_id=chat, since=mark)
        assert reply.params["text"] == expected and CYRILLIC.search(expected)
        assert user_events(rasa, sender_id_for(chat)) == []  # nothing reached the dialogue

    def test_a_caption_is_answered_after_a_note(self, rasa, fake):
        chat = new_chat()
        replies = turn(rasa, fake, chat, photo_update(chat, caption="какие документы нужны для загранпаспорта"))
        assert replies[0].params["text"] == texts.CAPTION
        assert "загранпаспорт" in " ".join(r.params["text"] for r in replies[1:]).lower()

    def test_group_chats_are_ignored(self, rasa, fake):
        chat = -100_000_000_000 - new_chat()
        mark = fake.mark()
        assert fake.deliver(group_text_update(chat, "здравствуйте")) == 200
        assert_quiet(fake, chat, mark, seconds=0.5)

    def test_long_reply_is_split_cleanly(self, rasa, fake):
        chat = new_chat()
        paragraphs = [(f"Раздел {i}. " + "Подробное описание порядка получения услуги на портале. " * 25).strip()
                      for i in range(9)]
        long_text = "\n\n".join(paragraphs)
        assert len(long_text) > 2 * 4096
        mark = fake.mark()
        # A bot message sent through Rasa's API: also the path of out-of-band messages.
        reply = requests.post(
            f"{rasa.url}/conversations/{sender_id_for(chat)}/tracker/events",
            params={"output_channel": "telegram", "execute_side_effects": "true"},
            json=[{"event": "bot", "text": long_text}], auth=rasa.auth, timeout=30)
        assert reply.status_code == 200
        parts = fake.wait_for("sendMessage", count=3, chat_id=chat, since=mark)
        assert_quiet(fake, chat, fake.mark(), seconds=0.3)
        assert all(len(p.params["text"]) <= 4096 for p in parts)
        assert all(p.params["text"].startswith("Раздел") for p in parts)  # split between paragraphs
        assert "\n\n".join(p.params["text"] for p in parts) == long_text

    def test_trigger_intent_sends_to_telegram_without_an_incoming_message(self, rasa, fake):
        chat = new_chat()
        mark = fake.mark()
        reply = requests.post(f"{rasa.url}/conversations/{sender_id_for(chat)}/trigger_intent",
                              params={"output_channel": "telegram"}, json={"name": "greet"}, auth=rasa.auth,
                              timeout=30)
        assert reply.status_code == 200
        (greeting,) = fake.wait_for("sendMessage", chat_id=chat, since=mark)
        assert keyboard(greeting)

    def test_flood_control_retry_after_is_respected(self, rasa, fake):
        chat = new_chat()
        fake.fail_next("sendMessage", retry_after=2)
        mark = fake.mark()
        (reply,) = turn(rasa, fake, chat, text_update(chat, "здравствуйте"))
        (refused,) = [c for c in fake.calls_of("sendMessage", chat, since=mark, ok_only=False) if c.status == 429]
        assert reply.at - refused.at >= 2.0
        assert "Госуслуг" in reply.params["text"]

    def test_conversation_id_is_the_chat(self, rasa, fake):
        chat = new_chat()
        first = text_update(chat, "здравствуйте")
        second = text_update(chat, "по какому номеру звонить на горячую линию")
        second["message"]["from"]["id"] += 1  # another device or account, same chat
        turn(rasa, fake, chat, first)
        replies = turn(rasa, fake, chat, second)
        assert "800‑100‑200" in " ".join(r.params["text"] for r in replies)
        assert [e["text"] for e in user_events(rasa, sender_id_for(chat))] == [
            "здравствуйте", "по какому номеру звонить на горячую линию"]

    def test_same_answers_as_rest(self, rasa, fake):
        """Greeting, an FAQ, a button press, a service question: the same dialogue as over REST."""
        script = SAME_ANSWERS_SCRIPT
        rest_sender, chat = f"rest-same-{time.time_ns()}", new_chat()
        keyboard_message: Optional[Dict[str, Any]] = None
        delivered: List[List[str]] = []
        for kind, value in script:
            rasa.send(rest_sender, value)
            update = (text_update(chat, value) if kind == "text"
                      else callback_update(chat, keyboard_message, value))
            replies = turn(rasa, fake, chat, update)
            delivered.append([r.params["text"] for r in replies])
            keyboard_message = next((r.result for r in replies if keyboard(r)), keyboard_message)
        rest_turns = bot_turns(tracker(rasa, rest_sender)["events"])
        telegram_events = tracker(rasa, sender_id_for(chat))["events"]
        assert bot_turns(telegram_events) == rest_turns and len(rest_turns) == len(script)
        # and what Telegram received is what the dialogue said, word for word
        assert bot_texts(telegram_events) == delivered

    def test_logs_carry_no_token_secret_or_message_text(self, rasa, fake):
        chat = new_chat()
        turn(rasa, fake, chat, text_update(chat, "Меня зовут Тестов Тест Тестович, нужен загранпаспорт"))
        logs = rasa.logs()
        for secret in (TOKEN, TOKEN.split(":")[1], SECRET, "Тестов Тест", str(chat)):
            assert secret not in logs
        assert "Traceback" not in logs
        assert not [line for line in logs.splitlines() if " ERROR " in line]


# ---------------------------------------------------------- long polling

@pytest.fixture(scope="module")
def start_poller(rasa, fake, tmp_path_factory):
    started: List[subprocess.Popen] = []
    logdir = tmp_path_factory.mktemp("poller")

    def _start(secret: str = SECRET) -> subprocess.Popen:
        env = {**os.environ, "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.base_url,
               "TELEGRAM_WEBHOOK_SECRET": secret, "PYTHONUNBUFFERED": "1",
               "TELEGRAM_FORWARD_URL": f"{rasa.url}/webhooks/telegram/webhook"}
        log = open(logdir / f"poller{len(started)}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "connectors.telegram.polling", "--timeout", "5"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = logdir / f"poller{len(started)}.log"
        started.append(proc)
        return proc

    yield _start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(15)


@pytest.mark.slow
class TestPolling:
    def test_wrong_secret_stops_the_poller_and_loses_nothing(self, rasa, fake, start_poller):
        chat = new_chat()
        mark = fake.mark()
        fake.push_update(text_update(chat, "здравствуйте"))
        bad = start_poller(secret="wrong-secret")
        assert bad.wait(30) == 2
        assert "refused the secret token" in bad.log_path.read_text()
        assert fake.calls_of("sendMessage", chat, since=mark) == []
        good = start_poller()
        (greeting,) = fake.wait_for("sendMessage", chat_id=chat, since=mark, timeout=30)
        assert keyboard(greeting)
        assert fake.webhook["url"] == ""  # the poller removed the webhook first
        assert stop(good) == 0

    def test_updates_are_answered_through_the_same_handler(self, rasa, fake, start_poller):
        poller = start_poller()
        chat = new_chat()
        mark = fake.mark()
        greeting_update = text_update(chat, "здравствуйте")
        fake.push_update(greeting_update)
        (greeting,) = fake.wait_for("sendMessage", chat_id=chat, since=mark, timeout=30)
        fake.push_update(greeting_update)  # re-offered below the confirmed offset: not answered again
        fake.push_update(sticker_update(chat))
        stickers = fake.wait_for("sendMessage", chat_id=chat, since=mark, count=2, timeout=30)
        assert stickers[-1].params["text"] == texts.NOT_TEXT
        press = callback_update(chat, greeting.result, "/ask_registration_help")
        fake.push_update(press)
        answered = fake.wait_for("sendMessage", chat_id=chat, since=mark, count=3, timeout=30)
        assert fake.calls_of("answerCallbackQuery", since=mark)[0].params["callback_query_id"] == \
            press["callback_query"]["id"]
        assert CYRILLIC.search(answered[2].params["text"])
        assert [e["text"] for e in user_events(rasa, sender_id_for(chat))] == ["здравствуйте",
                                                                                "/ask_registration_help"]
        assert stop(poller) == 0
        # on exit the poller confirmed what it forwarded: the next offset is past the last update
        last_poll = fake.calls_of("getUpdates")[-1]
        assert int(last_poll.params["offset"]) == press["update_id"] + 1
        log = poller.log_path.read_text()
        assert TOKEN not in log and SECRET not in log and "здравствуйте" not in log and str(chat) not in log
