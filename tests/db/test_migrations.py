"""Alembic upgrades keep what a deployment already stored.

For each earlier revision r, on SQLite and on PostgreSQL: migrate an empty
database to r, store rows the way the code of r wrote them (plain SQL on the
tables of r, not today's models), migrate to head, and read the rows back
through the application's repositories; then downgrade to r and upgrade again.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterator

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from handoff import repository as handoff_repo
from hotline.db.engine import MIGRATIONS, ROOT, database_url, dispose_engine, get_engine
from hotline.status import repository as status_repo
from tests.databases import BACKENDS, empty_database


def _config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = database_url(url)
    config.attributes["configure_logging"] = False
    return config


# Oldest first; a new migration is picked up here on its own.
REVISIONS = [s.revision for s in reversed(list(ScriptDirectory.from_config(_config("sqlite://")).walk_revisions()))]
HEAD = REVISIONS[-1]
T0 = dt.datetime(2026, 11, 20, 9, 30)
NUMBER = "1234567890"
NAME, BIRTH = "Иванов Иван Иванович", dt.date(1985, 3, 12)
TG_USER, TG_TOPIC = 7_770_001_112, 9_000_000_001  # beyond 32 bits: BigInteger columns


def _since(at: str, revision: str) -> bool:
    return REVISIONS.index(revision) >= REVISIONS.index(at)


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, request.param)


def _fill(url: str, revision: str) -> None:
    """The rows a deployment running `revision` had, in that revision's schema."""
    with get_engine(url).begin() as conn:
        sql = lambda statement, **values: conn.execute(text(statement), values)  # noqa: E731
        one = lambda statement, **values: conn.execute(text(statement), values).scalar_one()  # noqa: E731
        sql("INSERT INTO applicants (full_name, birth_date) VALUES (:n, :b)", n=NAME, b=BIRTH)
        applicant = one("SELECT id FROM applicants WHERE full_name = :n", n=NAME)
        columns = "number, applicant_id, service, status, submitted_at, expected_at, instructions, updated_at"
        values = ":number, :applicant, :service, :status, :submitted, :expected, :instructions, :updated"
        if _since("0005", revision):  # the catalogue link came with 0005
            columns, values = columns + ", service_id", values + ", :service"
        sql(f"INSERT INTO applications ({columns}) VALUES ({values})", number=NUMBER, applicant=applicant,
            service="passport_foreign", status="needs_documents", submitted=dt.date(2026, 11, 2),
            expected=dt.date(2026, 12, 2), instructions="Принесите оригинал", updated=T0)
        application = one("SELECT id FROM applications WHERE number = :n", n=NUMBER)
        sql("INSERT INTO missing_documents (application_id, position, title) VALUES (:a, 0, :t)",
            a=application, t="Копия паспорта")
        for old, new, at in ((None, "submitted", T0), ("submitted", "needs_documents", T0 + dt.timedelta(days=1))):
            sql("INSERT INTO status_history (application_id, old_status, new_status, changed_at, source) "
                "VALUES (:a, :o, :n, :at, 'import')", a=application, o=old, n=new, at=at)
        sql("INSERT INTO status_check_attempts (key, attempted_at, success) VALUES ('n:x', :at, :ok)", at=T0, ok=False)
        if _since("0002", revision):
            sql("INSERT INTO handoff_operators (login, display_name, password_hash, is_admin, is_active, "
                "telegram_user_id, created_at) VALUES ('anna', 'Анна', 'hash', :f, :t, :tg, :at)",
                f=False, t=True, tg=TG_USER, at=T0)
            operator = one("SELECT id FROM handoff_operators WHERE login = 'anna'")
            sql("INSERT INTO handoff_tickets (conversation_id, channel, status, reason, topic, summary, offline, "
                "created_at, assigned_at, operator_id, resume_pending, tg_topic_id, tg_closed) VALUES "
                "('telegram_42', 'telegram', 'assigned', 'request', 'report_tech_issue', 'не приходит код', :f, "
                ":at, :at, :op, :f, :topic, :f)", f=False, at=T0, op=operator, topic=TG_TOPIC)
            ticket = one("SELECT id FROM handoff_tickets WHERE conversation_id = 'telegram_42'")
            sql("INSERT INTO handoff_messages (ticket_id, at, direction, text, source) "
                "VALUES (:t, :at, 'citizen', 'не приходит код', 'broker')", t=ticket, at=T0)
            sql("INSERT INTO handoff_messages (ticket_id, at, direction, text, operator_id, source, delivered_at, "
                "delivery_ms) VALUES (:t, :at, 'operator', 'Здравствуйте!', :op, 'console', :at, 12.5)",
                t=ticket, at=T0 + dt.timedelta(minutes=1), op=operator)
            sql("INSERT INTO handoff_audit (at, operator_id, action, subject, ticket_id, via) "
                "VALUES (:at, :op, 'take', 'anna', :t, 'web')", at=T0, op=operator, t=ticket)
            sql("INSERT INTO handoff_conversations (conversation_id, channel, first_seen) "
                "VALUES ('telegram_42', 'telegram', :at)", at=T0)
        if _since("0003", revision):
            sql("INSERT INTO retention_audit (at, action, subject_kind, counts) VALUES (:at, 'purge', 'all', '{}')",
                at=T0)
        if _since("0004", revision):
            sql("INSERT INTO handoff_login_throttle (key, failures, last_at) VALUES ('k', 2, :at)", at=T0)
        if _since("0006", revision):
            sql("INSERT INTO status_check_locks (key, updated_at) VALUES ('n:x', :at)", at=T0)


def _check_read_by_the_application(url: str, revision: str) -> None:
    found = status_repo.find_application(NUMBER, url=url)
    assert found is not None
    assert (found.status, found.service, found.service_id) == ("needs_documents", "passport_foreign",
                                                               "passport_foreign")
    assert (found.applicant_full_name, found.applicant_birth_date) == (NAME, BIRTH)
    assert found.missing_documents == ["Копия паспорта"] and found.instructions == "Принесите оригинал"
    history = status_repo.status_history_of(NUMBER, url=url)
    assert [(h.old_status, h.new_status) for h in history] == [(None, "submitted"), ("submitted", "needs_documents")]
    if not _since("0002", revision):
        return
    anna = handoff_repo.operator_by_login("anna", url=url)
    assert anna is not None and anna.telegram_user_id == TG_USER
    # Accounts from before the roles (0009) stay operators and get no trainer role.
    assert anna.is_operator and anna.may_operate and not anna.is_trainer and not anna.may_train
    ticket = handoff_repo.open_ticket_for("telegram_42", url=url)
    assert ticket is not None and (ticket.status, ticket.operator_id, ticket.tg_topic_id) == ("assigned", anna.id,
                                                                                            TG_TOPIC)
    assert [(m.direction, m.text) for m in handoff_repo.ticket_messages(ticket.id, url=url)] == [
        ("citizen", "не приходит код"), ("operator", "Здравствуйте!")]
    assert [e.action for e in handoff_repo.audit_entries(ticket_id=ticket.id, url=url)] == ["take"]
    # Ids keep counting after the old rows (PostgreSQL sequences, SQLite copies).
    fresh, created = handoff_repo.create_ticket("vk_7", "vk", "request", "", "новый вопрос", url=url)
    assert created and fresh.id > ticket.id


def _count(url: str, table: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_upgrade_keeps_the_rows_of_an_earlier_revision(empty_url, revision):
    config = _config(empty_url)
    command.upgrade(config, revision)
    _fill(empty_url, revision)
    command.upgrade(config, "head")
    _check_read_by_the_application(empty_url, revision)

    # Back to r and forward again: the rows of r's tables stay.
    tickets = _count(empty_url, "handoff_tickets") if _since("0002", revision) else 0
    dispose_engine(empty_url)
    command.downgrade(config, revision)
    assert _count(empty_url, "applications") == 1
    if tickets:
        assert _count(empty_url, "handoff_tickets") == tickets
    command.upgrade(config, "head")
    assert status_repo.find_application(NUMBER, url=empty_url).service_id == "passport_foreign"


def test_the_newest_revision_filled_downgrades_to_an_empty_database(empty_url):
    """The newest revision, filled, goes down to an empty database."""
    config = _config(empty_url)
    command.upgrade(config, HEAD)
    _fill(empty_url, HEAD)
    _check_read_by_the_application(empty_url, HEAD)
    dispose_engine(empty_url)
    command.downgrade(config, "base")
    with get_engine(empty_url).connect() as conn:
        tables = conn.dialect.get_table_names(conn)
    assert set(tables) <= {"alembic_version"}, tables
