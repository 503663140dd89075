"""The tracker store reads a conversation once and writes only its new events
per message, and stores and publishes exactly what Rasa's own save would."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any, Dict, List

import pytest
from rasa.core.brokers.broker import EventBroker

from helpers import ROOT

BIRTH_DATE = "12.03.1985"
SURNAME = "Иванов"


class Collecting(EventBroker):
    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []

    def publish(self, event: Dict[str, Any]) -> None:
        self.events.append(event)


def _user(text, intent="inform"):
    from rasa.shared.core.events import UserUttered

    return UserUttered(text, {"name": intent, "confidence": 0.9}, [],
                       parse_data={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []})


def _turns():
    """A status check as Rasa's processor adds it, one list per message."""
    from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, SessionStarted,
                                         SlotSet)

    return [
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
         _user("статус заявления 1234567890", "check_status"), ActionExecuted("application_status_form"),
         ActiveLoop("application_status_form"), SlotSet("requested_slot", "full_name"),
         BotUttered("Напишите фамилию заявителя"), ActionExecuted("action_listen")],
        [_user(SURNAME, "nlu_fallback"), SlotSet("full_name", SURNAME), SlotSet("requested_slot", "birth_date"),
         BotUttered("Напишите дату рождения"), ActionExecuted("action_listen")],
        [_user(BIRTH_DATE), SlotSet("birth_date", "1985-03-12"), ActiveLoop(None),
         SlotSet("requested_slot", None), BotUttered("Заявление в обработке"), ActionExecuted("action_listen")],
        [_user("спасибо", "thanks"), BotUttered("Пожалуйста"), ActionExecuted("action_listen")],
    ]


@pytest.fixture(scope="module")
def domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


def _untimed(event: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in event.items() if k != "timestamp"}


def _converse(tmp_path, domain, monkeypatch, fast: bool):
    """Each message: retrieve (a fresh tracker, as in a new request), add the turn, save."""
    from sqlalchemy import event

    from hotline.rasa.tracker_store import MaskingSQLTrackerStore

    monkeypatch.setenv("HOTLINE_FAST_TRACKER_STORE", "1" if fast else "0")
    db = tmp_path / f"tracker-{fast}.db"
    broker = Collecting()
    store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(db), event_broker=broker)
    statements: List[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *a: statements.append(sql.split()[0].upper()))
    per_turn = []
    for n, turn in enumerate(_turns()):
        statements.clear()
        tracker = asyncio.run(store.retrieve("citizen-1"))
        if tracker is None:  # what Rasa's get_or_create_tracker does
            tracker = store.init_tracker("citizen-1")
            asyncio.run(store.save(tracker))
        for e in turn:
            tracker.update(e, domain)
        asyncio.run(store.save(tracker))
        per_turn.append(list(statements))
    # Timestamps differ between two runs; everything else must not.
    rows = [_untimed(json.loads(r[0])) for r in sqlite3.connect(db).execute("SELECT data FROM events ORDER BY id")]
    published = [_untimed(e) for e in broker.events]
    return rows, published, per_turn


def test_stored_and_published_events_are_those_of_rasas_save(tmp_path, domain, monkeypatch):
    fast_rows, fast_published, _ = _converse(tmp_path, domain, monkeypatch, fast=True)
    rasa_rows, rasa_published, _ = _converse(tmp_path, domain, monkeypatch, fast=False)
    assert fast_rows == rasa_rows
    assert fast_published == rasa_published
    assert len(fast_rows) == sum(len(turn) for turn in _turns())
    stored = json.dumps(fast_rows, ensure_ascii=False)
    # The replies to the form's questions are masked, though the answers came
    # in later messages than the questions.
    assert SURNAME not in stored and BIRTH_DATE not in stored and "1985-03-12" not in stored
    # The broker (the operators' console) still gets what the citizen wrote.
    assert [e.get("text") for e in fast_published if e["event"] == "user"][1:3] == [SURNAME, BIRTH_DATE]


def test_a_message_reads_the_conversation_once_and_writes_once(tmp_path, domain, monkeypatch):
    _, _, fast = _converse(tmp_path, domain, monkeypatch, fast=True)
    _, _, rasa = _converse(tmp_path, domain, monkeypatch, fast=False)
    for turn in fast:
        assert turn == ["SELECT", "INSERT"], turn
    # Rasa's own save reads the conversation twice more: the broker's diff and the row count.
    assert all(turn.count("SELECT") == 3 for turn in rasa[1:]), rasa


def test_a_reply_to_a_personal_question_asked_in_the_message_before_is_stored_masked(tmp_path, domain, monkeypatch):
    """The bot asks for the date of birth (utter_ask_birth_date, no form
    open); the citizen answers in the next message, which the store saves
    on its own: the answer is masked whole there too, as in Rasa's save."""
    from rasa.shared.core.events import ActionExecuted, BotUttered

    from hotline.rasa.tracker_store import MaskingSQLTrackerStore

    answer = "родилась в восемьдесят пятом, двенадцатого марта"
    turns = [
        [ActionExecuted("action_listen"), _user("хочу проверить заявление", "check_status"),
         BotUttered("Напишите дату рождения", metadata={"utter_action": "utter_ask_birth_date"}),
         ActionExecuted("action_listen")],
        [_user(answer, "inform"), BotUttered("Спасибо"), ActionExecuted("action_listen")],
    ]
    rows = {}
    for fast in (True, False):
        monkeypatch.setenv("HOTLINE_FAST_TRACKER_STORE", "1" if fast else "0")
        db = tmp_path / f"asked-{fast}.db"
        store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(db))
        for turn in turns:
            tracker = asyncio.run(store.retrieve("citizen-2")) or store.init_tracker("citizen-2")
            for e in turn:
                tracker.update(e, domain)
            asyncio.run(store.save(tracker))
        rows[fast] = [_untimed(json.loads(r[0])) for r in sqlite3.connect(db).execute("SELECT data FROM events ORDER BY id")]
    assert rows[True] == rows[False]
    stored = json.dumps(rows[True], ensure_ascii=False)
    assert "марта" not in stored and "двенадцатого" not in stored
