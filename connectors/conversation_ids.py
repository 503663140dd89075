"""Rasa conversation ids, one namespace per input channel.

Messenger chats are «<platform>_<chat id>» (``telegram_``, ``vk_``): stable
across restarts and updates, so a citizen's conversation continues; the
operator handoff turns them back into the platform's chat id to reply. Each
channel derives the id from what it authenticated and only from that:

* Telegram / VK: the chat or peer of an update that passed the secret check;
* REST: the client's ``sender``, always inside ``rest_`` — REST has no
  authentication, so it must never reach another channel's conversation
  (``{"sender": "telegram_42"}`` becomes ``rest_telegram_42``);
* socket.io: a server-issued ``web_…`` session bound to a signed token
  (connectors/webchat/channel.py);
* voice: ``phone_<call uuid>`` from the authenticated phone server.
"""
from __future__ import annotations

from typing import Any, Optional

REST_PREFIX = "rest_"
MAX_SENDER_CHARS = 128


def conversation_id(prefix: str, chat_id: Any) -> str:
    return f"{prefix}{int(chat_id)}"


def platform_chat_id(prefix: str, recipient_id: Any) -> int:
    """Chat id from a conversation id («telegram_123») or a bare chat id."""
    value = str(recipient_id)
    if value.startswith(prefix):
        value = value[len(prefix):]
    return int(value)


def rest_conversation_id(sender: Any) -> Optional[str]:
    """The REST client's conversation: ``rest_<sender>``; None for a missing or unusable sender."""
    if isinstance(sender, bool) or not isinstance(sender, (str, int)):
        return None
    value = str(sender).strip()
    if not value or len(value) > MAX_SENDER_CHARS or not value.isprintable():
        return None
    return f"{REST_PREFIX}{value}"
