"""Keypad input: digits typed during the call become what the caller means.

* ``0`` pressed on its own asks for an operator (at once when no number is
  being typed; as the whole entry ``0#`` otherwise);
* digits end with ``#`` or after ``inter_digit_s`` without a key (a single
  menu digit with no question open: after ``menu_digit_s``); ``*`` clears
  what was typed;
* while the assistant asks for the application number, the digits are the
  number; while it asks for the date of birth, eight digits ``ДДММГГГГ``
  become «12.03.1985»;
* with no question open, one digit picks an item of the spoken menu and ten
  digits start a status check for that number.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Optional

from hotline.entities import normalize_application_number, parse_birth_date

OPERATOR = "operator"

# The phone menu the voice greeting and fallback read out (domain.yml; tests/test_answers_voice.py
# checks that they announce these keys).
KEYPAD_MENU = {
    "1": "/check_application_status",
    "2": "/ask_service_info",
    "3": "/ask_registration_help",
    "4": "/report_tech_issue",
    "5": "/book_mfc_visit",
    "9": "/repeat",  # handled by the dialogue: say the last answer again
}


@dataclass
class KeypadInput:
    """A finished keypad entry: a message for the assistant or the operator request."""

    message: Optional[str]
    action: Optional[str] = None  # OPERATOR
    digits: str = ""


class DTMFCollector:
    def __init__(self, inter_digit_s: float = 3.0, menu_digit_s: float = 1.5) -> None:
        self.inter_digit_s = inter_digit_s
        self.menu_digit_s = menu_digit_s  # one menu digit with no question open: answer sooner
        self.buffer = ""
        self.expect: Optional[str] = None
        self.last_key_at: Optional[float] = None

    @property
    def wait_s(self) -> float:
        """How long after the last key the entry counts as finished."""
        if self.expect is None and len(self.buffer) == 1 and self.buffer in KEYPAD_MENU:
            return self.menu_digit_s
        return self.inter_digit_s

    @property
    def typing(self) -> bool:
        return bool(self.buffer)

    def press(self, key: str, now: float, expect: Optional[str] = None) -> Optional[KeypadInput]:
        """A key; returns the finished entry when this key completes one."""
        self.last_key_at = now
        self.expect = expect
        if key == "*":
            self.buffer = ""
            return None
        if key == "#":
            return self.finish(expect)
        if key not in "0123456789":
            return None  # A–D: not used
        if key == "0" and not self.buffer and expect is None:
            return KeypadInput(None, OPERATOR, "0")
        self.buffer += key
        return None  # a menu digit waits menu_digit_s: «1» may start a ten-digit number

    def timed_out(self, now: float) -> bool:
        return bool(self.buffer) and self.last_key_at is not None and now - self.last_key_at >= self.wait_s

    def finish(self, expect: Optional[str] = None, today: Optional[dt.date] = None) -> Optional[KeypadInput]:
        digits, self.buffer = self.buffer, ""
        if not digits:
            return None
        return interpret(digits, expect, today)


def interpret(digits: str, expect: Optional[str], today: Optional[dt.date] = None) -> KeypadInput:
    if digits == "0":
        return KeypadInput(None, OPERATOR, digits)
    if expect == "birth_date":
        if len(digits) == 8:
            text = f"{digits[:2]}.{digits[2:4]}.{digits[4:]}"
            if parse_birth_date(text, today=today):
                return KeypadInput(text, digits=digits)
        return KeypadInput(digits, digits=digits)  # the assistant says the date is not valid
    if expect == "application_number":
        return KeypadInput(digits, digits=digits)
    if expect == "full_name":
        # A surname cannot be keyed in: the digits go as typed, and the
        # assistant asks to say the surname again.
        return KeypadInput(digits, digits=digits)
    if len(digits) == 1 and digits in KEYPAD_MENU:
        return KeypadInput(KEYPAD_MENU[digits], digits=digits)
    number = normalize_application_number(digits)
    if number:
        payload = json.dumps({"application_number": number})
        return KeypadInput(f"/check_application_status{payload}", digits=digits)
    return KeypadInput(digits, digits=digits)
