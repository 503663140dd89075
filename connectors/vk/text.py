"""Splitting long replies for VK's 4,096-character message limit."""
from __future__ import annotations

import re
from typing import List

# messages.send rejects a `message` longer than this (error 914).
MAX_MESSAGE_LENGTH = 4096

# Where a cut is cleanest, best first: a paragraph, a line, a sentence, a word.
_BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…;:])\s+"),
    re.compile(r"\s+"),
)


def split_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> List[str]:
    """Cut `text` into pieces of at most `limit` characters.

    Each cut is made at the last paragraph break that fits, else the last
    line break, sentence end or space; a word longer than the limit is cut
    hard. Whitespace at the cut is dropped, nothing else is lost.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    pieces: List[str] = []
    while len(text) > limit:
        cut = _cut_position(text, limit)
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            pieces.append(head)
    if text:
        pieces.append(text)
    return pieces


def _cut_position(text: str, limit: int) -> int:
    window = text[: limit + 1]  # a break right after the limit still counts
    for pattern in _BREAKS:
        # the last break that keeps the head within the limit and non-trivial
        ends = [m.start() for m in pattern.finditer(window) if 0 < m.start() <= limit]
        if ends and ends[-1] >= limit // 4:
            return ends[-1]
    return limit
