"""Rasa buttons as VK bot keyboards, and button payloads back to Rasa.

A button is a VK `text` button whose payload is the JSON string
``{"command": "<Rasa payload>"}``; when the citizen presses it, VK sends the
label as the message text and the payload string in the message's `payload`
field, and `payload_command` gives the Rasa payload back.

VK's limits (bots keyboard docs): a label of at most 40 characters, a payload
of at most 255 characters, at most 5 buttons in a row; an inline keyboard has
at most 6 rows and 10 buttons, a standard one 10 rows and 40 buttons.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence

from vk_api.keyboard import MAX_BUTTONS_ON_LINE, VkKeyboard, VkKeyboardColor

MAX_LABEL = 40
MAX_PAYLOAD = 255
INLINE_ROWS, INLINE_BUTTONS = 6, 10
STANDARD_ROWS, STANDARD_BUTTONS = 10, 40

# VK's own «Начать» button in a new conversation sends this payload.
START_COMMAND = "start"


class PayloadStore:
    """Rasa payloads too long for VK's 255 characters, kept under a short key.

    Bounded: the oldest keys are forgotten; a press of such a forgotten button
    falls back to its label, which VK sends as the message text.
    """

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._items: "OrderedDict[str, str]" = OrderedDict()

    def put(self, payload: str) -> str:
        key = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
        self._items[key] = payload
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Optional[str]:
        return self._items.get(key)


def _label(title: str) -> str:
    title = " ".join(str(title).split())
    return title if len(title) <= MAX_LABEL else title[: MAX_LABEL - 1].rstrip() + "…"


def _payload(rasa_payload: str, store: PayloadStore) -> str:
    encoded = json.dumps({"command": rasa_payload}, ensure_ascii=False, separators=(",", ":"))
    if len(encoded) <= MAX_PAYLOAD:
        return encoded
    return json.dumps({"ref": store.put(rasa_payload)}, separators=(",", ":"))


def build_keyboards(buttons: Sequence[Dict[str, Any]], store: PayloadStore,
                    inline: bool = True) -> List[str]:
    """VK keyboard JSON strings for Rasa buttons (``title``/``payload``).

    More buttons than one keyboard holds are spread over several keyboards,
    in order. Buttons are laid out one per row while the rows last, then
    evenly a few per row.
    """
    per_keyboard = INLINE_BUTTONS if inline else STANDARD_BUTTONS
    max_rows = INLINE_ROWS if inline else STANDARD_ROWS
    usable = [b for b in buttons if str(b.get("title") or "").strip()]
    keyboards = []
    for start in range(0, len(usable), per_keyboard):
        chunk = usable[start:start + per_keyboard]
        per_row = min(MAX_BUTTONS_ON_LINE, max(1, math.ceil(len(chunk) / max_rows)))
        keyboard = VkKeyboard(one_time=not inline, inline=inline)
        for index, button in enumerate(chunk):
            if index and index % per_row == 0:
                keyboard.add_line()
            payload = button.get("payload")
            keyboard.add_button(
                _label(button["title"]),
                color=VkKeyboardColor.PRIMARY if index == 0 else VkKeyboardColor.SECONDARY,
                payload=_payload(str(payload), store) if payload else None,
            )
        keyboards.append(keyboard.get_keyboard())
    return keyboards


def payload_command(raw: Any, store: PayloadStore) -> Optional[str]:
    """The Rasa payload a pressed button carries, or None.

    `raw` is the message's `payload` field: a JSON string in VK's message
    object. A payload that is not ours (or is broken) gives None, so the
    caller falls back to the message text.
    """
    if not raw:
        return None
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    command = data.get("command")
    if isinstance(command, str) and command.strip():
        return "/greet" if command == START_COMMAND else command
    ref = data.get("ref")
    if isinstance(ref, str):
        return store.get(ref)
    return None
