"""The project's MAX channel for Rasa.

Registered in credentials.yml (hotline.rasa.channels.GuardedMaxInput, i.e.
this class behind the production guard)::

    connectors.max.channel.MaxInput:

Webhook: POST /webhooks/max/webhook. MAX sends every update of a subscription
(POST /subscriptions with url, update_types and secret) with the
X-Max-Bot-Api-Secret header; a missing or wrong one gets 403 and the body is
never read into a log. A valid update is stored (connectors.inbox) and only
then answered 200, handled in a background task and, after a crash,
finished by the restarted (or another) instance; a re-sent update is
recognised by its message id / callback id and dropped, across instances too.

Long polling (python -m connectors.max.polling) is a separate process that
forwards each update to this same webhook, like Telegram's.

The conversation id is "max_<user id>" of the update's sender as MAX states
it (never from a payload), so a conversation continues across restarts. Log
lines carry no token, no message text and no names.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from rasa.core.channels.channel import OutputChannel, UserMessage

from connectors.chat_locks import ChatLocks
from connectors.conversation_ids import conversation_id, platform_chat_id
from connectors.inbox import Inbox
from connectors.messenger_input import WebhookMessengerInput, active_channel
from connectors.messenger_output import SendThroughOne
from connectors.max.client import MaxApiError, MaxClient
from connectors.max.config import SECRET_HEADER, UPDATE_TYPES, MaxSettings
from connectors.max.keyboard import MAX_MESSAGE_LENGTH, build_keyboard
from connectors.telegram import texts
from connectors.telegram.config import get_logger
from connectors.telegram.formatting import PayloadStore, split_text
from connectors.typing_indicator import TypingIndicator

logger = get_logger(__name__)

CHANNEL_NAME = "max"
SENDER_PREFIX = "max_"

# Attachments a citizen may send instead of text, and the polite answer to each
# (the same words as in Telegram and VK).
_ATTACHMENT_REPLY = {"audio": texts.VOICE, "video": texts.VOICE, "location": texts.LOCATION,
                     "contact": texts.CONTACT}
# Deep links (https://max.ru/<bot>?start=<payload>) that open a topic; any
# other start payload opens the greeting.
START_TOPICS = {"status": "/check_application_status", "check_status": "/check_application_status",
                "check_application_status": "/check_application_status", "operator": "/request_operator"}
GREETING = "/greet"


def sender_id_for(user_id: Any) -> str:
    return conversation_id(SENDER_PREFIX, user_id)


def user_id_from(recipient_id: Any) -> int:
    return platform_chat_id(SENDER_PREFIX, recipient_id)


def update_key(update: Dict[str, Any]) -> str:
    """What identifies one update across MAX's re-deliveries."""
    kind = str(update.get("update_type") or "")
    body = (update.get("message") or {}).get("body") or {}
    if kind == "message_callback" and (update.get("callback") or {}).get("callback_id"):
        return f"cb:{update['callback']['callback_id']}"
    if kind == "message_created" and body.get("mid"):
        return f"mid:{body['mid']}"
    if kind == "message_edited" and body.get("mid"):
        return f"edit:{body['mid']}:{update.get('timestamp')}"
    digest = hashlib.sha256(json.dumps(update, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{kind[:20]}:{digest}"


class MaxOutput(SendThroughOne, OutputChannel):
    """Sends Rasa's responses to a MAX user; works without an incoming
    request too (handoff, Rasa's trigger_intent). The recipient is a
    conversation id ("max_<user id>") or a user id."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    def __init__(self, client: MaxClient, payloads: Optional[PayloadStore] = None,
                 typing: Optional[TypingIndicator] = None) -> None:
        self.client = client
        self.payloads = payloads if payloads is not None else PayloadStore()
        self.typing = typing
        self.sent = 0

    async def send(self, recipient_id: Any, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> int:
        """Text split into messages of at most 4,000 characters; the keyboard goes with the last."""
        user_id = user_id_from(recipient_id)
        keyboard = build_keyboard(buttons, self.payloads) if buttons else None
        chunks = split_text(str(text or ""), MAX_MESSAGE_LENGTH)
        if not chunks:
            if keyboard is None:
                return 0
            chunks = [texts.EMPTY_WITH_BUTTONS]
        for index, chunk in enumerate(chunks):
            if self.typing is not None:
                await self.typing.before_send()
            last = index == len(chunks) - 1
            await self.client.send_message(chunk, user_id=user_id,
                                           attachments=[keyboard] if keyboard and last else None)
            self.sent += 1
            if self.typing is not None:
                self.typing.after_send()
        return self.sent


class MaxInput(WebhookMessengerInput):
    """Rasa input channel for MAX (webhook; polling forwards here)."""

    PLATFORM = "MAX"
    SECRET_HEADER = SECRET_HEADER

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "MaxInput":
        return cls(MaxSettings.load(credentials))

    def __init__(self, settings: Optional[MaxSettings] = None) -> None:
        super().__init__()
        self.settings = settings or MaxSettings.load()
        self.inbox = Inbox(CHANNEL_NAME)
        self.payloads = PayloadStore()
        self.locks = ChatLocks()
        if not self.settings.enabled:
            logger.info("MAX channel is off: MAX_TOKEN is not set")

    def new_client(self) -> MaxClient:
        return MaxClient(self.settings)

    def new_output(self, typing: Optional[TypingIndicator] = None) -> MaxOutput:
        return MaxOutput(self.client, self.payloads, typing)

    async def announce(self) -> None:
        """Subscribe the webhook (if MAX_WEBHOOK_URL is set) and check the token once."""
        if self.settings.webhook_url:
            try:
                await self.client.subscribe(self.settings.webhook_url, self.settings.secret, UPDATE_TYPES)
                logger.info("MAX webhook subscribed: %s", self.settings.mask(self.settings.webhook_url))
            except Exception as error:
                logger.warning("MAX subscription failed: %s", self.settings.mask(error))
        try:
            me = await self.client.get_me()
            logger.info("MAX channel ready for bot %s", (me or {}).get("username") or "?")
        except Exception as error:
            logger.warning("MAX /me failed (is MAX_TOKEN right?): %s", self.settings.mask(error))

    def parse_update(self, body: bytes) -> Optional[Tuple[str, Dict[str, Any]]]:
        try:
            update = json.loads(body)
        except ValueError:
            return None
        if not isinstance(update, dict) or not isinstance(update.get("update_type"), str):
            return None
        return update_key(update), update

    # --- updates ---

    async def handle_update(self, update: Dict[str, Any],
                            on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        kind = update.get("update_type")
        started = time.perf_counter()
        async with self.slots:
            try:
                if kind == "message_created":
                    await self._on_message(update, on_new_message)
                elif kind == "message_callback":
                    await self._on_callback(update, on_new_message)
                elif kind == "bot_started":
                    await self._on_started(update, on_new_message)
                elif kind == "message_edited":
                    await self._on_edited(update)
                else:
                    logger.debug("MAX update of another kind ignored: %s", str(kind)[:40])
            except Exception as error:
                logger.error("MAX update (%s) failed: %s", kind, self.settings.mask(
                    f"{type(error).__name__}: {error}" if isinstance(error, MaxApiError) else type(error).__name__))
        logger.debug("MAX update (%s) handled in %.0f ms", kind, (time.perf_counter() - started) * 1000)

    @staticmethod
    def _sender(message: Dict[str, Any]) -> Optional[int]:
        sender = message.get("sender") or {}
        if sender.get("is_bot") or sender.get("user_id") is None:
            return None
        if (message.get("recipient") or {}).get("chat_type", "dialog") != "dialog":
            return None  # citizens write to the bot in a dialog; group chats are not read
        return int(sender["user_id"])

    @staticmethod
    def _chat_id(message: Dict[str, Any]) -> Optional[int]:
        chat_id = (message.get("recipient") or {}).get("chat_id")
        return int(chat_id) if chat_id is not None else None

    async def _on_message(self, update: Dict[str, Any], on_new_message: Callable) -> None:
        message = update.get("message") or {}
        user_id = self._sender(message)
        if user_id is None:
            return
        body = message.get("body") or {}
        async with self.locks.hold(user_id):
            text = body.get("text")
            attachments = [a for a in body.get("attachments") or [] if isinstance(a, dict)]
            if isinstance(text, str) and text.strip():
                if attachments:
                    await self.reply(user_id, texts.CAPTION)
                await self._to_rasa(user_id, self._chat_id(message), text.strip(), on_new_message)
                return
            kinds = [str(a.get("type")) for a in attachments]
            await self.reply(user_id, next((_ATTACHMENT_REPLY[k] for k in kinds if k in _ATTACHMENT_REPLY),
                                           texts.NOT_TEXT))

    async def _on_edited(self, update: Dict[str, Any]) -> None:
        user_id = self._sender(update.get("message") or {})
        if user_id is not None:
            async with self.locks.hold(user_id):
                await self.reply(user_id, texts.EDITED)

    async def _on_callback(self, update: Dict[str, Any], on_new_message: Callable) -> None:
        callback = update.get("callback") or {}
        # Acknowledge at once: the button stops spinning whatever happens next.
        acknowledged = self._spawn(self._acknowledge(callback.get("callback_id")))
        user = callback.get("user") or {}
        if user.get("user_id") is None or user.get("is_bot"):
            await acknowledged
            return
        user_id = int(user["user_id"])
        async with self.locks.hold(user_id):
            payload = self._resolve_payload(str(callback.get("payload") or ""))
            await acknowledged
            if payload is None:
                await self.reply(user_id, texts.STALE_BUTTON)
                return
            await self._to_rasa(user_id, self._chat_id(update.get("message") or {}), payload, on_new_message)

    async def _on_started(self, update: Dict[str, Any], on_new_message: Callable) -> None:
        user = update.get("user") or {}
        if user.get("user_id") is None or user.get("is_bot"):
            return
        user_id = int(user["user_id"])
        start = START_TOPICS.get(str(update.get("payload") or "").strip().lower(), GREETING)
        chat_id = update.get("chat_id")
        async with self.locks.hold(user_id):
            await self._to_rasa(user_id, int(chat_id) if chat_id is not None else None, start, on_new_message)

    async def _acknowledge(self, callback_id: Optional[str]) -> None:
        if not callback_id:
            return
        try:
            await self.client.answer_callback(str(callback_id))
        except Exception as error:
            logger.debug("MAX /answers failed: %s", self.settings.mask(error))

    def _resolve_payload(self, data: str) -> Optional[str]:
        return self.payloads.resolve_or_find(data, getattr(self._domain(), "responses", None))

    async def _to_rasa(self, user_id: int, chat_id: Optional[int], text: str, on_new_message: Callable) -> None:
        await self._turn(on_new_message, text, sender_id_for(user_id), user_id, chat_id,
                         metadata={"max": {"chat_id": chat_id}})


async def send_text_to(recipient: Any, text: str, buttons: Optional[List[Dict[str, Any]]] = None,
                       settings: Optional[MaxSettings] = None) -> int:
    """Send a message to a MAX user from outside a request (operator handoff).
    `recipient` is the user id or the conversation id ("max_<user id>")."""
    channel = active_channel(CHANNEL_NAME) if settings is None else None
    output = channel.output_on_this_loop() if channel is not None else None
    if output is not None:
        return await output.send(recipient, text, buttons)
    client = MaxClient(settings or MaxSettings.load())
    try:
        return await MaxOutput(client).send(recipient, text, buttons)
    finally:
        await client.close()
