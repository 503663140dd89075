"""Schema, verified look-ups and failure handling of the store (the lockout:
tests/security/test_lockout.py)."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hotline.status import (
    StoreUnavailable,
    check,
    count_applications,
    find_application,
    init_db,
    names_match,
    verify,
)
from hotline.db.engine import database_url, get_engine
from hotline.status.importer import import_csv
from hotline.db.tables.status import Base

TABLES = {"applicants", "applications", "missing_documents", "status_history", "status_check_attempts",
          "status_check_locks"}
T0 = dt.datetime(2026, 11, 25, 10, 0, 0)
MINUTE = dt.timedelta(minutes=1)


def test_migrations_create_the_tables_the_models_describe(store):
    with get_engine(store).connect() as conn:
        assert TABLES <= set(inspect(conn).get_table_names())
        # The models and the migrations must not drift apart.
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    init_db(store)  # idempotent
    assert count_applications(url=store) == 0


def test_default_database_is_a_file_under_var_of_the_repo(monkeypatch, tmp_path):
    from hotline.db.engine import ROOT

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    assert database_url() == f"sqlite:///{ROOT / 'var' / 'status.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u@db/x")
    assert database_url() == "postgresql+psycopg2://u@db/x"
    assert database_url("sqlite:////abs/path.db") == "sqlite:////abs/path.db"


@pytest.fixture
def two_applications(store, write_csv, row):
    report = import_csv(write_csv(
        row(),
        row(number="AB-987654321", full_name="Петрова Анна Сергеевна", birth_date="1990-07-01",
            service="snils", status="needs_documents", expected_at="",
            missing_documents="Паспорт; Заявление ;;", instructions="Загрузите документы в личном кабинете."),
    ), store)
    assert report.created == 2 and report.rejected == 0
    return store


def test_find_application_returns_a_plain_view(two_applications):
    view = find_application("ав‑987654321", url=two_applications)  # Cyrillic letters, odd dash
    assert view.number == "AB-987654321"
    assert (view.service, view.status) == ("snils", "needs_documents")
    assert view.submitted_at == dt.date(2026, 11, 2) and view.expected_at is None
    assert view.missing_documents == ["Паспорт", "Заявление"]
    assert view.instructions == "Загрузите документы в личном кабинете."
    assert view.applicant_full_name == "Петрова Анна Сергеевна"
    assert view.applicant_birth_date == dt.date(1990, 7, 1)
    other = find_application("1234567890", url=two_applications)
    assert other.instructions is None and other.missing_documents == []
    assert find_application("0000000000", url=two_applications) is None
    assert find_application("не номер", url=two_applications) is None


def test_view_repr_leaves_out_personal_data(two_applications):
    text = repr(find_application("AB-987654321", url=two_applications))
    assert "Петрова" not in text and "1990" not in text
    assert "AB-987654321" in text


def test_verify_needs_the_right_name_and_birth_date_and_hides_which_check_failed(two_applications):
    url = two_applications
    assert verify("1234567890", dt.date(1985, 3, 12), "Иванов", url=url).status == "in_progress"
    assert verify("12345 67890", dt.date(1985, 3, 12), "иванов", url=url) is not None
    wrong_date = verify("1234567890", dt.date(1985, 12, 3), "Иванов", url=url)
    wrong_name = verify("1234567890", dt.date(1985, 3, 12), "Петров", url=url)
    unknown_number = verify("9999999999", dt.date(1985, 3, 12), "Иванов", url=url)
    no_name = verify("1234567890", dt.date(1985, 3, 12), None, url=url)
    assert wrong_date is wrong_name is unknown_number is no_name is None
    assert verify("1234567890", dt.date(1985, 3, 12), "иванов  иван ИВАНОВИЧ", url=url) is not None
    assert verify("1234567890", dt.date(1985, 3, 12), "Иванов Пётр Иванович", url=url) is None


@pytest.mark.parametrize("given, record, same", [
    ("Иванов Иван Иванович", "иванов иван иванович", True),
    ("  Фёдорова   Юлия\tДенисовна ", "ФЕДОРОВА ЮЛИЯ ДЕНИСОВНА", True),
    ("Ёлкин Семён", "елкин семен", True),
    ("Иванов Иван", "Иванов Иван Иванович", True),  # the patronymic may be left out
    ("Иванов Иван Иванович", "Иванов Иван", False),  # but nothing the record does not have
    ("Петров", "Петрова Анна", False),  # another person, not an inflected form
    ("", "", False),
    (None, "Иванов", False),
])
def test_names_match(given, record, same):
    assert names_match(given, record) is same


# --- the database being unavailable ---------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_public_function_raises_store_unavailable(backend, unreachable_urls, write_csv, row):
    url = unreachable_urls[backend]
    calls = [
        lambda: init_db(url),
        lambda: find_application("1234567890", url=url),
        lambda: verify("1234567890", dt.date(1985, 3, 12), "Иванов", url=url),
        lambda: count_applications(url=url),
        lambda: check("1234567890", "conversation-x", lambda conn: None, url=url),
        lambda: import_csv(write_csv(row()), url),
    ]
    for call in calls:
        with pytest.raises(StoreUnavailable):
            call()


def test_a_missing_table_is_store_unavailable_too(store_url):
    # Not migrated: the query fails, and the caller must still get StoreUnavailable.
    with pytest.raises(StoreUnavailable):
        find_application("1234567890", url=store_url)


# --- personal data -----------------------------------------------------------------

def test_no_personal_data_in_logs_even_at_debug_level(store, write_csv, row, caplog, personal_data):
    caplog.set_level(logging.DEBUG)
    # As if an operator switched on SQL logging to debug something.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    name, born = personal_data.NAME, personal_data.BIRTH_DATE
    path = write_csv(
        row(number="5555555555", full_name=name, birth_date=born),
        row(number="6666666666", full_name=name, birth_date=born, status="lost"),
        # Shifted columns: the name sits where the status belongs.
        row(number="7777777777", status=name, birth_date=born),
    )
    report = import_csv(path, store)
    assert report.rejected == 2
    assert verify("5555555555", dt.date.fromisoformat(born), name, url=store) is not None
    assert verify("5555555555", dt.date(1977, 7, 8), name, url=store) is None
    logging.getLogger("test").info("view: %r", find_application("5555555555", url=store))
    assert "5555555555" in caplog.text  # the logs were captured at all
    personal_data.assert_absent(caplog.text)
    personal_data.assert_absent("\n".join(str(e) for e in report.errors))
