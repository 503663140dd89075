"""Rasa conversation ids of messenger chats: «<platform>_<chat id>».

Stable across restarts and updates, so a citizen's conversation continues;
the operator handoff turns them back into the platform's chat id to reply.
"""
from __future__ import annotations

from typing import Any


def conversation_id(prefix: str, chat_id: Any) -> str:
    return f"{prefix}{int(chat_id)}"


def platform_chat_id(prefix: str, recipient_id: Any) -> int:
    """Chat id from a conversation id («telegram_123») or a bare chat id."""
    value = str(recipient_id)
    if value.startswith(prefix):
        value = value[len(prefix):]
    return int(value)
