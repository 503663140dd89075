"""Masking where personal data actually flows (issue 11, item 7): the tracker
database, the log lines and a waiting ticket's transcript in the console.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3

import pytest

from hotline.privacy import MASK, mask_text, mask_transcript

# How citizens really write a date of birth.
DATE_FORMATS = ["12 03 1985", "12031985", "1985.03.12", "12–03–1985", "12—03—1985", "12.03.1985",
                "12 марта 1985 г.", "1985-03-12", "12/03/1985"]
NAME = "Петрова Анна Сергеевна"
SPOKEN_DATE = "первое июля девяностого"  # no pattern recognises it: only the context can
CONTACT = "+7 900 123-45-67"
SNILS = "112-233-445 95"
# Substrings that must appear nowhere once stored.
TRACES = ["1985", "Петров", "Сергеевн", "Анна", "первое июля", "1990", "123-45-67", "445 95"]


@pytest.mark.parametrize("written", DATE_FORMATS)
def test_every_date_format_is_masked_in_free_text(written):
    masked = mask_text(f"я родилась {written}, помогите")
    assert "1985" not in masked and MASK in masked
    assert mask_text("заявление 1234567890 от вчера") == "заявление 1234567890 от вчера"
    assert mask_text("код 12345678") == "код 12345678"  # eight digits that are not a date stay


def _events():
    """A conversation in which the citizen gives everything, in every shape."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    def user(text, intent="inform", entities=None):
        return UserUttered(text, {"name": intent, "confidence": 0.9}, entities or [],
                           parse_data={"text": text, "intent": {"name": intent, "confidence": 0.9},
                                       "entities": entities or []})

    free = [user(f"родилась {d}, что с заявлением 1234567890") for d in DATE_FORMATS]
    said = "меня зовут Петрова Анна"
    start = said.index("Петрова")
    return [
        *free,
        user(said, entities=[{"entity": "full_name", "value": "Петрова Анна", "start": start,
                              "end": len(said)}]),
        ActionExecuted("application_status_form"),
        SlotSet("requested_slot", "full_name"),
        ActionExecuted("action_listen"),
        # Asked for a name: the reply is personal whatever it looks like.
        user(NAME, intent="nlu_fallback"),
        SlotSet("full_name", NAME),
        SlotSet("requested_slot", "birth_date"),
        ActionExecuted("action_listen"),
    ], [
        user(SPOKEN_DATE),
        SlotSet("birth_date", "1990-07-01"),
        SlotSet("requested_slot", None),
        BotUttered("Проверяю данные для 01.07.1990"),
        BotUttered(f"Оператор: вижу дату 12–03–1985 и СНИЛС {SNILS}",
                   metadata={"handoff": {"kind": "operator", "operator_name": "Анна"}}),
        ActionExecuted("handoff_form"),
        SlotSet("requested_slot", "handoff_contact"),
        ActionExecuted("action_listen"),
        user(f"звоните {CONTACT}"),
        SlotSet("handoff_contact", CONTACT),
        SlotSet("requested_slot", None),
    ]


def test_nothing_personal_reaches_the_tracker_database(tmp_path):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from hotline.rasa.tracker_store import MaskingSQLTrackerStore

    db = tmp_path / "tracker.db"
    store = MaskingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    first, second = _events()
    tracker = DialogueStateTracker.from_events("citizen-1", first)
    asyncio.run(store.save(tracker))
    # The answer to the open question arrives in a later save: the store must
    # still know what was asked.
    for event in second:
        tracker.update(event)
    asyncio.run(store.save(tracker))

    rows = [r[0] for r in sqlite3.connect(db).execute("SELECT data FROM events ORDER BY id")]
    assert len(rows) == len(first) + len(second)
    stored = "\n".join(rows)
    assert "1234567890" in stored  # the application number itself is not masked here
    for trace in TRACES + [SNILS]:
        assert trace not in stored, trace
    # The names of the operator and the slots survive: only values are masked.
    assert "handoff_contact" in stored and "full_name" in stored


def test_nothing_personal_reaches_the_json_logs(capsys):
    from hotline.ops.jsonlog import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.masking")
    logger.addHandler(handler)
    try:
        for written in DATE_FORMATS:
            logger.warning("citizen wrote %s", written)
        try:
            raise ValueError(f"bad date 12 03 1985, SNILS {SNILS}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    logs = capsys.readouterr().err
    assert logs.count("citizen wrote") == len(DATE_FORMATS)
    assert "1985" not in logs and "445 95" not in logs


def test_a_status_check_logs_no_name_and_no_date(tmp_path, monkeypatch, caplog, make_tracker, dispatcher):
    from actions.application_status import ActionCheckApplicationStatus
    from hotline.db.engine import dispose_engine, init_db
    from hotline.status import held_names
    from hotline.status.importer import import_csv
    from helpers import run_action, user_event

    url = f"sqlite:///{tmp_path / 'status.db'}"
    init_db(url)
    csv = tmp_path / "a.csv"
    csv.write_text("application_number,full_name,birth_date,service,status,submitted_at,expected_at,"
                   f"missing_documents,instructions\nAB-987654321,{NAME},1990-07-01,snils,in_progress,"
                   "2026-11-02,,,\n", encoding="utf-8")
    import_csv(csv, url)
    monkeypatch.setenv("DATABASE_URL", url)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    for attempt in range(4):  # success, then failures up to a lock
        held_names.hold("c", "Петровой" if attempt == 0 else "Петрова А")
        tracker = make_tracker([user_event("inform", "***")], sender_id="c", slots={
            "application_number": "AB-987654321", "full_name": held_names.GIVEN,
            "birth_date": "1990-07-01" if attempt == 0 else f"1990-07-0{attempt + 1}"})
        run_action(ActionCheckApplicationStatus(), dispatcher, tracker, {})
    dispose_engine(url)
    assert "status check lock" in caplog.text  # the logs were captured
    for trace in TRACES:
        assert trace not in caplog.text, trace


def test_a_waiting_tickets_transcript_hides_personal_data_numbers_and_statuses():
    from handoff.service import transcript_from_tracker

    first, second = _events()
    events = [e.as_dict() for e in first + second]
    events.append({"event": "bot", "text": "Заявление AB-987654321 в обработке, срок 2 декабря 2026 г.",
                   "metadata": {"utter_action": "utter_status_in_progress"}})
    events.append({"event": "user", "text": "а заявка ab 987654321? и 1234567890", "parse_data": {}})
    items = mask_transcript(transcript_from_tracker({"events": events}))
    shown = "\n".join(str(i) for i in items)
    assert len(items) == len(transcript_from_tracker({"events": events}))
    for trace in ["1985", "123-45-67", "445 95", "987654321", "1234567890", "в обработке", "2 декабря"]:
        assert trace not in shown, trace
    assert "[ответ о статусе заявления скрыт]" in shown


def test_the_whole_reply_is_masked_only_while_personal_data_is_asked():
    from hotline.privacy import mask_events

    events = [
        {"event": "slot", "name": "requested_slot", "value": "application_number"},
        {"event": "user", "text": "AB-987654321", "parse_data": {"text": "AB-987654321", "entities": []}},
        {"event": "slot", "name": "requested_slot", "value": "full_name"},
        {"event": "user", "text": "Ёлкина-Петрова", "parse_data": {"text": "Ёлкина-Петрова", "entities": []}},
        {"event": "active_loop", "name": None},
        {"event": "user", "text": "спасибо", "parse_data": {"text": "спасибо", "entities": []}},
    ]
    texts = [e["text"] for e in mask_events(events) if e["event"] == "user"]
    assert texts == ["AB-987654321", MASK, "спасибо"]
    assert events[3]["text"] == "Ёлкина-Петрова"  # the in-memory events are untouched
