"""The handoff's routes inside the Rasa server, registered as a channel in
credentials.yml::

    handoff.rasa_channel.HandoffInput:

Routes (under /webhooks/handoff/):

* ``POST /deliver`` — the console (or the Telegram workspace) sends an
  operator's message to a citizen through the channel code running here
  (handoff.delivery). Requires the ``X-Handoff-Secret`` header
  (HANDOFF_SECRET, or var/handoff.secret shared with the console).
* ``GET /rest/<conversation id>/messages?after=<id>&wait=<s>`` — REST
  clients, which Rasa cannot push to, fetch what the operator (and the bot,
  once it resumes) sent them; long polling for up to 10 s. Only with the
  ticket's token (``Authorization: Bearer``, handed to the REST client when
  the ticket opened: handoff/pickup.py), only that ticket's messages, only
  for REST conversations. Long polls are capped per conversation
  (HANDOFF_PICKUP_PER_CONVERSATION, 2) and per Rasa process
  (HANDOFF_PICKUP_MAX_POLLS, 100): over the cap → 429.

No citizen messages enter through this channel.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hotline.status import StoreUnavailable
from handoff import delivery, pickup
from handoff import repository as repo
from handoff.config import SECRET_HEADER, internal_secret
from hotline import settings
from hotline.secret_files import bearer, same

logger = logging.getLogger(__name__)
MAX_WAIT = 10.0
POLL_INTERVAL = 0.2
FORBIDDEN = "Нужен токен обращения из ответа ассистента (заголовок Authorization: Bearer)."
BUSY = "Слишком много одновременных запросов. Повторите через несколько секунд."


def _int_env(name: str) -> int:
    return max(1, settings.get(name))


class PollSlots:
    """Concurrent long polls: at most ``per_key`` per conversation and ``total`` overall."""

    def __init__(self, per_key: int, total: int) -> None:
        self.per_key, self.total = per_key, total
        self.active: Dict[str, int] = {}

    def take(self, key: str) -> bool:
        if sum(self.active.values()) >= self.total or self.active.get(key, 0) >= self.per_key:
            return False
        self.active[key] = self.active.get(key, 0) + 1
        return True

    def give_back(self, key: str) -> None:
        left = self.active.get(key, 0) - 1
        if left > 0:
            self.active[key] = left
        else:
            self.active.pop(key, None)


class HandoffInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "HandoffInput":
        return cls((credentials or {}).get("database_url"))

    def __init__(self, database_url: Optional[str] = None) -> None:
        self.database_url = database_url
        self._secret: Optional[str] = None
        self.polls = PollSlots(_int_env("HANDOFF_PICKUP_PER_CONVERSATION"),
                               _int_env("HANDOFF_PICKUP_MAX_POLLS"))

    def secret(self) -> str:
        if self._secret is None:
            self._secret = internal_secret()
        return self._secret

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("hotline_handoff", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "channels": delivery.registered()})

        @bp.route("/deliver", methods=["POST"])
        async def deliver(request: Request) -> HTTPResponse:
            if not same(request.headers.get(SECRET_HEADER, ""), self.secret()):
                logger.warning("handoff delivery refused: wrong or missing secret")
                return response.json({"ok": False, "error": "forbidden"}, status=403)
            body = request.json if isinstance(request.json, dict) else {}
            conversation_id = str(body.get("conversation_id") or "")
            text = str(body.get("text") or "")
            channel = str(body.get("channel") or "rest")
            buttons = body.get("buttons") if isinstance(body.get("buttons"), list) else None
            if not conversation_id or not (text or buttons):
                return response.json({"ok": False, "error": "conversation_id and text are required"}, status=400)
            started = time.perf_counter()
            try:
                how = await delivery.deliver(channel, conversation_id, text, buttons, app=request.app)
            except delivery.NoSender as exc:
                logger.error("handoff delivery: %s", exc)
                return response.json({"ok": False, "error": str(exc)}, status=501)
            except Exception as exc:  # the channel's own failure (network, API error)
                logger.error("handoff delivery to %s failed: %s", channel, type(exc).__name__)
                return response.json({"ok": False, "error": f"{type(exc).__name__}"}, status=502)
            return response.json({"ok": True, "how": how, "ms": round((time.perf_counter() - started) * 1000, 2)})

        @bp.route("/rest/<conversation_id:path>/messages", methods=["GET"])
        async def rest_messages(request: Request, conversation_id: Text) -> HTTPResponse:
            try:
                after = int(request.args.get("after", "0") or 0)
                wait = min(max(float(request.args.get("wait", "0") or 0), 0.0), MAX_WAIT)
            except ValueError:
                return response.json({"error": "after and wait must be numbers"}, status=400)
            ticket_id = pickup.ticket_id_of(bearer(request.headers), conversation_id, self.secret())
            try:
                ticket = None if ticket_id is None else await asyncio.to_thread(
                    repo.get_ticket, ticket_id, url=self.database_url)
            except StoreUnavailable:
                return response.json({"error": "handoff store unavailable"}, status=503)
            if (ticket is None or ticket.conversation_id != conversation_id
                    or ticket.channel not in pickup.PICKUP_CHANNELS):
                return response.json({"error": FORBIDDEN}, status=403)
            if not self.polls.take(conversation_id):
                return response.json({"error": BUSY}, status=429, headers={"Retry-After": "5"})
            try:
                found = await self._poll(ticket.id, conversation_id, after, time.monotonic() + wait)
            except StoreUnavailable:
                return response.json({"error": "handoff store unavailable"}, status=503)
            finally:
                self.polls.give_back(conversation_id)
            return response.json({"messages": [
                {"id": m.id, "text": m.text, "from": m.direction, "operator": m.operator_name,
                 "at": m.public()["at"]} for m in found]})

        return bp

    async def _poll(self, ticket_id: int, conversation_id: str, after: int, deadline: float) -> List[Any]:
        while True:
            found = [m for m in await asyncio.to_thread(repo.outbound_for_conversation, conversation_id, after,
                                                        url=self.database_url)
                     if m.ticket_id == ticket_id]
            if found or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(POLL_INTERVAL)
