"""Rasa buttons as a MAX inline keyboard of callback buttons.

Payloads travel as Telegram's do (connectors.telegram.formatting): short ones
as they are, long ones server-side under a short hashed key, so a key of any
domain button is found again after a restart.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from connectors.telegram.formatting import PayloadStore

MAX_MESSAGE_LENGTH = 4000
MAX_BUTTON_TEXT = 128
MAX_ROWS = 30


def _is_url(payload: str) -> bool:
    return payload.startswith(("https://", "http://"))


def _text(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_BUTTON_TEXT else title[:MAX_BUTTON_TEXT - 1].rstrip() + "…"


def build_keyboard(buttons: Iterable[Dict[str, Any]], store: PayloadStore) -> Optional[Dict[str, Any]]:
    """The ``inline_keyboard`` attachment for Rasa buttons, one per row (a
    column of long Russian titles reads well on a phone), or None."""
    rows: List[List[Dict[str, Any]]] = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "").strip()
        payload = str(button.get("payload") or button.get("url") or title).strip()
        if not title or not payload:
            continue
        if button.get("url") or _is_url(payload):
            rows.append([{"type": "link", "text": _text(title), "url": str(button.get("url") or payload)}])
        else:
            rows.append([{"type": "callback", "text": _text(title), "payload": store.callback_data(payload)}])
    if not rows:
        return None
    return {"type": "inline_keyboard", "payload": {"buttons": rows[:MAX_ROWS]}}
