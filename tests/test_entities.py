"""Entity formats: the regexes in the training data and the validators the
actions use must agree on every form the contract names."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from helpers import ROOT, load_yaml
from hotline.entities import (
    APPLICATION_NUMBER_RE,
    normalize_application_number,
    parse_birth_date,
    russian_date,
    snils_checksum_ok,
)


def _data_regexes(name):
    blocks = load_yaml(ROOT / "data" / "nlu" / "entity_patterns.yml")["nlu"]
    block = next(b for b in blocks if b.get("regex") == name)
    return [re.compile(l[2:].strip(), re.I) for l in block["examples"].splitlines() if l.startswith("- ")]


NUMBERS = [
    ("1234567890", "1234567890"),
    ("AB‑987654321", "AB-987654321"),  # U+2011, as the article prints it
    ("ab-987654321", "AB-987654321"),
    ("AB–987654321", "AB-987654321"),
    ("AB987654321", "AB-987654321"),
    ("АВ-987654321", "AB-987654321"),  # Cyrillic letters typed on a Russian keyboard
]
NOT_NUMBERS = ["123456789", "12345678901", "A-987654321", "ABC-987654321", "AB-98765432", "+79161234567"]


@pytest.mark.parametrize("text,expected", NUMBERS)
def test_application_number_forms(text, expected):
    assert normalize_application_number(text) == expected
    message = f"статус заявки {text} пожалуйста"
    assert APPLICATION_NUMBER_RE.search(message)[0] == text
    assert any(r.search(message) and r.search(message)[0] == text for r in _data_regexes("application_number"))


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_not_application_numbers(text):
    assert normalize_application_number(text) is None
    message = f"номер {text} тут"
    assert not APPLICATION_NUMBER_RE.search(message)
    assert not any(r.search(message) for r in _data_regexes("application_number"))


@pytest.mark.parametrize(
    "text,expected",
    [("12.03.1985", dt.date(1985, 3, 12)), ("12 марта 1985", dt.date(1985, 3, 12)),
     ("1985-03-12", dt.date(1985, 3, 12)), ("1 января 1990 г.", dt.date(1990, 1, 1)),
     ("23 февраля 1978 года", dt.date(1978, 2, 23))],
)
def test_birth_date_forms(text, expected):
    assert parse_birth_date(text) == expected
    assert any(r.search(f"родился {text}") for r in _data_regexes("birth_date"))


@pytest.mark.parametrize("text", ["12/03/85", "12.03.85", "31.02.1990", "03-12-1985", "вчера", "1 января 2999"])
def test_ambiguous_or_impossible_dates_are_not_guessed(text):
    assert parse_birth_date(text) is None


def test_russian_date_format():
    assert russian_date(dt.date(2025, 3, 12)) == "12 марта 2025 года"


def test_snils_checksum():
    assert snils_checksum_ok("112-233-445 95")
    assert snils_checksum_ok("123-456-789 64")
    assert not snils_checksum_ok("123-456-789 01")
    assert not snils_checksum_ok("123-456-789")
    assert any(r.search("снилс 123-456-789 64") for r in _data_regexes("snils"))
