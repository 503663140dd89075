"""Masking of personal data before it is stored, logged or shown.

Dates of birth, names, SNILS numbers and contact details are needed for one
verification or one handoff and never afterwards, so the tracker store keeps
them masked (see hotline/rasa/tracker_store.py) and log lines never carry them.

Patterns catch what can be recognised anywhere («12.03.1985», «12 03 1985»,
«12031985», «1985.03.12», en-dashes, «12 марта 1985», SNILS). What cannot be
recognised by shape (a name, a date in an unforeseen format) is masked by
context: a reply to the assistant's question for a date of birth, a name,
SNILS or a contact is stored masked as a whole (mask_user_event with the
requested slot).
"""
from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any, Dict, Iterable, List, Optional

from hotline.entities import SNILS_RE

MASK = "***"
PERSONAL_SLOTS = frozenset({"birth_date", "full_name", "snils", "handoff_contact"})
PERSONAL_ENTITIES = frozenset({"birth_date", "full_name", "snils"})
# While the assistant asks for one of these, the whole reply is personal.
PERSONAL_QUESTIONS = PERSONAL_SLOTS

_MONTHS = ("января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
           "|янв|фев|мар|апр|июн|июл|авг|сен|сент|окт|ноя|дек")
# Any dash a keyboard or a word processor produces, a dot, a slash, a space.
_SEP = r"[./\\\-‐‑‒–—―−_\s]"
_PATTERNS = [
    # day month year, year month day: «12.03.1985», «12 03 1985», «12–03–1985», «1985.03.12»
    re.compile(rf"(?<!\d)\d{{1,2}}\s*{_SEP}\s*\d{{1,2}}\s*{_SEP}\s*\d{{2,4}}(?!\d)"),
    re.compile(rf"(?<!\d)\d{{4}}\s*{_SEP}\s*\d{{1,2}}\s*{_SEP}\s*\d{{1,2}}(?!\d)"),
    re.compile(rf"(?<!\d)\d{{1,2}}(?:-?го|-?е)?\s+(?:{_MONTHS})\.?(?:\s+\d{{2,4}}(?:\s*г(?:ода?)?\.?)?)?", re.I),
    SNILS_RE,
]
_EIGHT_DIGITS = re.compile(r"(?<!\d)\d{8}(?!\d)")
# Application numbers (10 digits, or 2 letters and 9 digits), for transcripts
# shown before an operator takes the ticket.
_APPLICATION_NUMBER = re.compile(
    r"(?<![\w])(?:[A-Za-zА-Яа-яЁё]{2}\s*[-‐‑–—]?\s*\d{3}\s*\d{3}\s*\d{3}|\d{10})(?![\w])")

# Phone numbers and e-mail addresses, for the same transcripts (the tracker
# store already masks the contact a citizen gave the handoff form).
_CONTACT = re.compile(
    r"(?<![\w+])(?:\+7|8)[\s(‐‑–—-]*\d{3}[\s)‐‑–—-]*\d{3}[\s‐‑–—-]*\d{2}[\s‐‑–—-]*\d{2}(?!\d)"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _looks_like_date(digits: str) -> bool:
    """«12031985» (ddmmyyyy) or «19850312» (yyyymmdd)."""
    for day, month, year in ((digits[:2], digits[2:4], digits[4:]), (digits[6:], digits[4:6], digits[:4])):
        try:
            dt.date(int(year), int(month), int(day))
        except ValueError:
            continue
        if 1900 <= int(year) <= 2100:
            return True
    return False


def mask_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return _EIGHT_DIGITS.sub(lambda m: MASK if _looks_like_date(m.group()) else m.group(), text)


def _mask_entity_spans(text: str, entities: Iterable[Dict[str, Any]]) -> str:
    """Cut out the spans of personal entities the NLU found (a name in a sentence)."""
    spans = sorted(((e.get("start"), e.get("end")) for e in entities
                    if e.get("entity") in PERSONAL_ENTITIES and isinstance(e.get("start"), int)
                    and isinstance(e.get("end"), int)), reverse=True)
    for start, end in spans:
        if 0 <= start < end <= len(text):
            text = text[:start] + MASK + text[end:]
    return text


def mask_user_event(data: Dict[str, Any], requested_slot: Optional[str] = None) -> Dict[str, Any]:
    """A copy of a serialised user event with personal data masked; the whole
    text when it answers a question for personal data."""
    masked = copy.deepcopy(data)
    parse = masked.get("parse_data") or {}
    entities = parse.get("entities") or []
    whole = requested_slot in PERSONAL_QUESTIONS
    if masked.get("text"):
        masked["text"] = MASK if whole else mask_text(_mask_entity_spans(masked["text"], entities))
    if parse.get("text"):
        parse["text"] = MASK if whole else mask_text(_mask_entity_spans(parse["text"], entities))
    for entity in entities:
        if whole or entity.get("entity") in PERSONAL_ENTITIES:
            entity["value"] = MASK
            if "text" in entity:
                entity["text"] = MASK
    return masked


def mask_event(data: Dict[str, Any], requested_slot: Optional[str] = None) -> Dict[str, Any]:
    """A copy of a serialised Rasa event with personal data masked.

    `requested_slot` is the form's open question when the event happened
    (only user events use it). Bot events, operator messages included (they
    are bot events with handoff metadata), get the same patterns.
    """
    event = data.get("event")
    if event == "slot" and data.get("name") in PERSONAL_SLOTS and data.get("value") is not None:
        return {**data, "value": MASK}
    if event == "user":
        return mask_user_event(data, requested_slot)
    if event == "bot" and data.get("text"):
        return {**data, "text": mask_text(data["text"])}
    return data


def mask_events(events: Iterable[Dict[str, Any]], requested_slot: Optional[str] = None) -> List[Dict[str, Any]]:
    """mask_event over a sequence, following the form's requested slot along
    the way; `requested_slot` is its value before the first event."""
    out = []
    for data in events:
        out.append(mask_event(data, requested_slot))
        if data.get("event") == "slot" and data.get("name") == "requested_slot":
            requested_slot = data.get("value")
        elif data.get("event") == "active_loop" and not data.get("name"):
            requested_slot = None
    return out


def mask_transcript(items: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A waiting ticket's transcript as an operator may read it before taking
    the ticket (handoff.service.transcript_from_tracker items): personal data,
    application numbers and the bot's status answers are masked."""
    out = []
    for item in items:
        item = dict(item)
        text = str(item.get("text") or "")
        if item.get("who") == "bot" and str(item.get("response") or "").startswith("utter_status_"):
            text = "[ответ о статусе заявления скрыт]"
        item["text"] = _CONTACT.sub(MASK, _APPLICATION_NUMBER.sub(MASK, mask_text(text)))
        if item.get("buttons"):
            item["buttons"] = [mask_text(str(b)) for b in item["buttons"]]
        out.append(item)
    return out
