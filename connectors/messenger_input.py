"""What the messenger input channels (Telegram, MAX, VK) share: the plumbing
around the platform-specific handling of an update.

* the platform client, made lazily and remembered with the event loop it
  was made on: an aiohttp session must only be used from that loop, so an
  out-of-band sender (operator handoff) running on another loop opens its own;
* background tasks (`_spawn`), kept referenced until done and awaited at
  shutdown, so a turn in progress is not dropped by the garbage collector or
  by a stopping server;
* the bounded processing slots: at most `concurrent_updates()` updates are
  handled at once, so a burst queues instead of exhausting the database pool;
* `get_output_channel` and `output_on_this_loop` for sending outside a request;
* for the webhook-only channels (Telegram, MAX) the blueprint: health, the
  webhook, the durable inbox started with the server, `announce` (webhook
  registration, token check) and shutdown.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.messenger_config import same_secret
from connectors.telegram.config import get_logger
from connectors.typing_indicator import TypingIndicator
from hotline import texts

logger = get_logger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

# The channel serving in this process, by channel name: out-of-band senders
# (operator handoff) reuse its client instead of opening one per message.
_ACTIVE: Dict[str, "MessengerInput"] = {}


def active_channel(name: str) -> Optional["MessengerInput"]:
    return _ACTIVE.get(name)


class MessengerInput(InputChannel):
    """Base of the Telegram, MAX and VK input channels (see the module doc)."""

    def __init__(self, client: Any = None) -> None:
        self._client = client
        self._client_loop: Optional[asyncio.AbstractEventLoop] = None
        self._tasks: Set[asyncio.Task] = set()
        self._slots: Optional[asyncio.Semaphore] = None
        self._app: Any = None

    # --- what a channel defines ---

    @property
    def enabled(self) -> bool:
        raise NotImplementedError

    def new_client(self) -> Any:
        """The platform client (None when the channel cannot have one)."""
        raise NotImplementedError

    def new_output(self, typing: Optional[TypingIndicator] = None) -> OutputChannel:
        raise NotImplementedError

    def concurrent_updates(self) -> int:
        return 64

    # --- the client and sending ---

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.new_client()
            with contextlib.suppress(RuntimeError):
                self._client_loop = asyncio.get_running_loop()
        return self._client

    def get_output_channel(self) -> Optional[OutputChannel]:
        if not self.enabled:
            return None
        return self.new_output()

    def output_on_this_loop(self) -> Optional[OutputChannel]:
        """The channel's own output if its client may be used from the running
        loop; None outside a loop or on another loop (open a client instead)."""
        if not self.enabled:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if self._client is None or self._client_loop is loop:
            return self.get_output_channel()
        return None

    # --- background work ---

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def slots(self) -> asyncio.Semaphore:
        """Made on first use, i.e. on the serving loop."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrent_updates())
        return self._slots

    async def _finish_tasks(self, grace: float, cancel: bool = True) -> None:
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace)
            if cancel:
                for task in pending:
                    task.cancel()

    def _domain(self, app: Any = None) -> Any:
        """The loaded model's domain (button payloads, intents), if any."""
        agent = getattr(getattr(app if app is not None else self._app, "ctx", None), "agent", None)
        return getattr(agent, "domain", None)


class WebhookMessengerInput(MessengerInput):
    """A channel fed only by its webhook (its poller forwards there too),
    with the durable inbox `self.inbox` and `self.settings.enabled`."""

    inbox: Any
    settings: Any
    PLATFORM = ""  # the platform's name in log lines
    SECRET_HEADER = ""  # the header carrying our webhook secret
    SECRET_NAME = "secret"  # what the platform calls it, in log lines

    @property
    def enabled(self) -> bool:
        return bool(self.settings.enabled)

    def concurrent_updates(self) -> int:
        return int(self.settings.max_concurrent_updates)

    def parse_update(self, body: bytes) -> Optional[Tuple[str, Dict[str, Any]]]:
        """(the key that identifies the update across re-deliveries, the update),
        or None when the body is not an update of the platform."""
        raise NotImplementedError

    async def receive(self, request: Request) -> HTTPResponse:
        """The secret is checked before the body is read; a valid update is
        stored and only then acknowledged (handled by the inbox afterwards)."""
        if not self.enabled:
            return response.json({"ok": False, "description": f"{self.PLATFORM} channel is disabled"}, status=503)
        given = request.headers.get(self.SECRET_HEADER, "")
        if not same_secret(given, self.settings.secret):
            logger.warning("%s webhook: refused a call with a %s %s (403); body not logged",
                           self.PLATFORM, "wrong" if given else "missing", self.SECRET_NAME)
            return response.json({"ok": False, "description": "Forbidden"}, status=403)
        parsed = self.parse_update(request.body or b"")
        if parsed is None:
            logger.warning("%s webhook: the body is not a %s update (400)", self.PLATFORM, self.PLATFORM)
            return response.json({"ok": False, "description": "Bad Request"}, status=400)
        key, update = parsed
        accepted = await self.inbox.submit(key, update)
        if accepted is None:
            # Not stored, so not acknowledged: the platform (or the poller) sends it again.
            return response.json({"ok": False, "description": "Service Unavailable"}, status=503)
        if not accepted:
            logger.debug("%s update seen before: ignored", self.PLATFORM)
        return response.json({"ok": True})

    async def handle_update(self, update: Any, on_new_message: OnNewMessage) -> None:
        raise NotImplementedError

    async def announce(self) -> None:
        """Register the webhook with the platform and check the token (once, at start)."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        _ACTIVE[self.name()] = self
        bp = Blueprint(f"hotline_{self.name()}")
        self.inbox.handler = lambda update: self.handle_update(update, on_new_message)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            self._app = request.app
            return await self.receive(request)

        @bp.listener("after_server_start")
        async def started(app: Any, _: Any) -> None:
            if self.enabled:
                self._app = app
                self.inbox.start()  # updates a killed instance accepted but never finished
                self._spawn(self.announce())

        @bp.listener("before_server_stop")
        async def stopping(app: Any, _: Any) -> None:
            await self.shutdown()

        return bp

    async def reply(self, recipient: Any, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        await self.new_output().send(recipient, text, buttons)

    async def _turn(self, on_new_message: OnNewMessage, text: str, sender_id: str, reply_to: Any,
                    typing_chat: Optional[int], **message: Any) -> None:
        """One message to Rasa with "typing…" shown meanwhile; if Rasa fails
        before anything was sent, the citizen gets a polite answer."""
        typing = TypingIndicator(self.client, typing_chat) if typing_chat is not None else None
        output = self.new_output(typing)
        if typing is not None:
            typing.start()
        try:
            await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(), **message))
        except Exception as error:
            # Not the message: an exception text may quote it.
            logger.error("Rasa could not answer a %s message: %s", self.PLATFORM, type(error).__name__)
            if output.sent == 0:
                with contextlib.suppress(Exception):
                    await self.reply(reply_to, texts.FAILURE)
        finally:
            if typing is not None:
                await typing.stop()

    async def shutdown(self, grace: float = 5.0) -> None:
        await self.inbox.stop(grace)
        await self._finish_tasks(grace)
        if self._client is not None:
            await self._client.close()
