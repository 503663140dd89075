"""Rasa responses in Telegram's shape: messages of at most 4,096 characters,
split where a reader expects a break, and Rasa buttons as inline keyboards.
"""
from __future__ import annotations

import base64
import hashlib
import re
from collections import OrderedDict
from typing import Any, Dict, Iterable, List, Optional

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

# Telegram counts message length in UTF-16 code units (an emoji outside the
# BMP counts twice).
MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
# callback_data that starts with this is a key of a payload kept server-side.
KEY_PREFIX = "~"

# From the cleanest break to the roughest: paragraph, line, sentence, word.
_BREAKS = (
    re.compile(r"\n[ \t]*\n\s*"),
    re.compile(r"\s*\n\s*"),
    re.compile(r"(?<=[.!?…;:])\s+"),
    re.compile(r"\s+"),
)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> List[str]:
    """`text` as messages of at most `limit` UTF-16 units.

    Breaks at paragraph, then line, then sentence, then word boundaries, and
    cuts inside a word only when a single word is longer than `limit`.
    Whitespace at a break is dropped; nothing else is lost or reordered.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    text = (text or "").strip()
    if not text:
        return []
    return [chunk for chunk in _split(text, limit, 0) if chunk]


def _split(text: str, limit: int, level: int) -> List[str]:
    if utf16_len(text) <= limit:
        return [text.strip()]
    if level == len(_BREAKS):
        return _hard_cut(text, limit)
    # Pieces alternate with the separators that stood between them.
    pieces: List[str] = []
    separators: List[str] = []
    position = 0
    for match in _BREAKS[level].finditer(text):
        if match.start() == 0:
            continue
        pieces.append(text[position:match.start()])
        separators.append(match.group())
        position = match.end()
    pieces.append(text[position:])
    if len(pieces) == 1:
        return _split(text, limit, level + 1)

    chunks: List[str] = []
    current = ""
    for index, piece in enumerate(pieces):
        if not piece:
            continue
        joined = current + separators[index - 1] + piece if current else piece
        if utf16_len(joined.strip()) <= limit:
            current = joined
            continue
        if current.strip():
            chunks.append(current.strip())
        if utf16_len(piece) <= limit:
            current = piece
        else:
            parts = _split(piece, limit, level + 1)
            chunks.extend(parts[:-1])
            current = parts[-1] if parts else ""
    if current.strip():
        chunks.append(current.strip())
    return chunks


def _hard_cut(text: str, limit: int) -> List[str]:
    chunks, current, size = [], [], 0
    for char in text:
        width = utf16_len(char)
        if size + width > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        chunks.append("".join(current))
    return chunks


def payload_key(payload: str) -> str:
    """A short, deterministic callback_data for a long payload (23 ASCII bytes)."""
    digest = hashlib.sha256(payload.encode("utf-8")).digest()
    return KEY_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii")[:22]


def fits_callback_data(payload: str) -> bool:
    return (0 < len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            and not payload.startswith(KEY_PREFIX))


class PayloadStore:
    """Payloads too long for callback_data (64 bytes), under a short key.

    Bounded: the oldest keys are forgotten first. Keys are hashes of the
    payload, so after a restart a key of any button defined in the domain can
    be found again (see TelegramInput._resolve_payload).
    """

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._payloads: "OrderedDict[str, str]" = OrderedDict()

    def callback_data(self, payload: str) -> str:
        if fits_callback_data(payload):
            return payload
        key = payload_key(payload)
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self.capacity:
            self._payloads.popitem(last=False)
        return key

    def resolve(self, data: str) -> Optional[str]:
        """The payload behind callback_data, or None for an unknown key."""
        if not data.startswith(KEY_PREFIX):
            return data
        return self._payloads.get(data)

    def resolve_or_find(self, data: str, responses: Any) -> Optional[str]:
        """`resolve`, and for a key not in memory (a restart since the
        keyboard was sent) the button of the domain's responses with that key."""
        payload = self.resolve(data) if data else None
        if payload is None and data.startswith(KEY_PREFIX):
            for candidate in keyboard_payloads([responses or {}]):
                if payload_key(candidate) == data:
                    self.callback_data(candidate)
                    return candidate
        return payload

    def __len__(self) -> int:
        return len(self._payloads)


def _is_url(payload: str) -> bool:
    return payload.startswith(("https://", "http://", "tg://"))


def build_keyboard(buttons: Iterable[Dict[str, Any]], store: PayloadStore) -> Optional[InlineKeyboardMarkup]:
    """Rasa buttons as an inline keyboard, one button per row.

    Russian button titles are long; a column reads well on a phone. A payload
    that is a URL becomes a link button; any other payload travels in
    callback_data, or server-side under a key when longer than 64 bytes.
    """
    markup = InlineKeyboardMarkup(row_width=1)
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "").strip()
        payload = str(button.get("payload") or button.get("url") or title).strip()
        if not title or not payload:
            continue
        if button.get("url") or _is_url(payload):
            markup.row(InlineKeyboardButton(title, url=str(button.get("url") or payload)))
        else:
            markup.row(InlineKeyboardButton(title, callback_data=store.callback_data(payload)))
    return markup if markup.inline_keyboard else None


def keyboard_payloads(buttons_source: Iterable[Any]) -> Iterable[str]:
    """Every button payload found in a nested structure of Rasa responses."""
    stack = list(buttons_source)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "buttons" and isinstance(value, list):
                    for button in value:
                        if isinstance(button, dict) and button.get("payload"):
                            yield str(button["payload"]).strip()
                elif isinstance(value, (list, dict)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
