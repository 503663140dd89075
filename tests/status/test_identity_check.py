"""The identity check the article describes — number + name + date of birth —
against a real store (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from hotline.status import verify, verify_on
from hotline.db.engine import get_engine
from hotline.status.importer import import_csv

BORN = dt.date(1990, 7, 1)


@pytest.fixture
def records(store, write_csv, row):
    import_csv(write_csv(
        row(number="AB-987654321", full_name="Петрова Анна Сергеевна", birth_date="1990-07-01"),
        row(number="1000000001", full_name="Римская-Корсакова Алёна Петровна", birth_date="1990-07-01"),
        row(number="1000000002", full_name="Щербаков Юрий", birth_date="1990-07-01"),
        row(number="1000000003", full_name="Фёдоров Пётр Ильич", birth_date="1990-07-01"),
    ), store)
    return store


@pytest.mark.parametrize("number, given", [
    ("AB-987654321", "Петрова"),
    ("AB-987654321", "ПЕТРОВА анна"),
    ("AB-987654321", "Петровой"),                  # inflected: «заявление Петровой»
    ("AB-987654321", "Петровой Анны Сергеевны"),
    ("AB-987654321", "Анна Петрова"),              # any order
    ("AB-987654321", "Петрова А. С."),             # initials
    ("AB-987654321", "Petrova Anna"),              # Latin keyboard
    ("1000000001", "Римская-Корсакова"),
    ("1000000001", "римская – корсакова алена"),  # dash with spaces, ё written as е
    ("1000000001", "Римской-Корсаковой"),
    ("1000000001", "Rimskaya-Korsakova"),
    ("1000000002", "Shcherbakov Yuriy"),
    ("1000000003", "Федоров Петр Ильич"),
    ("1000000003", "Фёдорову"),
])
def test_the_name_matches_after_normalisation(records, number, given):
    assert verify(number, BORN, given, url=records) is not None


@pytest.mark.parametrize("number, given", [
    ("AB-987654321", "Петров"),                    # another person, not an inflected form
    ("AB-987654321", "Петрова Мария"),             # a first name that contradicts the record
    ("AB-987654321", "Петрова Анна Ивановна"),     # a patronymic that contradicts it
    ("AB-987654321", "Анна Сергеевна"),            # no surname
    ("AB-987654321", "Петрова Анна Сергеевна Ивановна"),
    ("AB-987654321", "Иванова"),
    ("1000000001", "Римская"),                     # half a double surname
    ("1000000001", "Корсакова-Римская"),
    ("1000000003", "Федоровой"),                 # the feminine form is another person
    ("AB-987654321", ""),
    ("AB-987654321", None),
])
def test_a_name_that_contradicts_the_record_fails(records, number, given):
    assert verify(number, BORN, given, url=records) is None


def test_the_right_name_does_not_rescue_a_wrong_date_or_number(records):
    assert verify("AB-987654321", BORN + dt.timedelta(days=1), "Петрова", url=records) is None
    assert verify("AB-987654322", BORN, "Петрова", url=records) is None


def test_unknown_number_wrong_name_and_wrong_date_do_the_same_database_work(records):
    engine = get_engine(records)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        work = {}
        for case, (number, born, name) in {
            "unknown number": ("9999999999", BORN, "Петрова"),
            "wrong name": ("AB-987654321", BORN, "Сидорова"),
            "wrong date": ("AB-987654321", BORN.replace(day=2), "Петрова"),
            "invalid number": ("12345", BORN, "Петрова"),
        }.items():
            statements.clear()
            with engine.connect() as conn:
                assert verify_on(conn, number, born, name) is None
            work[case] = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len({tuple(w) for w in work.values()}) == 1, work
    # One look-up by number, nothing else.
    assert [s.split()[0] for s in work["wrong name"] if s.split()[0] != "BEGIN"] == ["SELECT"]
