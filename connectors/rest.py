"""Rasa's REST channel with the sender kept in its own namespace.

Same URL (``/webhooks/rest/webhook``), body and answers as Rasa's ``rest``
channel, with two differences that keep an unauthenticated client inside
its own conversations (connectors/conversation_ids.py):

* the conversation is ``rest_<sender>``, so no ``sender`` can name a
  Telegram, VK, widget or phone conversation;
* the input channel is always ``rest``: Rasa's ``input_channel`` body field
  would let a client pass for another channel (response variations, the
  operator ticket's channel).

A missing or unusable ``sender`` (not a string or number, empty, over 128
characters) is refused with 400 instead of landing in Rasa's shared
``default`` conversation.

credentials.yml::

    connectors.rest.RestInput:
"""
from __future__ import annotations

from typing import Optional, Text

from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from connectors.conversation_ids import rest_conversation_id
from hotline.rasa.version_guard import require_rasa

# Overrides RestInput's private _extract_sender and _extract_input_channel.
require_rasa(__name__)

BAD_SENDER = ("Поле sender обязательно: строка или число до 128 символов, "
              "по которому ассистент узнаёт ваш разговор.")


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        body = req.json if isinstance(req.json, dict) else {}
        sender = rest_conversation_id(body.get("sender"))
        if sender is None:
            raise InvalidUsage(BAD_SENDER)
        return sender

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()
