"""The project's Telegram channel for Rasa.

Registered in credentials.yml by module path::

    connectors.telegram.channel.TelegramInput:

Webhook: POST /webhooks/telegram/webhook. Telegram signs each call with the
X-Telegram-Bot-Api-Secret-Token header (the secret given to setWebhook); a
missing or wrong header gets 403 and its body is never read into a log. A
valid update is stored (connectors.inbox) and only then answered 200, and
handled in a background task, so a slow turn never makes Telegram re-send
it and an instance killed mid-turn loses nothing (another, or the restarted
one, finishes it); re-sent update_ids are ignored, across instances too.

Long polling (python -m connectors.telegram.polling) is a separate process
that forwards each update to this same webhook; see polling.py for why.

Privacy: log lines carry no token, no message text and no names; chat ids
appear at DEBUG only. The conversation id is "telegram_<chat id>", so a
conversation continues across restarts (the tracker store keeps it).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, Set

from aiogram.utils import exceptions as telegram_errors
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.conversation_ids import conversation_id, platform_chat_id
from connectors.chat_locks import ChatLocks
from connectors.inbox import Inbox
from connectors.messenger_output import SendThroughOne
from connectors.telegram import texts
from connectors.telegram.client import TelegramClient
from connectors.telegram.config import SECRET_HEADER, TelegramSettings, get_logger, same_secret
from connectors.telegram.formatting import PayloadStore, build_keyboard, split_text

logger = get_logger(__name__)

CHANNEL_NAME = "telegram"
SENDER_PREFIX = "telegram_"
TYPING_INTERVAL = 4.5  # Telegram shows "typing…" for 5 s or until the next message
# The citizen blocked the bot or the chat is gone: nothing to retry, nothing to fix.
UNREACHABLE = (telegram_errors.BotBlocked, telegram_errors.BotKicked, telegram_errors.UserDeactivated,
               telegram_errors.CantInitiateConversation, telegram_errors.CantTalkWithBots,
               telegram_errors.ChatNotFound)
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(@[A-Za-z0-9_]*bot)?(?=$|[\s{@])(.*)$", re.S | re.I)


def sender_id_for(chat_id: Any) -> str:
    """The Rasa conversation id of a Telegram chat: stable across restarts and updates."""
    return conversation_id(SENDER_PREFIX, chat_id)


def chat_id_from(recipient_id: Any) -> int:
    """Chat id from a conversation id ("telegram_123") or a bare chat id."""
    return platform_chat_id(SENDER_PREFIX, recipient_id)


class TypingIndicator:
    """Shows "typing…" while Rasa works: at once, then every 4.5 s, never
    straight after a message was sent (Telegram would show it over the answer)."""

    def __init__(self, client: TelegramClient, chat_id: int) -> None:
        self.client = client
        self.chat_id = chat_id
        self._task: Optional[asyncio.Task] = None
        self._inflight: Optional[asyncio.Future] = None
        self._last = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._inflight = asyncio.ensure_future(self._send_once())
            await asyncio.wait([self._inflight])
            self._last = time.monotonic()
            while True:
                delay = self._last + TYPING_INTERVAL - time.monotonic()
                if delay <= 0:
                    break
                await asyncio.sleep(delay)

    async def _send_once(self) -> None:
        try:
            await self.client.send_typing(self.chat_id)
        except Exception as error:  # only cosmetic
            logger.debug("sendChatAction failed: %s", type(error).__name__)

    async def before_send(self) -> None:
        """Let a typing request already on its way arrive before the answer."""
        if self._inflight is not None and not self._inflight.done():
            await asyncio.wait([self._inflight], timeout=1.0)

    def after_send(self) -> None:
        self._last = time.monotonic()

    async def stop(self) -> None:
        for task in (self._task, self._inflight):
            if task is not None and not task.done():
                task.cancel()
        for task in (self._task, self._inflight):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


class TelegramOutput(SendThroughOne, OutputChannel):
    """Sends Rasa's responses to a Telegram chat.

    Needs no incoming request: `TelegramOutput.from_env()` or `send_text_to()`
    work from anywhere (operator handoff, Rasa's trigger_intent API, …).
    The recipient is a conversation id ("telegram_<chat id>") or a chat id.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    def __init__(self, client: TelegramClient, payloads: Optional[PayloadStore] = None,
                 typing: Optional[TypingIndicator] = None) -> None:
        self.client = client
        self.payloads = payloads if payloads is not None else PayloadStore()
        self.typing = typing
        self.sent = 0

    @classmethod
    def from_env(cls, credentials: Optional[Dict[str, Any]] = None) -> "TelegramOutput":
        return cls(TelegramClient(TelegramSettings.load(credentials)))

    async def send(self, recipient_id: Any, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> List[Any]:
        """Text split into messages of at most 4,096 characters; the keyboard goes with the last."""
        chat_id = chat_id_from(recipient_id)
        markup = build_keyboard(buttons, self.payloads) if buttons else None
        chunks = split_text(str(text or ""))
        if not chunks:
            if markup is None:
                return []
            chunks = [texts.EMPTY_WITH_BUTTONS]
        results = []
        for index, chunk in enumerate(chunks):
            if self.typing is not None:
                await self.typing.before_send()
            try:
                results.append(await self.client.send_message(
                    chat_id, chunk, reply_markup=markup if index == len(chunks) - 1 else None))
            except UNREACHABLE as error:
                logger.info("Telegram chat unreachable (%s): message dropped", type(error).__name__)
                return results
            self.sent += 1
            if self.typing is not None:
                self.typing.after_send()
        return results


_ACTIVE: Optional["TelegramInput"] = None


class TelegramInput(InputChannel):
    """Rasa input channel for Telegram (webhook; polling forwards here)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "TelegramInput":
        return cls(TelegramSettings.load(credentials))

    def __init__(self, settings: Optional[TelegramSettings] = None) -> None:
        self.settings = settings or TelegramSettings.load()
        self.inbox = Inbox(CHANNEL_NAME)
        self._app: Any = None
        self.payloads = PayloadStore()
        self.locks = ChatLocks()
        self._client: Optional[TelegramClient] = None
        self._client_loop: Optional[asyncio.AbstractEventLoop] = None
        self._tasks: Set[asyncio.Task] = set()
        self._slots: Optional[asyncio.Semaphore] = None
        self._intents: Optional[frozenset] = None
        self._intents_domain: Any = None
        if not self.settings.enabled:
            logger.info("Telegram channel is off: TELEGRAM_TOKEN is not set")

    # --- plumbing ---

    @property
    def client(self) -> TelegramClient:
        if self._client is None:
            self._client = TelegramClient(self.settings)
            with contextlib.suppress(RuntimeError):
                self._client_loop = asyncio.get_running_loop()
        return self._client

    def get_output_channel(self) -> Optional[OutputChannel]:
        if not self.settings.enabled:
            return None
        return TelegramOutput(self.client, self.payloads)

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _masked_error(self, error: BaseException) -> str:
        return self.settings.mask(f"{type(error).__name__}: {error}")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        global _ACTIVE
        _ACTIVE = self
        telegram = Blueprint("hotline_telegram")
        self.inbox.handler = lambda update: self.handle_update(update, on_new_message, self._app)

        @telegram.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.enabled else "disabled"})

        @telegram.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        @telegram.listener("after_server_start")
        async def started(app: Any, _: Any) -> None:
            if self.settings.enabled:
                self._app = app
                # Updates a killed instance accepted but never finished.
                self.inbox.start()
                self._spawn(self._announce())

        @telegram.listener("before_server_stop")
        async def stopping(app: Any, _: Any) -> None:
            await self.shutdown()

        return telegram

    async def _announce(self) -> None:
        """Register the webhook (if TELEGRAM_WEBHOOK_URL is set) and check the token once."""
        if self.settings.webhook_url:
            try:
                await self.client.set_webhook(self.settings.webhook_url, self.settings.secret)
                logger.info("Telegram webhook registered: %s", self.settings.mask(self.settings.webhook_url))
            except Exception as error:
                logger.warning("Telegram setWebhook failed: %s", self._masked_error(error))
        try:
            me = await self.client.get_me()
            logger.info("Telegram channel ready for @%s", getattr(me, "username", "?"))
        except Exception as error:
            logger.warning("Telegram getMe failed (is TELEGRAM_TOKEN right?): %s", self._masked_error(error))

    async def shutdown(self, grace: float = 5.0) -> None:
        await self.inbox.stop(grace)
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace)
            for task in pending:
                task.cancel()
        if self._client is not None:
            await self._client.close()

    # --- webhook ---

    def _secret_ok(self, given: str) -> bool:
        return same_secret(given, self.settings.secret)

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if not self.settings.enabled:
            return response.json({"ok": False, "description": "Telegram channel is disabled"}, status=503)
        given = request.headers.get(SECRET_HEADER, "")
        if not self._secret_ok(given):
            logger.warning("Telegram webhook: refused a call with a %s secret token (403); body not logged",
                           "wrong" if given else "missing")
            return response.json({"ok": False, "description": "Forbidden"}, status=403)
        try:
            update = json.loads(request.body or b"")
            update_id = int(update["update_id"])
        except (ValueError, TypeError, KeyError):
            logger.warning("Telegram webhook: the body is not a Telegram update (400)")
            return response.json({"ok": False, "description": "Bad Request"}, status=400)
        if not isinstance(update, dict):
            return response.json({"ok": False, "description": "Bad Request"}, status=400)
        self._app = request.app
        accepted = await self.inbox.submit(str(update_id), update)
        if accepted is None:
            # Not stored, so not acknowledged: Telegram sends it again later.
            return response.json({"ok": False, "description": "Service Unavailable"}, status=503)
        if not accepted:
            logger.debug("Telegram update %d seen before: ignored", update_id)
        return response.json({"ok": True})

    # --- updates ---

    async def handle_update(self, update: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]],
                            app: Any = None) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.settings.max_concurrent_updates)
        kind = next((k for k in ("message", "edited_message", "callback_query") if k in update), None)
        started = time.perf_counter()
        async with self._slots:
            try:
                if kind == "message":
                    await self._on_message(update["message"], update["update_id"], on_new_message, app)
                elif kind == "edited_message":
                    await self._on_edited(update["edited_message"])
                elif kind == "callback_query":
                    await self._on_callback(update["callback_query"], update["update_id"], on_new_message, app)
                else:
                    logger.debug("Telegram update of another kind ignored: %s",
                                 ",".join(k for k in update if k != "update_id"))
            except Exception as error:
                logger.error("Telegram update (%s) failed: %s", kind, self._masked_error(error))
        logger.debug("Telegram update %s (%s) handled in %.0f ms", update.get("update_id"), kind,
                     (time.perf_counter() - started) * 1000)

    def _chat_accepted(self, chat: Dict[str, Any]) -> bool:
        if chat.get("id") is None:
            return False
        if self.settings.private_only and chat.get("type", "private") != "private":
            logger.debug("Telegram %s chat ignored (private chats only)", chat.get("type"))
            return False
        return True

    async def _on_message(self, message: Dict[str, Any], update_id: int,
                          on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any) -> None:
        chat = message.get("chat") or {}
        if not self._chat_accepted(chat) or (message.get("from") or {}).get("is_bot"):
            return
        chat_id = int(chat["id"])
        logger.debug("Telegram message in chat %s", chat_id)
        async with self.locks.hold(chat_id):
            text = message.get("text")
            if isinstance(text, str) and text.strip():
                await self._to_rasa(chat_id, self._command_to_rasa(text, app), update_id, on_new_message, chat)
                return
            if any(field in message for field in texts.SERVICE_FIELDS):
                return
            caption = message.get("caption")
            if isinstance(caption, str) and caption.strip():
                await self.reply(chat_id, texts.CAPTION)
                await self._to_rasa(chat_id, caption, update_id, on_new_message, chat)
                return
            await self.reply(chat_id, texts.not_text_reply(message))

    async def _on_edited(self, message: Dict[str, Any]) -> None:
        chat = message.get("chat") or {}
        if not self._chat_accepted(chat) or (message.get("from") or {}).get("is_bot"):
            return
        async with self.locks.hold(int(chat["id"])):
            await self.reply(int(chat["id"]), texts.EDITED)

    async def _on_callback(self, query: Dict[str, Any], update_id: int,
                           on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any) -> None:
        # Acknowledge at once: the button stops spinning whatever happens next.
        acknowledged = self._spawn(self._acknowledge(query.get("id")))
        message = query.get("message") or {}
        chat = message.get("chat") or {}
        if not self._chat_accepted(chat):
            await acknowledged
            return
        chat_id = int(chat["id"])
        logger.debug("Telegram button pressed in chat %s", chat_id)
        async with self.locks.hold(chat_id):
            if self.settings.remove_keyboard_after_press and message.get("message_id") and message.get("reply_markup"):
                # A keyboard answered is removed, so an old menu is not pressed twice.
                self._spawn(self._remove_keyboard(chat_id, int(message["message_id"])))
            payload = self._resolve_payload(str(query.get("data") or ""), app)
            await acknowledged
            if payload is None:
                await self.reply(chat_id, texts.STALE_BUTTON)
                return
            await self._to_rasa(chat_id, payload, update_id, on_new_message, chat)

    async def _acknowledge(self, query_id: Optional[str]) -> None:
        if not query_id:
            return
        try:
            await self.client.answer_callback_query(query_id)
        except Exception as error:
            logger.debug("answerCallbackQuery failed: %s", self._masked_error(error))

    async def _remove_keyboard(self, chat_id: int, message_id: int) -> None:
        try:
            await self.client.remove_keyboard(chat_id, message_id)
        except Exception as error:  # e.g. "message is not modified" after a double press
            logger.debug("editMessageReplyMarkup failed: %s", self._masked_error(error))

    async def _to_rasa(self, chat_id: int, text: str, update_id: int,
                       on_new_message: Callable[[UserMessage], Awaitable[Any]], chat: Dict[str, Any]) -> None:
        typing = TypingIndicator(self.client, chat_id)
        output = TelegramOutput(self.client, self.payloads, typing)
        typing.start()
        try:
            await on_new_message(UserMessage(
                text, output, sender_id_for(chat_id), input_channel=self.name(),
                message_id=f"telegram-update-{update_id}",
                metadata={"telegram": {"update_id": update_id, "chat_type": chat.get("type", "private")}},
            ))
        except Exception as error:
            # Not the message: an exception text may quote it.
            logger.error("Rasa could not answer a Telegram message: %s", type(error).__name__)
            if output.sent == 0:
                with contextlib.suppress(Exception):
                    await self.reply(chat_id, texts.FAILURE)
        finally:
            await typing.stop()

    async def reply(self, chat_id: int, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        await TelegramOutput(self.client, self.payloads).send(chat_id, text, buttons)

    # --- payloads and commands ---

    def _domain(self, app: Any) -> Any:
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        return getattr(agent, "domain", None)

    def _resolve_payload(self, data: str, app: Any) -> Optional[str]:
        return self.payloads.resolve_or_find(data, getattr(self._domain(app), "responses", None))

    def _known_intents(self, app: Any) -> frozenset:
        domain = self._domain(app)
        if domain is not self._intents_domain:
            self._intents = frozenset(getattr(domain, "intents", None) or ())
            self._intents_domain = domain
        return self._intents or frozenset()

    def _command_to_rasa(self, text: str, app: Any) -> str:
        """/start and /help open the greeting; "/<intent>" passes as Rasa's
        intent syntax (like buttons and REST); any other "/word" is plain text,
        so an unknown command never reaches Rasa as an undefined intent."""
        stripped = text.strip()
        match = _COMMAND.match(stripped)
        if not stripped.startswith("/"):
            return text
        if match is None:
            return stripped.lstrip("/").strip()
        name, rest = match.group(1), match.group(3)
        if name.lower() in self.settings.commands:
            return self.settings.commands[name.lower()]
        if name in self._known_intents(app):
            return f"/{name}{rest}" if rest.startswith(("{", "@")) else f"/{name}"
        return (name + rest).strip()


async def send_text_to(chat_id: Any, text: str, buttons: Optional[List[Dict[str, Any]]] = None,
                       settings: Optional[TelegramSettings] = None) -> int:
    """Send a message to a Telegram chat from outside a request.

    For the operator handoff and other out-of-band messages. `chat_id` may be
    the chat id or the conversation id ("telegram_<chat id>"). Inside the
    Rasa process it reuses the channel's session; elsewhere it opens a
    session for this one call (settings from the environment). Returns the
    number of Telegram messages sent.
    """
    channel = _ACTIVE
    if settings is None and channel is not None and channel.settings.enabled:
        with contextlib.suppress(RuntimeError):
            if channel._client is None or channel._client_loop is asyncio.get_running_loop():
                output = channel.get_output_channel()
                return len(await output.send(chat_id, text, buttons))
    client = TelegramClient(settings or TelegramSettings.load())
    try:
        return len(await TelegramOutput(client).send(chat_id, text, buttons))
    finally:
        await client.close()
