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

import json
import re
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from aiogram.utils import exceptions as telegram_errors
from rasa.core.channels.channel import OutputChannel, UserMessage

from connectors.conversation_ids import conversation_id, platform_chat_id
from connectors.chat_locks import ChatLocks
from connectors.inbox import Inbox
from connectors.messenger_input import WebhookMessengerInput, active_channel
from connectors.messenger_output import SendThroughOne
from connectors.telegram import texts
from connectors.telegram.client import TelegramClient
from connectors.telegram.config import SECRET_HEADER, TelegramSettings, get_logger
from connectors.telegram.formatting import PayloadStore, build_keyboard, split_text
from connectors.typing_indicator import TypingIndicator  # noqa: F401 - also imported from here

logger = get_logger(__name__)

CHANNEL_NAME = "telegram"
SENDER_PREFIX = "telegram_"
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


class TelegramInput(WebhookMessengerInput):
    """Rasa input channel for Telegram (webhook; polling forwards here)."""

    PLATFORM = "Telegram"
    SECRET_HEADER = SECRET_HEADER
    SECRET_NAME = "secret token"

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "TelegramInput":
        return cls(TelegramSettings.load(credentials))

    def __init__(self, settings: Optional[TelegramSettings] = None) -> None:
        super().__init__()
        self.settings = settings or TelegramSettings.load()
        self.inbox = Inbox(CHANNEL_NAME)
        self.payloads = PayloadStore()
        self.locks = ChatLocks()
        self._intents: Optional[frozenset] = None
        self._intents_domain: Any = None
        if not self.settings.enabled:
            logger.info("Telegram channel is off: TELEGRAM_TOKEN is not set")

    def new_client(self) -> TelegramClient:
        return TelegramClient(self.settings)

    def new_output(self, typing: Optional[TypingIndicator] = None) -> "TelegramOutput":
        return TelegramOutput(self.client, self.payloads, typing)

    def _masked_error(self, error: BaseException) -> str:
        return self.settings.mask(f"{type(error).__name__}: {error}")

    async def announce(self) -> None:
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

    # --- webhook ---

    def parse_update(self, body: bytes) -> Optional[Tuple[str, Dict[str, Any]]]:
        try:
            update = json.loads(body)
            return str(int(update["update_id"])), update
        except (ValueError, TypeError, KeyError):
            return None

    # --- updates ---

    async def handle_update(self, update: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]],
                            app: Any = None) -> None:
        app = app if app is not None else self._app
        kind = next((k for k in ("message", "edited_message", "callback_query") if k in update), None)
        started = time.perf_counter()
        async with self.slots:
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
        await self._turn(on_new_message, text, sender_id_for(chat_id), chat_id, chat_id,
                         message_id=f"telegram-update-{update_id}",
                         metadata={"telegram": {"update_id": update_id, "chat_type": chat.get("type", "private")}})

    # --- payloads and commands ---

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
    channel = active_channel(CHANNEL_NAME) if settings is None else None
    output = channel.output_on_this_loop() if channel is not None else None
    if output is not None:
        return len(await output.send(chat_id, text, buttons))
    client = TelegramClient(settings or TelegramSettings.load())
    try:
        return len(await TelegramOutput(client).send(chat_id, text, buttons))
    finally:
        await client.close()
