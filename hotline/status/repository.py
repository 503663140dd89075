"""Reads and writes of the status store, as plain values.

Callers get frozen dataclasses, never ORM objects, so nothing lazy-loads
after the session is gone. Every public function raises StoreUnavailable
when the database cannot be used.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from hotline.db.base import utcnow
from hotline.db.engine import guarded, session_scope
from hotline.db.tables.status import (
    Application,
    applicants,
    applications,
    missing_documents,
    status_check_attempts,
    status_history,
)
from hotline.entities import normalize_application_number
from hotline.status.names import names_match

# Compared with when a number is unknown, so that an unknown number costs
# the same work as a wrong name or date (no timing difference to probe).
_NOBODY = ("Неизвестнова Мария Ивановна", dt.date(1900, 1, 1))


@dataclass(frozen=True)
class ApplicationView:
    """What the bot may tell a verified citizen about one application."""

    number: str
    service: str  # as the department wrote it
    status: str
    submitted_at: dt.date
    expected_at: Optional[dt.date]
    instructions: Optional[str]
    missing_documents: list[str]
    # repr=False: a view that ends up in a log line must not carry personal data.
    applicant_full_name: str = field(repr=False)
    applicant_birth_date: dt.date = field(repr=False)
    service_id: Optional[str] = None  # catalogue link, when one was found


@dataclass(frozen=True)
class ApplicationRecord:
    """One application as the department sends it (input of upsert)."""

    number: str
    full_name: str = field(repr=False)
    birth_date: dt.date = field(repr=False)
    service: str
    status: str
    submitted_at: dt.date
    expected_at: Optional[dt.date]
    missing_documents: tuple[str, ...]
    instructions: Optional[str]
    service_id: Optional[str] = None


@dataclass(frozen=True)
class HistoryEntry:
    old_status: Optional[str]
    new_status: str
    changed_at: dt.datetime
    source: str


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0



def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


# --- reads -------------------------------------------------------------------

def _view(app: Application) -> ApplicationView:
    return ApplicationView(
        number=app.number,
        service=app.service,
        status=app.status,
        submitted_at=app.submitted_at,
        expected_at=app.expected_at,
        instructions=app.instructions,
        missing_documents=[doc.title for doc in app.missing_documents],
        applicant_full_name=app.applicant.full_name,
        applicant_birth_date=app.applicant.birth_date,
        service_id=app.service_id,
    )


@guarded
def find_application(number: str, *, url: Optional[str] = None) -> Optional[ApplicationView]:
    """The application with this number (in any form the citizen typed), or None.

    Discloses personal data: only for verify() and trusted callers.
    """
    canonical = normalize_application_number(number or "")
    if canonical is None:
        return None
    with session_scope(url) as session:
        app = session.execute(select(Application).where(Application.number == canonical)).scalar_one_or_none()
        return _view(app) if app is not None else None


def verify_on(
    conn: Connection, number: str, birth_date: Optional[dt.date], full_name: Optional[str]
) -> Optional[ApplicationView]:
    """The view only if the number exists and both the name and the birth
    date match its applicant; None otherwise.

    An unknown number, a wrong name and a wrong date do the same work (one
    look-up by number, one name and one date comparison), so neither the
    answer nor its timing tells which one was wrong.
    """
    canonical = normalize_application_number(number or "") or ""
    a, p = applications, applicants
    row = conn.execute(
        select(a.c.id, a.c.number, a.c.service, a.c.service_id, a.c.status, a.c.submitted_at, a.c.expected_at,
               a.c.instructions, p.c.full_name, p.c.birth_date)
        .join_from(a, p).where(a.c.number == canonical)
    ).first()
    record_name, record_date = (row.full_name, row.birth_date) if row is not None else _NOBODY
    name_ok = names_match(full_name, record_name)
    date_ok = birth_date is not None and record_date == birth_date
    if row is None or not (name_ok and date_ok):
        return None
    docs = conn.execute(select(missing_documents.c.title).where(missing_documents.c.application_id == row.id)
                        .order_by(missing_documents.c.position)).scalars().all()
    return ApplicationView(
        number=row.number, service=row.service, status=row.status, submitted_at=row.submitted_at,
        expected_at=row.expected_at, instructions=row.instructions, missing_documents=list(docs),
        applicant_full_name=row.full_name, applicant_birth_date=row.birth_date, service_id=row.service_id,
    )


@guarded
def verify(
    number: str, birth_date: dt.date, full_name: Optional[str], *, url: Optional[str] = None
) -> Optional[ApplicationView]:
    """verify_on in its own transaction (no lockout: see hotline/status/lockout.py)."""
    with session_scope(url) as session:
        return verify_on(session.connection(), number, birth_date, full_name)


@guarded
def count_applications(*, url: Optional[str] = None) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(applications)).scalar_one()


@guarded
def status_history_of(number: str, *, url: Optional[str] = None) -> list[HistoryEntry]:
    with session_scope(url) as session:
        rows = session.execute(
            select(status_history.c.old_status, status_history.c.new_status,
                   status_history.c.changed_at, status_history.c.source)
            .join_from(status_history, applications)
            .where(applications.c.number == number)
            .order_by(status_history.c.changed_at, status_history.c.id)
        )
        return [HistoryEntry(*row) for row in rows]


# --- upsert (the importer's write path) ---------------------------------------

@dataclass(frozen=True)
class _Stored:
    application_id: int
    applicant_id: int
    record: ApplicationRecord


def upsert_applications(
    conn: Connection, records: Sequence[ApplicationRecord], *, source: str,
    now: Optional[dt.datetime] = None,
) -> UpsertCounts:
    """Create or update a batch of applications on a connection from
    db.write_transaction(). Numbers must be unique within the batch.

    A status history row is written for each new application (old status
    NULL) and for each status that changed; other edits leave no history.
    """
    now = _naive_utc(now or utcnow())
    stored = _load_stored(conn, [r.number for r in records])
    counts = UpsertCounts()
    new: list[ApplicationRecord] = []
    changed: list[tuple[_Stored, ApplicationRecord]] = []
    for record in records:
        current = stored.get(record.number)
        if current is None:
            new.append(record)
        elif current.record == record:
            counts.unchanged += 1
        else:
            changed.append((current, record))
    _insert_new(conn, new, source, now)
    _update_changed(conn, changed, source, now)
    counts.created, counts.updated = len(new), len(changed)
    return counts


def _stored_query(numbers: Sequence[str]) -> Select:
    a, p = applications, applicants
    return (
        select(a.c.id, a.c.applicant_id, a.c.number, p.c.full_name, p.c.birth_date, a.c.service,
               a.c.service_id, a.c.status, a.c.submitted_at, a.c.expected_at, a.c.instructions)
        .join_from(a, p)
        .where(a.c.number.in_(numbers))
    )


def _load_stored(conn: Connection, numbers: Sequence[str]) -> dict[str, _Stored]:
    if not numbers:
        return {}
    rows = conn.execute(_stored_query(numbers)).all()
    docs: dict[int, list[str]] = {}
    if rows:
        md = missing_documents
        for app_id, title in conn.execute(
            select(md.c.application_id, md.c.title)
            .where(md.c.application_id.in_([r.id for r in rows]))
            .order_by(md.c.application_id, md.c.position)
        ):
            docs.setdefault(app_id, []).append(title)
    return {
        r.number: _Stored(r.id, r.applicant_id, ApplicationRecord(
            number=r.number, full_name=r.full_name, birth_date=r.birth_date, service=r.service,
            status=r.status, submitted_at=r.submitted_at, expected_at=r.expected_at,
            missing_documents=tuple(docs.get(r.id, ())), instructions=r.instructions,
            service_id=r.service_id,
        ))
        for r in rows
    }


def _reserve_ids(conn: Connection, table, count: int) -> list[int]:
    """Primary keys for `count` new rows, known before the INSERT so child
    rows can go in the same executemany (SQLAlchemy 1.4 cannot return ids
    from an executemany on SQLite)."""
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": count},
        ).scalars())
    if conn.dialect.name == "sqlite" and conn.get_execution_options().get("sqlite_write_lock"):
        # Safe only under BEGIN IMMEDIATE: no other writer until we commit.
        start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
        return list(range(start, start + count))
    raise RuntimeError("upsert_applications needs a connection from db.write_transaction()")


def _document_rows(app_id: int, titles: Iterable[str]) -> list[dict]:
    return [{"application_id": app_id, "position": i, "title": t} for i, t in enumerate(titles, 1)]


_APPLICATION_FIELDS = ("service", "service_id", "status", "submitted_at", "expected_at", "instructions", "updated_at")


def _application_values(record: ApplicationRecord, now: dt.datetime) -> dict:
    return {
        "service": record.service, "service_id": record.service_id, "status": record.status, "submitted_at": record.submitted_at,
        "expected_at": record.expected_at, "instructions": record.instructions, "updated_at": now,
    }


def _insert_new(conn: Connection, records: list[ApplicationRecord], source: str, now: dt.datetime) -> None:
    if not records:
        return
    person_ids = _reserve_ids(conn, applicants, len(records))
    app_ids = _reserve_ids(conn, applications, len(records))
    conn.execute(insert(applicants), [
        {"id": pid, "full_name": r.full_name, "birth_date": r.birth_date} for pid, r in zip(person_ids, records)
    ])
    conn.execute(insert(applications), [
        {"id": aid, "number": r.number, "applicant_id": pid, **_application_values(r, now)}
        for aid, pid, r in zip(app_ids, person_ids, records)
    ])
    docs = [row for aid, r in zip(app_ids, records) for row in _document_rows(aid, r.missing_documents)]
    if docs:
        conn.execute(insert(missing_documents), docs)
    conn.execute(insert(status_history), [
        {"application_id": aid, "old_status": None, "new_status": r.status, "changed_at": now, "source": source}
        for aid, r in zip(app_ids, records)
    ])


def _update_changed(
    conn: Connection, changed: list[tuple[_Stored, ApplicationRecord]], source: str, now: dt.datetime
) -> None:
    if not changed:
        return
    people = [
        {"b_id": s.applicant_id, "b_full_name": r.full_name, "b_birth_date": r.birth_date}
        for s, r in changed
        if (s.record.full_name, s.record.birth_date) != (r.full_name, r.birth_date)
    ]
    if people:
        conn.execute(
            update(applicants).where(applicants.c.id == bindparam("b_id"))
            .values(full_name=bindparam("b_full_name"), birth_date=bindparam("b_birth_date")),
            people,
        )
    conn.execute(
        update(applications).where(applications.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in _APPLICATION_FIELDS}),
        [{"b_id": s.application_id, **{f"b_{k}": v for k, v in _application_values(r, now).items()}}
         for s, r in changed],
    )
    redo_docs = [(s.application_id, r) for s, r in changed if s.record.missing_documents != r.missing_documents]
    if redo_docs:
        conn.execute(delete(missing_documents).where(
            missing_documents.c.application_id.in_([aid for aid, _ in redo_docs])))
        rows = [row for aid, r in redo_docs for row in _document_rows(aid, r.missing_documents)]
        if rows:
            conn.execute(insert(missing_documents), rows)
    history = [
        {"application_id": s.application_id, "old_status": s.record.status, "new_status": r.status,
         "changed_at": now, "source": source}
        for s, r in changed if s.record.status != r.status
    ]
    if history:
        conn.execute(insert(status_history), history)
