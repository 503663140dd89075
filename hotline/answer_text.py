"""The domain's responses as a citizen receives them, for checks and reports.

A response text is rendered with the deployment defaults (the contact slots'
initial values) and a one-word sample for what an action fills in, then
measured in words and sentences. Used by the answer tests
(tests/test_answers_*.py) and by bench/answers_report.py, so both count the
same way.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Optional, Tuple

# Filled by actions at run time rather than from slots.
ACTION_FILLED = frozenset({
    "service_name", "status_number", "status_service", "status_submitted", "status_expected",
    "status_missing", "status_instructions",
    # actions/handoff.py
    "handoff_ticket", "handoff_position", "handoff_wait", "handoff_hours", "handoff_expect",
})
VOICE = "voice"
# Contact placeholders a caller cannot use by ear (and is already on the line).
NOT_ON_THE_PHONE = frozenset({"portal_url", "support_email", "hotline_phone"})

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WORD = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+(?:[\u2011\-.][0-9A-Za-zА-Яа-яЁё]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def variations(domain: Dict[str, Any]) -> Iterator[Tuple[str, Dict[str, Any]]]:
    for name, items in (domain.get("responses") or {}).items():
        for item in items:
            yield name, item


def is_voice(variation: Dict[str, Any]) -> bool:
    return variation.get("channel") == VOICE


def slot_defaults(domain: Dict[str, Any]) -> Dict[str, str]:
    return {name: str(slot["initial_value"]) for name, slot in (domain.get("slots") or {}).items()
            if slot.get("initial_value") is not None}


def render(text: str, defaults: Dict[str, str], sample: str = "значение") -> str:
    """The text with slots at their defaults and action values as `sample`."""
    def fill(match: re.Match) -> str:
        name = match.group(1)
        return defaults.get(name, sample)
    return _PLACEHOLDER.sub(fill, text)


def static_text(text: str) -> str:
    """The text without its placeholders: what the response itself asserts."""
    return _PLACEHOLDER.sub(" ", text)


def placeholders(text: str) -> List[str]:
    return _PLACEHOLDER.findall(text)


def words(text: str) -> List[str]:
    return _WORD.findall(text)


def sentences(text: str) -> List[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def word_count(text: Optional[str], defaults: Dict[str, str]) -> int:
    return len(words(render(text or "", defaults)))


def counts(domain: Dict[str, Any]) -> Dict[str, Tuple[int, Optional[int]]]:
    """Response name -> (longest chat variation, longest voice variation or None), in words."""
    defaults = slot_defaults(domain)
    result: Dict[str, Tuple[int, Optional[int]]] = {}
    for name, variation in variations(domain):
        chat, voice = result.get(name, (0, None))
        n = word_count(variation.get("text"), defaults)
        if is_voice(variation):
            voice = max(voice or 0, n)
        else:
            chat = max(chat, n)
        result[name] = (chat, voice)
    return result
