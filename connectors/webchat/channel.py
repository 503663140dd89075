"""Rasa's socket.io channel, with session persistence that works again.

Rasa 3.6's ``socketio`` channel calls ``sio.enter_room(...)`` without
``await``. Since python-socketio 5.10 that method is a coroutine on the async
server, so the socket never joins its session's room and, with
``session_persistence: true``, every bot reply is emitted to an empty room:
the widget sees nothing (RasaHQ/rasa#13027, open; the lock pins
python-socketio 5.18.1). This subclass replaces the ``session_request``,
message and ``disconnect`` handlers (and wraps ``connect`` for the origin
check below); everything else —
events, message format, the channel name ``socketio`` that response
variations match on — is Rasa's own.

Additions:

* **server-owned sessions.** The server, not the browser, picks the
  conversation id (``web_<32 hex>``) and confirms it with a signed token
  (HMAC-SHA256 with ``WEBCHAT_SECRET`` or var/webchat.secret). The widget
  keeps both and presents the token on reconnect; a missing, forged or
  foreign token gets a fresh session. Messages go to the session bound to
  the socket (sid → session, set by ``session_request``): ``session_id`` in a
  message, which Rasa's own handler trusts, is ignored. So no socket can
  join or write into another conversation — a Telegram chat, a REST client
  or another browser's widget.
* ``allowed_origins``: page origins (``https://www.example.ru``) allowed to
  open the socket (the browser's ``Origin`` header); empty or absent =
  ``WEBCHAT_ALLOWED_ORIGINS`` (comma separated), neither = the demo page
  (hotline/origins.py).
* **several Rasa processes.** A widget's socket lives in one Rasa process,
  but an operator's reply (handoff.delivery) may be sent by any. With
  ``REDIS_URL`` set, the socket.io server shares its emits through Redis
  (python-socketio's AsyncRedisManager): an emit to a session's room is
  delivered in this process and published for the others, each delivering
  to its own sockets. Without ``REDIS_URL`` (``make run``, one process) the
  server keeps everything in memory, as before. Redis down: this process's
  sockets still get their replies; other processes' do not until it is back.

credentials.yml::

    connectors.webchat.channel.SocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""
from __future__ import annotations

import inspect
import json
import logging
import re
import secrets
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint

from hotline import settings
from hotline.origins import allowed_origins
from hotline.rasa.version_guard import require_rasa
from hotline.secret_files import same, secret, sign

# Replaces handlers Rasa 3.6 registers on its socket.io server.
require_rasa(__name__)

logger = logging.getLogger(__name__)

# The Redis pub/sub channel the socket.io servers share.
PUBSUB_CHANNEL = "hotline-socketio"
SESSION_PREFIX = "web_"
SESSION_ID = re.compile(r"^web_[0-9a-f]{32}$")
TOKEN_PURPOSE = "webchat-session"


def session_key() -> str:
    return secret("WEBCHAT_SECRET", "webchat.secret")


def new_session() -> str:
    return f"{SESSION_PREFIX}{secrets.token_hex(16)}"


def session_token(session_id: str, key: str) -> str:
    return f"{session_id}.{sign(key, TOKEN_PURPOSE, session_id)}"


def verified_session(token: Any, key: str) -> Optional[str]:
    """The session a token was issued for, or None when it was not issued with this key."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    session_id, _, signature = token.partition(".")
    if not SESSION_ID.match(session_id):
        return None
    return session_id if same(signature, sign(key, TOKEN_PURPOSE, session_id)) else None


def share_emits_through_redis(sio: Any, blueprint: Blueprint, redis_url: Optional[str] = None) -> None:
    """Give Rasa's AsyncServer (made inside its blueprint, before any
    connection) a Redis client manager when REDIS_URL is set."""
    redis_url = redis_url if redis_url is not None else settings.get("REDIS_URL")
    if not redis_url:
        return
    import socketio

    # A connect timeout only: the listener idles on its subscription between
    # messages, and a read timeout there would make it reconnect in a loop.
    manager = socketio.AsyncRedisManager(redis_url, channel=PUBSUB_CHANNEL,
                                         redis_options={"socket_connect_timeout": 1})
    sio.manager = manager
    manager.set_server(sio)

    @blueprint.listener("after_server_start")
    async def subscribe(app: Any, _: Any) -> None:
        # Subscribed from the start, not at the first connection (python-socketio's
        # default), so an emit from another process never finds this one deaf.
        if not sio.manager_initialized:
            sio.manager_initialized = True
            manager.initialize()


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io input channel with a working ``session_request``."""

    allowed_origins: List[Text] = []

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        channel = super().from_credentials(credentials)
        channel.allowed_origins = allowed_origins(configured=(credentials or {}).get("allowed_origins"))  # type: ignore[attr-defined]
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        share_emits_through_redis(sio, socketio_webhook)
        namespace = self.namespace or "/"
        rasa_connect = sio.handlers[namespace]["connect"]
        key = session_key()
        sessions: Dict[Text, Text] = {}  # socket id → the conversation it proved
        self.sessions = sessions

        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            # Checked here rather than by Engine.IO's own CORS option: that one
            # would add a second Access-Control-Allow-Origin header next to
            # the one Rasa's --cors adds, which browsers reject.
            origin = str(environ.get("HTTP_ORIGIN", "")).rstrip("/")
            if self.allowed_origins and origin not in self.allowed_origins:
                logger.warning("socket.io connection refused: page origin not in allowed_origins")
                return False
            return await rasa_connect(sid, environ, auth)

        async def _leave(sid: Text) -> None:
            previous = sessions.pop(sid, None)
            if previous:
                left = sio.leave_room(sid, previous, namespace=namespace)
                if inspect.isawaitable(left):
                    await left

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = verified_session(data.get("token"), key)
            if session_id is None:
                session_id = new_session()
            await _leave(sid)
            sessions[sid] = session_id
            # Replies go to the session's room (SocketIOOutput), whatever
            # session_persistence says: the session is the conversation.
            entered = sio.enter_room(sid, session_id, namespace=namespace)
            if inspect.isawaitable(entered):
                await entered
            await sio.emit("session_confirm", {"session_id": session_id, "token": session_token(session_id, key)},
                           room=sid, namespace=namespace)
            logger.debug("socket.io session confirmed")

        async def handle_message(sid: Text, data: Any) -> None:
            session_id = sessions.get(sid)
            if session_id is None:
                logger.warning("socket.io message before session_request: ignored")
                return
            data = data if isinstance(data, dict) else {}
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            message = data.get("message", "")
            await on_new_message(UserMessage(
                message if isinstance(message, str) else str(message), SocketIOOutput(sio, self.bot_message_evt),
                session_id, input_channel=self.name(), metadata=metadata if isinstance(metadata, dict) else {}))

        async def disconnect(sid: Text) -> None:
            sessions.pop(sid, None)

        # Replace the handlers Rasa registered for the same events.
        sio.on("connect", namespace=self.namespace)(connect)
        sio.on("session_request", namespace=self.namespace)(session_request)
        sio.on(self.user_message_evt, namespace=self.namespace)(handle_message)
        sio.on("disconnect", namespace=self.namespace)(disconnect)
        return socketio_webhook
