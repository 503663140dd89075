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
import functools
import datetime as dt
import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

from hotline.entities import SNILS_RE

MASK = "***"
PERSONAL_SLOTS = frozenset({"birth_date", "full_name", "snils", "handoff_contact"})
PERSONAL_ENTITIES = frozenset({"birth_date", "full_name", "snils"})
# While the assistant asks for one of these, the whole reply is personal.
PERSONAL_QUESTIONS = PERSONAL_SLOTS
# The responses that ask for them (the form's question and its re-ask after
# an answer it could not read): where no requested_slot was recorded (an old
# tracker, a review window that starts after the form opened), the bot's last
# utterance still says the next reply is personal.
PERSONAL_QUESTION_RESPONSES = frozenset(
    f"utter_{kind}_{slot}" for slot in PERSONAL_QUESTIONS for kind in ("ask", "invalid"))

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


def mask_user_event(data: Dict[str, Any], requested_slot: Optional[str] = None,
                    asked: bool = False) -> Dict[str, Any]:
    """A copy of a serialised user event with personal data masked; the whole
    text when it answers a question for personal data (the form's requested
    slot, or `asked`: the bot's last utterance was such a question)."""
    masked = copy.deepcopy(data)
    parse = masked.get("parse_data") or {}
    entities = parse.get("entities") or []
    whole = asked or requested_slot in PERSONAL_QUESTIONS
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


def mask_event(data: Dict[str, Any], requested_slot: Optional[str] = None, asked: bool = False) -> Dict[str, Any]:
    """A copy of a serialised Rasa event with personal data masked.

    `requested_slot` is the form's open question when the event happened
    (only user events use it, like `asked`, see mask_user_event). Bot events, operator messages included (they
    are bot events with handoff metadata), get the same patterns.
    """
    event = data.get("event")
    if event == "slot" and data.get("name") in PERSONAL_SLOTS and data.get("value") is not None:
        return {**data, "value": MASK}
    if event == "user":
        return mask_user_event(data, requested_slot, asked)
    if event == "bot" and data.get("text"):
        return {**data, "text": mask_text(data["text"])}
    return data


def mask_events(events: Iterable[Dict[str, Any]], requested_slot: Optional[str] = None,
                asked: bool = False) -> List[Dict[str, Any]]:
    """mask_event over a sequence, following the form's requested slot and the
    bot's personal questions along the way; `requested_slot` and `asked` are
    their values before the first event (masking_context_after of the events
    stored before, for a store that masks a conversation in pieces)."""
    out = []
    for data in events:
        out.append(mask_event(data, requested_slot, asked))
        requested_slot, asked = _context_step(data, requested_slot, asked)
    return out


def masking_context_after(events: Iterable[Dict[str, Any]], requested_slot: Optional[str] = None,
                          asked: bool = False) -> Tuple[Optional[str], bool]:
    """(requested_slot, asked) after `events`: what masking the next user
    message depends on from the conversation before it."""
    for data in events:
        requested_slot, asked = _context_step(data, requested_slot, asked)
    return requested_slot, asked


def _context_step(data: Dict[str, Any], requested_slot: Optional[str], asked: bool) -> Tuple[Optional[str], bool]:
    kind = data.get("event")
    if kind == "bot":
        asked = asks_for_personal_data(data)
    elif kind == "user":
        asked = False
    if kind == "slot" and data.get("name") == "requested_slot":
        requested_slot = data.get("value")
    elif kind == "active_loop" and not data.get("name"):
        requested_slot = None
    return requested_slot, asked


def asks_for_personal_data(bot_event: Dict[str, Any]) -> bool:
    """Whether a serialised bot event is a question for a date of birth, a
    name, SNILS or a contact (its response name is in the event's metadata)."""
    metadata = bot_event.get("metadata") or {}
    return metadata.get("utter_action") in PERSONAL_QUESTION_RESPONSES


# Names: a citizen writes «меня зовут Иванова Мария Петровна» anywhere, not
# only when asked. pymorphy's dictionary knows first names, surnames and
# patronymics (grammemes Name, Surn, Patr) and guesses unknown surnames by
# their endings. A word is a name when its likeliest reading is one, or when
# it is capitalised and any reading is one; words next to a name that are
# capitalised or unknown to the dictionary belong to it (a rare surname).
# Over-masking a common word («Вера») is the price of never showing a name.
_NAME_GRAMMEMES = frozenset({"Name", "Surn", "Patr"})
_PATRONYMIC = re.compile(r"(?:ович|евич|ьич|овна|евна|ична|инична)$", re.I)
_WORD = re.compile(r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)?")
# Words of the hotline's own vocabulary whose likeliest reading is a name
# (found by running the training and held-out data through the rule).
_NOT_NAMES = frozenset({"инн", "макс", "кит", "майнинг", "чатик", "хелло", "прив", "домашку", "висю",
                        "госуслуги", "госуслуг", "мфц", "снилс", "пенсия"})
# After these words a capitalised or unknown word is a name.
_NAME_CUES = frozenset({"зовут", "фамилия", "фамилию", "фио", "имя", "отчество", "звать"})


def _name_reading(word: str) -> str:
    """'best' when the likeliest reading is a name, 'some' when any is, 'unknown'
    when the dictionary does not know the word, '' otherwise."""
    return _reading_of(word.lower())


# pymorphy's pure-Python dictionary takes ~2 ms a word; a hotline's
# vocabulary is small and repeats.
@functools.lru_cache(maxsize=100_000)
def _reading_of(word: str) -> str:
    from hotline.nlu.morph import analyzer

    parses = analyzer().parse(word)
    if not parses:
        return "unknown"
    if _NAME_GRAMMEMES & parses[0].tag.grammemes:
        return "best"
    if any(_NAME_GRAMMEMES & p.tag.grammemes for p in parses):
        return "some"
    if not parses[0].is_known:
        return "unknown"
    return ""


def mask_names(text: str) -> str:
    """The text with first names, surnames and patronymics replaced by MASK."""
    words = list(_WORD.finditer(text))
    marks = [False] * len(words)
    readings = []
    for i, match in enumerate(words):
        word = match.group()
        lower = word.lower()
        reading = "" if lower.replace("ё", "е") in _NOT_NAMES else _name_reading(word)
        readings.append(reading)
        # Capitals of a word in upper case say nothing (ПОМОГИТЕ, МВД).
        capital = word[:1].isupper() and not word.isupper()
        cued = i > 0 and words[i - 1].group().lower() in _NAME_CUES and (capital or reading in ("some", "unknown"))
        marks[i] = (reading == "best" or (reading == "some" and capital) or cued
                    or (capital and bool(_PATRONYMIC.search(word)) and len(word) > 5))
    # Spread to the neighbours of a name: capitalised words and words the
    # dictionary does not know («Гарипова Лейсан Рустамовна»).
    changed = True
    while changed:
        changed = False
        for i, match in enumerate(words):
            if marks[i]:
                continue
            near = (i > 0 and marks[i - 1]) or (i + 1 < len(words) and marks[i + 1])
            word = match.group()
            if near and (readings[i] in ("some", "unknown") or (word[:1].isupper() and not word.isupper())):
                marks[i] = changed = True
    out, last = [], 0
    for match, marked in zip(words, marks):
        if marked:
            out.append(text[last:match.start()])
            out.append(MASK)
            last = match.end()
    out.append(text[last:])
    masked = "".join(out)
    # «*** ***» reads as one masked name.
    return re.sub(rf"{re.escape(MASK)}(?:\s+{re.escape(MASK)})+", MASK, masked)


def mask_free_text(text: str) -> str:
    """Everything recognisable in free text a reviewer may read: dates,
    SNILS, application numbers, phone numbers, e-mail addresses and names."""
    return mask_names(_CONTACT.sub(MASK, _APPLICATION_NUMBER.sub(MASK, mask_text(text))))


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
        item["text"] = mask_free_text(text)
        if item.get("buttons"):
            item["buttons"] = [mask_text(str(b)) for b in item["buttons"]]
        out.append(item)
    return out
