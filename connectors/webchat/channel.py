"""Rasa's socket.io channel, with session persistence that works again.

Rasa 3.6's ``socketio`` channel calls ``sio.enter_room(...)`` without
``await``. Since python-socketio 5.10 that method is a coroutine on the async
server, so the socket never joins its session's room and, with
``session_persistence: true``, every bot reply is emitted to an empty room:
the widget sees nothing (RasaHQ/rasa#13027, open; the lock pins
python-socketio 5.18.1). This subclass replaces the ``session_request``
handler (and wraps ``connect`` for the origin check below); everything else —
events, message format, the channel name ``socketio`` that response
variations match on — is Rasa's own.

Two small additions:

* ``allowed_origins``: list of page origins (``https://www.example.ru``)
  allowed to open the socket (the browser's ``Origin`` header); empty or
  absent = the ``WEBCHAT_ALLOWED_ORIGINS`` environment variable (comma
  separated); neither = any origin (Rasa's default).
* session ids the browser proposes must look like the ids this channel hands
  out (8–64 characters of ``[A-Za-z0-9_-]``); anything else gets a fresh one.

credentials.yml::

    connectors.webchat.channel.SocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""
from __future__ import annotations

import inspect
import logging
import os
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint

from hotline.rasa.version_guard import require_rasa

# Replaces a handler Rasa 3.6 registers on its socket.io server.
require_rasa(__name__)

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io input channel with a working ``session_request``."""

    allowed_origins: List[Text] = []

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        channel = super().from_credentials(credentials)
        origins = (credentials or {}).get("allowed_origins") or os.environ.get("WEBCHAT_ALLOWED_ORIGINS", "")
        if isinstance(origins, str):
            origins = [o.strip() for o in origins.split(",") if o.strip()]
        channel.allowed_origins = [str(o).rstrip("/") for o in origins]  # type: ignore[attr-defined]
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        namespace = self.namespace or "/"
        rasa_connect = sio.handlers[namespace]["connect"]

        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            # Checked here rather than by Engine.IO's own CORS option: that one
            # would add a second Access-Control-Allow-Origin header next to
            # the one `rasa run --cors` adds, which browsers reject.
            origin = str(environ.get("HTTP_ORIGIN", "")).rstrip("/")
            if self.allowed_origins and origin not in self.allowed_origins:
                logger.warning("socket.io connection refused: page origin not in allowed_origins")
                return False
            return await rasa_connect(sid, environ, auth)

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.debug("socket.io session confirmed")

        # Replace the handlers Rasa registered for the same events.
        sio.on("connect", namespace=self.namespace)(connect)
        sio.on("session_request", namespace=self.namespace)(session_request)
        return socketio_webhook
