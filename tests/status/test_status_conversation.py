"""The status-check actions against a real store (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from actions.application_status import ActionCheckApplicationStatus, ValidateApplicationStatusForm
from hotline.status.importer import import_csv
from helpers import run_action, user_event


@pytest.fixture
def citizen_store(store, write_csv, row, monkeypatch):
    import_csv(write_csv(
        row(),
        row(number="AB-987654321", full_name="Петрова Анна Сергеевна", birth_date="1990-07-01",
            service="snils", status="needs_documents", missing_documents="Паспорт;Справка о доходах",
            instructions="Загрузите сканы в личном кабинете."),
    ), store)
    monkeypatch.setenv("DATABASE_URL", store)
    return store


SURNAMES = {"1234567890": "Иванов", "AB-987654321": "Петрова"}


def check(make_tracker, dispatcher, number, birth_date, sender="citizen-1", full_name=None):
    from hotline.status import held_names

    # As the form leaves it: the name held server-side, the slot only says «given».
    try:
        held_names.hold(sender, full_name or SURNAMES.get(number, "Иванов"))
    except held_names.StoreUnavailable:
        pass  # the database-down case: the check must still answer politely
    tracker = make_tracker([user_event("inform", birth_date or "")], sender_id=sender,
                           slots={"application_number": number, "birth_date": birth_date,
                                  "full_name": held_names.GIVEN})
    events = run_action(ActionCheckApplicationStatus(), dispatcher, tracker, {})
    return dispatcher.messages[-1], {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_matching_number_and_date_disclose_the_status(citizen_store, make_tracker, dispatcher):
    message, slots = check(make_tracker, dispatcher, "1234567890", "1985-03-12")
    assert message["response"] == "utter_status_in_progress"
    assert message["status_expected"] == "2 декабря 2026 года"
    assert message["status_service"] == "Оформление загранпаспорта"
    assert slots["birth_date"] is None and slots["full_name"] is None  # never kept after the check


def test_missing_documents_are_listed(citizen_store, make_tracker, dispatcher):
    message, _ = check(make_tracker, dispatcher, "AB-987654321", "1990-07-01")
    assert message["response"] == "utter_status_needs_documents"
    assert message["status_missing"] == "• Паспорт\n• Справка о доходах"
    assert "личном кабинете" in message["status_instructions"]


def test_wrong_date_wrong_name_and_unknown_number_get_the_same_answer(citizen_store, make_tracker, dispatcher):
    wrong_date, _ = check(make_tracker, dispatcher, "1234567890", "1985-03-13", sender="a")
    wrong_name, _ = check(make_tracker, dispatcher, "1234567890", "1985-03-12", sender="c", full_name="Петров")
    unknown, _ = check(make_tracker, dispatcher, "9999999999", "1985-03-12", sender="b")
    assert wrong_date == wrong_name == unknown
    assert wrong_date["response"] == "utter_status_not_verified"


def test_three_failures_lock_the_check_even_with_the_right_date(citizen_store, make_tracker, dispatcher):
    answers = [check(make_tracker, dispatcher, "1234567890", "1985-03-1" + str(d))[0]["response"]
               for d in (3, 4, 5)]
    assert answers == ["utter_status_not_verified", "utter_status_not_verified", "utter_status_locked"]
    assert check(make_tracker, dispatcher, "1234567890", "1985-03-12")[0]["response"] == "utter_status_locked"
    # A stranger's failures do not lock the owner's own conversation
    # (tests/security/test_lockout.py has the whole policy).
    assert check(make_tracker, dispatcher, "1234567890", "1985-03-12", sender="other")[0]["response"] \
        == "utter_status_in_progress"


def test_database_down_gets_a_polite_answer(make_tracker, dispatcher, unreachable_urls, monkeypatch, store_url):
    backend = "postgresql" if store_url.startswith("postgresql") else "sqlite"
    monkeypatch.setenv("DATABASE_URL", unreachable_urls[backend])
    message, slots = check(make_tracker, dispatcher, "1234567890", "1985-03-12")
    assert message["response"] == "utter_status_unavailable"
    assert slots["birth_date"] is None and slots["full_name"] is None


@pytest.mark.parametrize("typed,expected", [("ab‑987654321", "AB-987654321"), ("1234567890", "1234567890"),
                                            ("12345", None), ("не помню", None)])
def test_form_normalises_the_number(typed, expected, make_tracker, dispatcher):
    result = ValidateApplicationStatusForm().validate_application_number(typed, dispatcher, make_tracker([]), {})
    assert result == {"application_number": expected}
    assert bool(dispatcher.messages) == (expected is None)


@pytest.mark.parametrize("typed,expected", [("12 марта 1985", "1985-03-12"), ("12.03.1985", "1985-03-12"),
                                            ("12/03/85", None)])
def test_form_parses_the_birth_date_without_guessing(typed, expected, make_tracker, dispatcher):
    result = ValidateApplicationStatusForm().validate_birth_date(typed, dispatcher, make_tracker([]), {})
    assert result == {"birth_date": expected}


def test_a_name_left_from_a_cancelled_check_is_asked_again(make_tracker, dispatcher, domain_yaml):
    from helpers import run_action

    # Cancelled after the surname: the slot stayed, and a reload from the
    # tracker store would even give it back as «***».
    tracker = make_tracker([user_event("check_application_status", "статус заявления 1234567890")],
                           slots={"application_number": "1234567890", "full_name": "***", "requested_slot": None})
    events = run_action(ValidateApplicationStatusForm(), dispatcher, tracker, domain_yaml)
    assert {"event": "slot", "name": "full_name", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events]


@pytest.mark.parametrize("typed,expected", [
    ("Петрова", "Петрова"), ("  петрова   анна ", "петрова анна"), ("Римская-Корсакова", "Римская-Корсакова"),
    ("Petrova A.", "Petrova A."), ("12.03.1985", None), ("1234567890", None), ("а б в г д е", None),
])
def test_form_takes_a_name_and_refuses_what_is_not_one(typed, expected, citizen_store, make_tracker, dispatcher):
    from hotline.status import held_names

    result = ValidateApplicationStatusForm().validate_full_name(typed, dispatcher, make_tracker([]), {})
    # The slot never holds the name itself (the tracker store would mask it
    # before the date arrives): the name waits server-side for the check.
    assert result == {"full_name": held_names.GIVEN if expected else None}
    assert held_names.take("test-user") == expected
    assert [m["response"] for m in dispatcher.messages] == ([] if expected else ["utter_invalid_full_name"])


def test_the_held_name_outlives_its_use_only_for_a_redelivery_and_expires(citizen_store, make_tracker, dispatcher):
    import datetime as dt

    from hotline.status import held_names

    held_names.hold("c1", "Иванов")
    assert held_names.take("c1") == "Иванов"
    # A turn redelivered after an instance died still finds it; past the grace nothing does.
    assert held_names.take("c1") == "Иванов"
    later = held_names.utcnow() + held_names.REDELIVERY_GRACE + dt.timedelta(seconds=1)
    assert held_names.take("c1", now=later) is None
    assert held_names.take("c1") is None  # the expired row was deleted
    held_names.hold("c1", "Иванов", now=dt.datetime(2026, 1, 1))
    assert held_names.take("c1") is None  # expired
    # No name, no comparison: the check does not count it against anyone.
    tracker = make_tracker([user_event("inform", "")], sender_id="c2", slots={
        "application_number": "1234567890", "birth_date": "1985-03-12", "full_name": held_names.GIVEN})
    run_action(ActionCheckApplicationStatus(), dispatcher, tracker, {})
    assert dispatcher.messages[-1]["response"] == "utter_status_not_verified"
