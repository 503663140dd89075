"""The ``voice`` input channel for Rasa.

A REST-style webhook (``POST /webhooks/voice/webhook``, same body as the
``rest`` channel: ``{"sender": …, "message": …, "metadata": …}``) whose
messages are recorded with input channel ``voice`` and whose responses are
generated for output channel ``voice``, so domain responses can have
``channel: voice`` variations (short sentences, no buttons, numbers for the
ear; every response has one, tests/test_answers_voice.py).

After the bot messages the reply carries one more element,
``{"custom": {"voice_state": {...}}}``: the open question of the form
(``requested_slot``, ``active_loop``), the latest intent and whether the
conversation is paused for a human operator. The phone dialogue uses it to
pick the recognition grammar, to read keypad digits as a number or a date,
and to transfer the call. A client of the plain ``rest`` webhook gets no
state and falls back to reading the bot's words.

Only the phone server may speak here: every request carries
``Authorization: Bearer <VOICE_CHANNEL_TOKEN or var/voice-channel.secret>``
(voice/rasa_client.py sends it), anything else gets 403. Conversations are
``phone_<call uuid>``: a sender without the ``phone_`` prefix gets it, so even
the phone server cannot address another channel's conversation.

Enable it in credentials.yml::

    voice.channel.VoiceInput:
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hotline.secret_files import bearer, same
from voice.config import voice_token

logger = logging.getLogger(__name__)

PREFIX = "phone_"


def voice_conversation_id(sender: Any) -> Optional[str]:
    if isinstance(sender, bool) or not isinstance(sender, (str, int)):
        return None
    value = str(sender).strip()
    if not value or len(value) > 128 or not value.isprintable():
        return None
    return value if value.startswith(PREFIX) else f"{PREFIX}{value}"


class VoiceOutput(CollectingOutputChannel):
    @classmethod
    def name(cls) -> Text:
        return "voice"


class VoiceInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "voice"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("voice_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        token = voice_token()

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not same(bearer(request.headers), token):
                logger.warning("voice webhook refused: wrong or missing token")
                return response.json({"error": "forbidden"}, status=403)
            body = request.json if isinstance(request.json, dict) else {}
            sender_id = voice_conversation_id(body.get("sender"))
            text = self._extract_message(request)
            if not sender_id or text is None:
                return response.json({"error": "sender and message are required"}, status=400)
            collector = VoiceOutput()
            try:
                await on_new_message(UserMessage(text, collector, sender_id, input_channel=self.name(),
                                                 metadata=self.get_metadata(request)))
            except Exception:  # noqa: BLE001 - the caller hears an apology instead of silence
                logger.exception("voice: message handling failed")
                return response.json(collector.messages + [{"custom": {"voice_state": {"error": True}}}])
            state = await self._state(request, sender_id)
            return response.json(collector.messages + [{"recipient_id": sender_id,
                                                        "custom": {"voice_state": state}}])

        return hook

    @staticmethod
    async def _state(request: Request, sender_id: Text) -> Dict[Text, Any]:
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return {}
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None:
            return {}
        intent: Optional[Text] = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        return {
            "requested_slot": tracker.get_slot("requested_slot"),
            "active_loop": tracker.active_loop_name,
            "intent": intent,
            "paused": tracker.is_paused(),
            "latest_action": tracker.latest_action_name,
        }
