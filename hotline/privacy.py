"""Masking of personal data before it is stored or logged.

Dates of birth and SNILS numbers are needed for one verification and never
afterwards, so the tracker store keeps them masked (see
hotline/tracker_store.py) and log lines never carry them.
"""
from __future__ import annotations

import copy
import re
from typing import Any, Dict

MASK = "***"
PERSONAL_SLOTS = frozenset({"birth_date", "full_name", "snils"})
PERSONAL_ENTITIES = frozenset({"birth_date", "full_name", "snils"})

_MONTHS = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
_PATTERNS = [
    re.compile(r"(?<!\d)\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?!\d)"),
    re.compile(r"(?<!\d)\d{4}-\d{1,2}-\d{1,2}(?!\d)"),
    re.compile(rf"(?<!\d)\d{{1,2}}\s+(?:{_MONTHS})(?:\s+\d{{2,4}})?", re.I),
    re.compile(r"(?<!\d)\d{3}[-\s]?\d{3}[-\s]?\d{3}[-\s]?\d{2}(?!\d)"),  # СНИЛС
]


def mask_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def mask_event(data: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of a serialised Rasa event with personal data masked."""
    event = data.get("event")
    if event == "slot" and data.get("name") in PERSONAL_SLOTS and data.get("value") is not None:
        return {**data, "value": MASK}
    if event == "user":
        masked = copy.deepcopy(data)
        if masked.get("text"):
            masked["text"] = mask_text(masked["text"])
        parse = masked.get("parse_data") or {}
        if parse.get("text"):
            parse["text"] = mask_text(parse["text"])
        for entity in parse.get("entities") or []:
            if entity.get("entity") in PERSONAL_ENTITIES:
                entity["value"] = MASK
        return masked
    return data
