"""VK community messages as a Rasa channel.

Registered in a credentials file by module path::

    connectors.vk.channel.VKInput:

Settings come from the environment (``VK_TOKEN``, ``VK_GROUP_ID``,
``VK_CONFIRMATION``, ``VK_SECRET``, ``VK_API_URL``, ``VK_API_VERSION``,
``VK_MODE``); a key of the same name in lower case under the credentials
entry (``group_id: 123``, ``mode: longpoll``) takes precedence. Secrets belong
in the environment, not in the file. See docs/channels/vk.md.

Two ways to receive messages:

* Callback API (``VK_MODE=callback``, default): VK posts events to
  ``/webhooks/vk/webhook``. ``confirmation`` for our community is answered
  with the confirmation string; every other event must carry our ``secret``
  (compared in constant time; otherwise 403, body not logged), is stored
  (connectors.inbox) and only then answered ``ok``, and is handled
  afterwards — an instance killed mid-turn loses nothing; VK's retries are
  dropped by ``event_id``, across instances too.
* Bots Long Poll (``VK_MODE=longpoll``) for deployments without a public URL.

Every conversation's Rasa sender id is ``vk_<peer_id>``, stable across
restarts.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from connectors.conversation_ids import conversation_id, platform_chat_id
from connectors.chat_locks import ChatLocks
from connectors.inbox import Inbox
from connectors.messenger_input import MessengerInput
from connectors.vk.api import DEFAULT_API_VERSION, VKApiError, VKClient, peer_ref, set_default_client
from connectors.vk.keyboard import payload_command
from connectors.vk.longpoll import LongPoller
from hotline import settings, texts

logger = logging.getLogger(__name__)

CHANNEL_NAME = "vk"
SENDER_PREFIX = "vk_"

# The answer to a message without text: a photo, sticker, voice message,
# document, location, a forwarded message.
NON_TEXT_REPLY = texts.NOT_TEXT

# "[club123|Горячая линия], вопрос" — an appeal to the community in a chat.
_MENTION = re.compile(r"^\s*\[(?:club|public)\d+\|[^\]]*\][\s,:]*")


def _event_key(event: Mapping[str, Any]) -> str:
    """VK's event_id; a digest of the event for the rare event without one."""
    event_id = event.get("event_id")
    if event_id:
        return str(event_id)
    return "sha256:" + hashlib.sha256(json.dumps(event, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sender_id(peer_id: int) -> str:
    return conversation_id(SENDER_PREFIX, peer_id)


def peer_from_recipient(recipient_id: Text) -> int:
    """``vk_123`` (or ``123``) → 123."""
    return platform_chat_id(SENDER_PREFIX, recipient_id)


@dataclass
class VKSettings:
    token: str = ""
    group_id: Optional[int] = None
    confirmation: str = ""
    secret: str = ""
    api_url: Optional[str] = None
    api_version: str = DEFAULT_API_VERSION
    mode: str = "callback"
    longpoll_wait: int = 25
    max_retries: int = 5
    retry_base_delay: float = 0.5

    @classmethod
    def load(cls, credentials: Optional[Mapping[str, Any]] = None,
             environ: Optional[Mapping[str, str]] = None) -> "VKSettings":
        """A credentials-file value wins, else VK_<KEY> through hotline.settings."""
        credentials = credentials or {}

        def get(key: str, kind: Callable[[Any], Any] = str) -> Any:
            value = credentials.get(key)
            if value is not None and str(value).strip() != "":
                return kind(str(value).strip())
            return settings.get(f"VK_{key.upper()}", environ)

        mode = get("mode").lower().replace("-", "").replace("_", "")
        if mode in ("longpoll", "longpolling", "botslongpoll"):
            mode = "longpoll"
        elif mode != "callback":
            raise ValueError(f"VK_MODE must be 'callback' or 'longpoll', not {mode!r}")
        return cls(
            token=get("token"),
            group_id=get("group_id", int),
            confirmation=get("confirmation"),
            secret=get("secret"),
            api_url=get("api_url") or None,
            api_version=get("api_version"),
            mode=mode,
            longpoll_wait=get("longpoll_wait", int),
            max_retries=get("max_retries", int),
            retry_base_delay=get("retry_base_delay", float),
        )


class ClientCapabilities:
    """What each peer's VK client can show (message_new's client_info)."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._items: "OrderedDict[int, Dict[str, bool]]" = OrderedDict()

    def remember(self, peer_id: int, client_info: Mapping[str, Any]) -> None:
        if not client_info:
            return
        self._items[peer_id] = {
            "keyboard_supported": bool(client_info.get("keyboard", True)
                                       or client_info.get("inline_keyboard", True)),
            "inline": bool(client_info.get("inline_keyboard", True)),
        }
        self._items.move_to_end(peer_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, peer_id: int) -> Dict[str, bool]:
        return dict(self._items.get(peer_id) or {"keyboard_supported": True, "inline": True})


class VKOutput(OutputChannel):
    """Sends Rasa's replies with messages.send.

    Works without an incoming event too (Rasa's ``output_channel=vk`` on
    ``/conversations/vk_<peer>/trigger_intent``, operator handoff)."""

    def __init__(self, client: VKClient, capabilities: Optional[ClientCapabilities] = None) -> None:
        self.client = client
        self.capabilities = capabilities or ClientCapabilities()

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    async def _send(self, recipient_id: Text, text: Text,
                    buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        try:
            peer_id = peer_from_recipient(recipient_id)
        except ValueError:
            logger.error("VK: cannot send to a conversation that is not a VK one")
            return
        try:
            await self.client.send_text(peer_id, text or "", buttons, **self.capabilities.get(peer_id))
        except VKApiError:
            # Logged (without token or text) by the client; the dialogue goes on.
            pass

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, text)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self._send(recipient_id, text, buttons)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, image)

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        custom = json_message.get(CHANNEL_NAME, json_message) if isinstance(json_message, dict) else {}
        if isinstance(custom, dict) and custom.get("text"):
            await self._send(recipient_id, custom["text"], custom.get("buttons"))
        else:
            logger.debug("VK: custom message without text skipped")


class VKInput(MessengerInput):
    """VK Callback API endpoint and Bots Long Poll receiver."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "VKInput":
        return cls(VKSettings.load(credentials))

    def __init__(self, settings: VKSettings, client: Optional[VKClient] = None) -> None:
        super().__init__(client)
        self.settings = settings
        if self.client is not None:
            for secret in (settings.secret, settings.confirmation):
                self.client.redact.add(secret)
        self.inbox = Inbox(CHANNEL_NAME, self.handle_event)
        self.capabilities = ClientCapabilities()
        self.peer_locks = ChatLocks()
        self.poller: Optional[LongPoller] = None
        self._on_new_message: Optional[Callable[[UserMessage], Awaitable[Any]]] = None
        self._warn_about_settings()

    def _warn_about_settings(self) -> None:
        s = self.settings
        if not s.token:
            logger.warning("VK channel is not configured (VK_TOKEN is empty): it will not receive or send messages")
            return
        if not s.group_id:
            logger.warning("VK_GROUP_ID is empty: confirmation and Bots Long Poll need the community id")
        if s.mode == "callback":
            if not s.confirmation:
                logger.warning("VK_CONFIRMATION is empty: VK cannot confirm the Callback API server address")
            if not s.secret:
                logger.warning("VK_SECRET is empty: every Callback API event will be rejected with 403; "
                               "set the same secret key here and in the community's Callback API settings")

    def new_client(self) -> Optional[VKClient]:
        s = self.settings
        if not s.token:
            return None
        return VKClient(s.token, s.group_id, s.api_url, s.api_version,
                        max_retries=s.max_retries, retry_base_delay=s.retry_base_delay)

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def new_output(self) -> OutputChannel:
        return VKOutput(self.client, self.capabilities)

    # --- receiving -----------------------------------------------------------

    def _secret_ok(self, given: Any) -> bool:
        if not self.settings.secret or not isinstance(given, str):
            return False
        return hmac.compare_digest(given.encode("utf-8"), self.settings.secret.encode("utf-8"))

    def _our_group(self, event: Mapping[str, Any]) -> bool:
        if not self.settings.group_id:
            return True
        return str(event.get("group_id")) == str(self.settings.group_id)

    async def accept(self, event: Mapping[str, Any]) -> Optional[bool]:
        """Keep one VK event and schedule it for handling: True; False for a
        repeat; None when it could not be kept (the caller must not say ok)."""
        accepted = await self.inbox.submit(_event_key(event), dict(event))
        if accepted is False:
            logger.info("VK: repeated event dropped")
        return accepted

    async def _accept_from_poller(self, event: Dict[str, Any]) -> None:
        if self._our_group(event) and await self.accept(event) is None:
            # The long poll has moved on and will not offer it again: handle it
            # in memory rather than drop it.
            self._spawn(self.handle_event(event))

    async def handle_event(self, event: Mapping[str, Any]) -> None:
        try:
            if event.get("type") != "message_new":
                logger.debug("VK: event %s ignored", event.get("type"))
                return
            body = event.get("object") or {}
            # API ≥ 5.103: {"message": {...}, "client_info": {...}}; older: the message itself
            message = body.get("message") if isinstance(body.get("message"), dict) else body
            peer_id = int(message.get("peer_id"))
            if message.get("out") or message.get("action"):
                return  # our own message, or a service message in a chat
            self.capabilities.remember(peer_id, body.get("client_info") or {})
            text = self._incoming_text(message)
            async with self.peer_locks.hold(peer_id), self.slots:
                if text is None:
                    logger.info("VK: non-text message from %s answered", peer_ref(peer_id))
                    await VKOutput(self.client, self.capabilities).send_text_message(sender_id(peer_id),
                                                                                     NON_TEXT_REPLY)
                    return
                await self._on_new_message(UserMessage(
                    text, VKOutput(self.client, self.capabilities), sender_id(peer_id),
                    input_channel=CHANNEL_NAME,
                    metadata={"vk": {"peer_id": peer_id, "from_id": message.get("from_id")}},
                ))
        except Exception as error:  # never let one event break the channel
            logger.error("VK: handling an event failed: %s", type(error).__name__)
            logger.debug("VK: traceback", exc_info=True)

    def _incoming_text(self, message: Mapping[str, Any]) -> Optional[str]:
        """The button's Rasa payload, else the text; None for non-text."""
        command = payload_command(message.get("payload"), self.client.payloads)
        if command:
            return command
        text = _MENTION.sub("", str(message.get("text") or "")).strip()
        return text or None

    # --- Sanic -------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        self._on_new_message = on_new_message
        vk_webhook = Blueprint("vk_webhook", __name__)

        @vk_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> response.HTTPResponse:
            return response.json({
                "status": "ok" if self.client else "not configured",
                "mode": self.settings.mode,
                "long_poll_running": bool(self.poller and self.poller.running),
            })

        @vk_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> response.HTTPResponse:
            try:
                event = json.loads(request.body or b"")
            except ValueError:
                event = None
            if not isinstance(event, dict):
                logger.warning("VK callback: a request that is not a JSON object rejected")
                return response.text("bad request", status=400)
            if event.get("type") == "confirmation":
                secret = event.get("secret")
                if (not self._our_group(event) or not self.settings.confirmation
                        or (secret is not None and not self._secret_ok(secret))):
                    logger.warning("VK callback: confirmation request for another community "
                                   "or without VK_CONFIRMATION rejected")
                    return response.text("forbidden", status=403)
                return response.text(self.settings.confirmation)
            if not self._secret_ok(event.get("secret")):
                logger.warning("VK callback: request with a wrong or missing secret rejected (403)")
                return response.text("forbidden", status=403)
            if not self._our_group(event):
                logger.warning("VK callback: event for another community rejected (403)")
                return response.text("forbidden", status=403)
            if self.client is None:
                return response.text("VK channel is not configured", status=503)
            if await self.accept(event) is None:
                # Not kept, so not acknowledged: VK sends the event again.
                return response.text("retry later", status=503)
            return response.text("ok")

        @vk_webhook.listener("after_server_start")
        async def start(app: Any, loop: asyncio.AbstractEventLoop) -> None:
            if self.client is None:
                return
            set_default_client(self.client)
            # Events a killed instance accepted but never finished.
            self.inbox.start()
            if self.settings.mode == "longpoll":
                self.poller = LongPoller(self.client, self._accept_from_poller, wait=self.settings.longpoll_wait)
                self.poller.start(loop)

        @vk_webhook.listener("before_server_stop")
        async def stop(app: Any, loop: asyncio.AbstractEventLoop) -> None:
            if self.poller:
                self.poller.stop()
            await self.inbox.stop()
            await self._finish_tasks(10, cancel=False)

        return vk_webhook
