"""Normalisation and validation of the entity values citizens type.

Shared by the NLU pipeline (normalising what the regexes found) and by the
action server (validating form slots), so both agree on one canonical form.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

# Citizens often type the letter prefix on a Russian keyboard; these Cyrillic
# letters look exactly like the Latin ones printed on the documents.
_CYRILLIC_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_DASH_CLASS = "\\" + _DASHES  # escaped so "-" is no range inside [...]

APPLICATION_NUMBER_RE = re.compile(
    rf"(?<![\w{_DASH_CLASS}])(?:\d{{10}}|[A-Za-zАВЕКМНОРСТУХавекмнорстух]{{2}}[{_DASH_CLASS}]?\d{{9}})(?![\w{_DASH_CLASS}])"
)
# SNILS as people type it: 11 digits, grouped 3-3-3-2 by spaces or any dash.
# The one pattern: hotline.privacy masks with it.
SNILS_RE = re.compile(rf"(?<!\d)\d{{3}}[\s{_DASH_CLASS}]?\d{{3}}[\s{_DASH_CLASS}]?\d{{3}}[\s{_DASH_CLASS}]?\d{{2}}(?!\d)")

MONTHS_GENITIVE = {
    "января": 1,
    "февраля": 2,
    "марта": 3,
    "апреля": 4,
    "мая": 5,
    "июня": 6,
    "июля": 7,
    "августа": 8,
    "сентября": 9,
    "октября": 10,
    "ноября": 11,
    "декабря": 12,
}
MONTHS_GENITIVE_BY_NUMBER = {v: k for k, v in MONTHS_GENITIVE.items()}


def normalize_application_number(text: str) -> Optional[str]:
    """«ab‑987654321» → «AB-987654321», «1234567890» stays; None if invalid."""
    candidate = text.strip().upper().translate(_CYRILLIC_LOOKALIKES)
    for dash in _DASHES:
        candidate = candidate.replace(dash, "")
    candidate = re.sub(r"\s+", "", candidate)
    if re.fullmatch(r"\d{10}", candidate):
        return candidate
    if re.fullmatch(r"[A-Z]{2}\d{9}", candidate):
        return f"{candidate[:2]}-{candidate[2:]}"
    return None


def snils_checksum_ok(text: str) -> bool:
    """Verify the control number of a СНИЛС («123-456-789 01» style).

    The Pension Fund's rule: weights 9..1 over the nine digits; the sum mod
    101 (with 100 and 101 becoming 00) must equal the last two digits.
    Numbers up to 001-001-998 predate the checksum and are accepted.
    """
    digits = re.sub(r"\D", "", text)
    if len(digits) != 11:
        return False
    body, control = digits[:9], int(digits[9:])
    if int(body) <= 1001998:
        return True
    total = sum(int(d) * w for d, w in zip(body, range(9, 0, -1)))
    if total > 101:
        total %= 101
    if total in (100, 101):
        total = 0
    return total == control


def parse_birth_date(text: str, today: Optional[dt.date] = None) -> Optional[dt.date]:
    """Parse «12.03.1985», «12 марта 1985 г.», «1985-03-12» to a date.

    Only unambiguous forms with a four-digit year are accepted; anything else
    (two-digit years, «12/03/85», month-first) returns None so that the bot
    asks again instead of guessing. Dates in the future or more than 130
    years back are rejected too.
    """
    today = today or dt.date.today()
    s = re.sub(r"\s+", " ", text.strip().lower().replace("ё", "е"))
    s = re.sub(r"\s*(г\.?|года?)$", "", s)
    date = None
    if m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", s):
        date = _safe_date(int(m[3]), int(m[2]), int(m[1]))
    elif m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s):
        date = _safe_date(int(m[1]), int(m[2]), int(m[3]))
    elif (m := re.fullmatch(r"(\d{1,2}) ([а-я]+) (\d{4})", s)) and m[2] in MONTHS_GENITIVE:
        date = _safe_date(int(m[3]), MONTHS_GENITIVE[m[2]], int(m[1]))
    if date is None or date > today or date.year < today.year - 130:
        return None
    return date


def _safe_date(year: int, month: int, day: int) -> Optional[dt.date]:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def russian_date(date: dt.date) -> str:
    """«12 марта 2025 года»: ends a sentence without «г..»."""
    return f"{date.day} {MONTHS_GENITIVE_BY_NUMBER[date.month]} {date.year} года"
