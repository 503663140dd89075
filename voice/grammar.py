"""Phrase hints for moments with a closed answer.

Vosk's small models accept a list of phrases at run time: decoding is then
restricted to them (plus ``[unk]`` for anything else), which makes «да»,
«нет» or a menu item far more reliable than free recognition, especially on
8 kHz audio. Big server models (``vosk-model-ru-0.42``) have a static graph
and ignore grammars; the adapter then recognises freely.

Which grammar applies is decided by what the assistant asked
(:func:`grammar_for`): a yes/no question, the application number (digits
and letter names), the date of birth (days, months, years), or the menu.
"""
from __future__ import annotations

import json
from typing import Iterable, List, Optional, Sequence

from voice.numbers import HUNDREDS, LETTER_NAMES, MONTHS, ORDINALS, TEENS, TENS, THOUSANDS, UNITS

UNK = "[unk]"

YES_NO: List[str] = ["да", "нет", "да конечно", "нет спасибо", "конечно", "верно", "неверно", "не знаю",
                     "повторите", "оператор"]

# Spoken menu of the phone greeting; each item maps to an intent payload.
MENU = {
    "статус заявления": "/check_application_status",
    "услуги": "/ask_service_info",
    "регистрация": "/ask_registration_help",
    "вход": "/ask_login_help",
    "техническая проблема": "/report_tech_issue",
    "запись в мфц": "/book_mfc_visit",
    "оператор": "/request_operator",
}

_NUMBER_WORDS = sorted(set(UNITS) | set(TEENS) | set(TENS) | set(HUNDREDS) | set(THOUSANDS))
_LETTERS = sorted(name for name in LETTER_NAMES if len(name) > 1 and name.isalpha() and not name.isascii())

DIGITS: List[str] = _NUMBER_WORDS + _LETTERS + ["дефис", "номер", "не помню", "оператор"]
DATES: List[str] = _NUMBER_WORDS + sorted(ORDINALS) + sorted(MONTHS) + ["года", "год", "не помню", "оператор"]


def phrases_json(phrases: Iterable[str], unknown: bool = True) -> str:
    """The JSON list Vosk's ``SetGrammar`` and ``KaldiRecognizer(…, grammar)`` take."""
    items = list(dict.fromkeys(p.strip().lower() for p in phrases if p.strip()))
    if unknown:
        items.append(UNK)
    return json.dumps(items, ensure_ascii=False)


def grammar_for(requested_slot: Optional[str], yes_no: bool = False) -> Optional[Sequence[str]]:
    """Phrases for the assistant's open question; None means free speech."""
    if requested_slot == "application_number":
        return DIGITS
    if requested_slot == "birth_date":
        return DATES
    if yes_no:
        return YES_NO
    return None


def match_menu(text: str) -> Optional[str]:
    """A menu item said alone («оператор», «статус заявления») → its payload."""
    return MENU.get(" ".join(text.lower().split()))
