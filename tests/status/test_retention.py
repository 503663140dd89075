"""Retention purge and data subject requests (hotline.ops.retention) on
SQLite and PostgreSQL: what a purge keeps and removes, what an export
contains, what a deletion leaves, and the audit trail of each."""
from __future__ import annotations

import datetime as dt
import json
from typing import Iterator

import pytest
from sqlalchemy import create_engine, func, select

from handoff import repository as repo
from hotline.db.engine import get_engine
from hotline.db.tables.handoff import conversations, messages, tickets
from hotline.db.tables.status import Applicant, Application, MissingDocument, StatusCheckAttempt, StatusHistory
from hotline.ops.retention import Retention, Subject
from hotline.ops.retention.__main__ import main
from hotline.status.lockout import conversation_key
from tests.databases import empty_database

NOW = dt.datetime(2026, 11, 30, 12, 0, 0)
OLD = NOW - dt.timedelta(days=100)
RECENT = NOW - dt.timedelta(days=1)
ANCIENT = NOW - dt.timedelta(days=400)


@pytest.fixture
def tracker(request, tmp_path, store_url) -> Iterator[str]:
    """A tracker database of the store's backend with Rasa's own events table."""
    from rasa.core.tracker_store import SQLTrackerStore

    backend = "postgresql" if store_url.startswith("postgresql") else "sqlite"
    (tmp_path / "tracker").mkdir()
    databases = empty_database(request, tmp_path / "tracker", backend)
    url = next(databases)
    engine = create_engine(url, future=True)
    SQLTrackerStore.SQLEvent.__table__.create(engine)
    engine.dispose()
    yield url
    next(databases, None)


def _events(url: str, *rows: tuple) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    table = SQLTrackerStore.SQLEvent.__table__
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        for sender, type_name, at, data in rows:
            conn.execute(table.insert().values(sender_id=sender, type_name=type_name,
                                               timestamp=at.replace(tzinfo=dt.timezone.utc).timestamp(),
                                               data=json.dumps(data, ensure_ascii=False)))
    engine.dispose()


def _count(url: str, table, *where) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _application(conn, number: str, name: str, status: str, updated: dt.datetime) -> int:
    applicant = conn.execute(Applicant.__table__.insert().values(
        full_name=name, birth_date=dt.date(1990, 7, 1))).inserted_primary_key[0]
    app = conn.execute(Application.__table__.insert().values(
        number=number, applicant_id=applicant, service="Загранпаспорт", status=status,
        submitted_at=dt.date(2025, 1, 10), updated_at=updated)).inserted_primary_key[0]
    conn.execute(MissingDocument.__table__.insert().values(application_id=app, position=1, title="Фото"))
    conn.execute(StatusHistory.__table__.insert().values(application_id=app, old_status=None, new_status=status,
                                                         changed_at=updated, source="import"))
    return app


@pytest.fixture
def seeded(store, tracker):
    _events(tracker,
            ("rest_old", "user", OLD, {"event": "user", "text": "давно", "input_channel": "rest"}),
            ("rest_new", "user", RECENT, {"event": "user", "text": "привет", "input_channel": "rest"}),
            ("rest_mixed", "user", OLD, {"event": "user", "text": "раньше", "input_channel": "rest"}),
            ("rest_mixed", "user", RECENT, {"event": "user", "text": "теперь", "input_channel": "rest"}),
            ("rest_app", "user", RECENT, {"event": "user", "text": "статус", "input_channel": "rest"}),
            ("rest_app", "slot", RECENT, {"event": "slot", "name": "application_number",
                                          "value": "AB-987654321"}),
            ("telegram_42", "user", RECENT, {"event": "user", "text": "здравствуйте",
                                             "input_channel": "telegram"}))
    with get_engine(store).begin() as conn:
        _application(conn, "AB-987654321", "Петрова Анна Сергеевна", "in_progress", RECENT)
        _application(conn, "CD-111111111", "Старый Пётр Иванович", "completed", ANCIENT)
        _application(conn, "EF-222222222", "Новый Иван Петрович", "rejected", RECENT)
        attempts = StatusCheckAttempt.__table__
        for key, at in (("number:AB-987654321", RECENT), ("number:XY-000000000", OLD),
                        (conversation_key("AB-987654321", "rest_app"), RECENT),
                        (conversation_key("1234567890", "telegram_42"), RECENT)):
            conn.execute(attempts.insert().values(key=key, attempted_at=at, success=False))
    old_ticket, _ = repo.create_ticket("rest_old", "rest", "request", "паспорт", "вопрос", at=OLD, url=store)
    repo.add_message(old_ticket.id, "citizen", "давнее сообщение", "rest", at=OLD, url=store)
    repo.close_ticket(old_ticket.id, closed_by="operator", resolution="ответили", at=OLD, url=store)
    waiting, _ = repo.create_ticket("rest_waiting", "rest", "request", "", "ждёт", at=OLD, url=store)
    tg_ticket, _ = repo.create_ticket("telegram_42", "telegram", "request", "справка", "нужна справка",
                                      at=RECENT, url=store)
    repo.add_message(tg_ticket.id, "citizen", "нужна справка", "telegram", at=RECENT, url=store)
    repo.add_message(tg_ticket.id, "operator", "подскажу", "console", at=RECENT, url=store)
    repo.register_conversation("rest_old", "rest", at=OLD, url=store)
    repo.register_conversation("rest_new", "rest", at=RECENT, url=store)
    return {"store": store, "tracker": tracker, "old_ticket": old_ticket.id, "waiting": waiting.id,
            "tg_ticket": tg_ticket.id}


def _senders(tracker: str) -> list:
    from rasa.core.tracker_store import SQLTrackerStore

    table = SQLTrackerStore.SQLEvent.__table__
    engine = create_engine(tracker, future=True)
    with engine.connect() as conn:
        found = sorted(conn.execute(select(table.c.sender_id, table.c.data).order_by(table.c.id)).all())
    engine.dispose()
    return [(sender, json.loads(data).get("text")) for sender, data in found]


PURGED = {"tracker_conversations_removed": 1, "tracker_events": 2, "status_check_attempts": 1,
          "handoff_messages": 1, "handoff_tickets": 1, "handoff_conversations": 1, "missing_documents": 1,
          "status_history": 1, "applications": 1, "applicants": 1}


def test_a_dry_run_counts_what_a_purge_then_removes_and_both_are_audited(seeded):
    store, tracker = seeded["store"], seeded["tracker"]
    retention = Retention(store, tracker, operator="проверка", request_ref="daily")
    before = _senders(tracker)

    # The dry run counts applicants left without an application now, not
    # those the purge of applications is about to leave behind.
    assert retention.purge(90, 365, dry_run=True, now=NOW) == {**PURGED, "applicants": 0, "dry_run": 1}
    assert _senders(tracker) == before and _count(store, tickets) == 3

    assert retention.purge(90, 365, now=NOW) == {**PURGED, "dry_run": 0}
    assert _senders(tracker) == [("rest_app", None), ("rest_app", "статус"), ("rest_mixed", "теперь"),
                                 ("rest_new", "привет"), ("telegram_42", "здравствуйте")]
    # Open tickets stay whatever their age; closed ones go with their messages.
    assert [t.id for t in repo.queue(url=store)] == [seeded["waiting"], seeded["tg_ticket"]]
    assert _count(store, messages) == 2 and _count(store, conversations) == 1
    with get_engine(store).connect() as conn:
        numbers = conn.execute(select(Application.__table__.c.number).order_by("number")).scalars().all()
        keys = conn.execute(select(StatusCheckAttempt.__table__.c.key)).scalars().all()
        applicants = conn.execute(select(func.count()).select_from(Applicant.__table__)).scalar_one()
    assert numbers == ["AB-987654321", "EF-222222222"] and applicants == 2
    assert "number:XY-000000000" not in keys and len(keys) == 3

    records = retention.audit_records()
    assert [(r["action"], r["subject_kind"], r["counts"]["dry_run"]) for r in records] == [
        ("purge", "all", 0), ("purge", "all", 1)]
    assert records[0]["operator"] == "проверка" and records[0]["request_ref"] == "daily"
    assert records[0]["cutoff"].startswith((NOW - dt.timedelta(days=90)).date().isoformat())
    assert records[0]["subject_hash"] is None


def test_application_days_zero_keeps_finished_applications(seeded):
    counts = Retention(seeded["store"], seeded["tracker"], operator="t").purge(90, 0, now=NOW)
    assert "applications" not in counts and _count(seeded["store"], Application.__table__) == 3


def test_a_conversation_is_exported_with_its_events_checks_and_tickets(seeded):
    retention = Retention(seeded["store"], seeded["tracker"], operator="t")
    data = retention.export(Subject("conversation", channel="telegram", conversation="42"))
    assert data["subject"] == {"kind": "conversation", "channel": "telegram", "conversation": "42"}
    assert [c["conversation_id"] for c in data["conversations"]] == ["telegram_42"]
    assert data["conversations"][0]["events"][0]["text"] == "здравствуйте"
    assert [s["key"] for s in data["status_checks"]] == [conversation_key("1234567890", "telegram_42")]
    assert data["status_checks"][0]["success"] is False
    [ticket] = data["handoff_tickets"]
    assert ticket["id"] == seeded["tg_ticket"] and ticket["summary"] == "нужна справка"
    assert ticket["status"] == "waiting" and ticket["created_at"] == RECENT.isoformat()
    assert [(m["direction"], m["text"]) for m in ticket["messages"]] == [
        ("citizen", "нужна справка"), ("operator", "подскажу")]
    assert data["applications"] == []
    # A conversation of another channel with the same bare id is not this citizen's.
    assert retention.export(Subject("conversation", channel="vk", conversation="42")) is None


def test_an_application_is_exported_with_its_applicant_history_and_conversations(seeded):
    retention = Retention(seeded["store"], seeded["tracker"], operator="t")
    data = retention.export(Subject("application", application="ab 987654321"))
    [app] = data["applications"]
    assert app["number"] == "AB-987654321" and app["full_name"] == "Петрова Анна Сергеевна"
    assert app["birth_date"] == "1990-07-01" and app["status"] == "in_progress"
    assert app["missing_documents"] == ["Фото"]
    assert app["status_history"] == [{"old_status": None, "new_status": "in_progress",
                                      "changed_at": RECENT.isoformat(), "source": "import"}]
    assert [c["conversation_id"] for c in data["conversations"]] == ["rest_app"]
    assert sorted(s["key"] for s in data["status_checks"]) == sorted(
        ["number:AB-987654321", conversation_key("AB-987654321", "rest_app")])
    with pytest.raises(ValueError):
        retention.export(Subject("application", application="не номер"))


def test_deleting_an_application_removes_it_its_applicant_checks_and_conversations(seeded):
    store, tracker = seeded["store"], seeded["tracker"]
    retention = Retention(store, tracker, operator="t")
    counts = retention.delete(Subject("application", application="AB-987654321"))
    assert counts == {"tracker_events": 2, "tracker_conversations": 1, "status_check_attempts": 2,
                      "missing_documents": 1, "status_history": 1, "applications": 1, "applicants": 1,
                      "found": 1}
    assert "rest_app" not in {s for s, _ in _senders(tracker)}
    assert _count(store, Application.__table__) == 2 and _count(store, Applicant.__table__) == 2
    assert retention.export(Subject("application", application="AB-987654321")) is None
    records = retention.audit_records()
    assert [r["action"] for r in records] == ["export", "delete"]
    assert records[1]["subject_kind"] == "application" and "987654321" not in json.dumps(records)


def test_deleting_a_conversation_removes_its_events_checks_and_tickets(seeded):
    store, tracker = seeded["store"], seeded["tracker"]
    counts = Retention(store, tracker, operator="t").delete(
        Subject("conversation", channel="telegram", conversation="telegram_42"))
    assert counts == {"tracker_events": 1, "tracker_conversations": 1, "status_check_attempts": 1,
                      "handoff_messages": 2, "handoff_tickets": 1, "found": 1}
    assert repo.get_ticket(seeded["tg_ticket"], url=store) is None
    assert "telegram_42" not in {s for s, _ in _senders(tracker)}
    nothing = Retention(store, tracker, operator="t").delete(
        Subject("conversation", channel="telegram", conversation="telegram_42"))
    assert nothing["found"] == 0


def test_the_command_line_needs_yes_to_delete_and_says_when_nothing_is_found(seeded, capsys):
    base = ["--database-url", seeded["store"], "--tracker-url", seeded["tracker"], "--operator", "t"]
    assert main(["delete", *base, "--application", "AB-987654321"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["export", *base, "--application", "ZZ-000000001"]) == 1
    assert main(["export", *base, "--channel", "rest", "--conversation", "new"]) == 0
    assert json.loads(capsys.readouterr().out)["conversations"][0]["conversation_id"] == "rest_new"
