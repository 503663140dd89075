"""Purge, export and delete against the tracker store and the status store,
with the ORM tables of hotline.db.tables (the tracker's ``events`` is Rasa's,
described in hotline.db.tables.tracker). See the package's docstring for
what each removes or finds."""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import Table, and_, create_engine, delete, distinct, func, inspect, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.sql import ColumnElement

from hotline import settings
from hotline.db.base import utcnow
from hotline.db.tables.handoff import conversations, messages, tickets
from hotline.db.tables.retention import retention_audit
from hotline.db.tables.status import (applicants, applications, missing_documents, status_check_attempts,
                                      status_history)
from hotline.db.tables.tracker import events

DEFAULT_TRACKER_URL = settings.CATALOGUE["TRACKER_DATABASE_URL"].default
FINISHED_STATUSES = ("completed", "rejected")
BATCH = 5000


def tracker_url(url: Optional[str] = None) -> str:
    from hotline.db.engine import resolve_sqlite_path

    return resolve_sqlite_path(url or settings.get("TRACKER_DATABASE_URL"))


def tracker_engine(url: Optional[str] = None) -> Engine:
    resolved = tracker_url(url)
    options: Dict[str, Any] = {"future": True, "hide_parameters": True}
    if make_url(resolved).get_backend_name() == "postgresql":
        options["pool_pre_ping"] = True
    return create_engine(resolved, **options)


def subject_hash(kind: str, *parts: str) -> str:
    return hashlib.sha256(":".join((kind, *parts)).encode("utf-8")).hexdigest()


@dataclass
class Subject:
    kind: str  # conversation | application
    channel: Optional[str] = None
    conversation: Optional[str] = None
    application: Optional[str] = None

    @property
    def hash(self) -> str:
        if self.kind == "conversation":
            return subject_hash("conversation", self.channel or "", self.conversation or "")
        return subject_hash("application", self.application or "")


@dataclass
class Found:
    sender_ids: List[str] = field(default_factory=list)
    application_ids: List[int] = field(default_factory=list)
    application_numbers: List[str] = field(default_factory=list)
    attempt_keys: List[str] = field(default_factory=list)
    ticket_ids: List[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.sender_ids or self.application_ids or self.attempt_keys or self.ticket_ids)


# What a purge removes: (table, which rows, the column rows are deleted by).
Plan = List[Tuple[Table, ColumnElement, Any]]


def _status_plan(now: dt.datetime, cutoff: dt.datetime, application_days: int, handoff: bool) -> Plan:
    from hotline.status.lockout import KEEP_ATTEMPTS

    attempts = status_check_attempts
    plan: Plan = [(attempts, attempts.c.attempted_at < min(cutoff, now - KEEP_ATTEMPTS), attempts.c.id)]
    if handoff:
        closed = and_(tickets.c.status == "closed", tickets.c.closed_at < cutoff)
        plan += [
            (messages, messages.c.ticket_id.in_(select(tickets.c.id).where(closed)), messages.c.id),
            (tickets, closed, tickets.c.id),
            (conversations, conversations.c.first_seen < cutoff, conversations.c.conversation_id),
        ]
    if application_days > 0:
        finished = and_(applications.c.status.in_(FINISHED_STATUSES),
                        applications.c.updated_at < now - dt.timedelta(days=application_days))
        finished_ids = select(applications.c.id).where(finished)
        plan += [
            (missing_documents, missing_documents.c.application_id.in_(finished_ids),
             missing_documents.c.application_id),
            (status_history, status_history.c.application_id.in_(finished_ids), status_history.c.id),
            (applications, finished, applications.c.id),
            (applicants, applicants.c.id.not_in(select(applications.c.applicant_id)), applicants.c.id),
        ]
    return plan


class Retention:
    def __init__(self, status_url: Optional[str] = None, tracker_db_url: Optional[str] = None,
                 operator: Optional[str] = None, request_ref: Optional[str] = None) -> None:
        from hotline.db.engine import get_engine, init_db

        init_db(status_url)  # the audit table must exist (idempotent)
        self.status = get_engine(status_url)
        self.tracker = tracker_engine(tracker_db_url)
        self.operator = (operator or settings.get("RETENTION_OPERATOR") or _whoami())[:64]
        self.request_ref = (request_ref or None) and request_ref[:64]

    # --- helpers ------------------------------------------------------------------

    def _has_table(self, engine: Engine, table: Table) -> bool:
        return inspect(engine).has_table(table.name)

    def _audit(self, conn: Connection, action: str, kind: str, counts: Dict[str, int],
               subject: Optional[Subject] = None, cutoff: Optional[dt.datetime] = None) -> None:
        conn.execute(retention_audit.insert().values(
            at=utcnow(), action=action, subject_kind=kind, subject_hash=subject.hash if subject else None,
            operator=self.operator, request_ref=self.request_ref, cutoff=cutoff,
            counts=json.dumps(counts, sort_keys=True),
        ))

    @staticmethod
    def _delete_batched(conn: Connection, table: Table, where: ColumnElement, key: Any) -> int:
        total = 0
        while True:
            ids = conn.execute(select(key).where(where).limit(BATCH)).scalars().all()
            if not ids:
                return total
            conn.execute(delete(table).where(key.in_(ids)))
            total += len(ids)

    @staticmethod
    def _count(conn: Connection, table: Table, where: ColumnElement) -> int:
        return conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()

    # --- purge --------------------------------------------------------------------

    def purge(self, days: int, application_days: int, dry_run: bool = False,
              now: Optional[dt.datetime] = None) -> Dict[str, int]:
        if days < 1:
            raise ValueError("RETENTION_DAYS must be at least 1")
        now = now or utcnow()
        cutoff = now - dt.timedelta(days=days)
        cutoff_epoch = cutoff.replace(tzinfo=dt.timezone.utc).timestamp()
        counts: Dict[str, int] = {}

        with self.tracker.begin() as conn:
            if self._has_table(self.tracker, events):
                old = events.c.timestamp < cutoff_epoch
                still_active = select(events.c.sender_id).where(events.c.timestamp >= cutoff_epoch)
                counts["tracker_conversations_removed"] = conn.execute(
                    select(func.count(distinct(events.c.sender_id))).where(
                        old, events.c.sender_id.not_in(still_active))).scalar_one()
                counts["tracker_events"] = (self._count(conn, events, old) if dry_run
                                            else self._delete_batched(conn, events, old, events.c.id))

        with self.status.begin() as conn:
            plan = _status_plan(now, cutoff, application_days, self._has_table(self.status, tickets))
            for table, where, key in plan:
                counts[table.name] = (self._count(conn, table, where) if dry_run
                                      else self._delete_batched(conn, table, where, key))
            counts["dry_run"] = int(dry_run)
            self._audit(conn, "purge", "all", counts, cutoff=cutoff)
        return counts

    # --- finding a subject -------------------------------------------------------

    def _senders_for_conversation(self, channel: str, conversation: str) -> List[str]:
        if not self._has_table(self.tracker, events):
            return []
        prefixed = conversation if conversation.startswith(f"{channel}_") else f"{channel}_{conversation}"
        found: List[str] = []
        with self.tracker.connect() as conn:
            for sender in dict.fromkeys([prefixed, conversation]):
                rows = conn.execute(select(events.c.data).where(
                    events.c.sender_id == sender, events.c.type_name == "user")).scalars().all()
                if sender == prefixed and sender != conversation and rows:
                    found.append(sender)
                elif any(json.loads(r).get("input_channel") == channel for r in rows):
                    found.append(sender)
        return found

    def _senders_for_application(self, number: str) -> List[str]:
        if not self._has_table(self.tracker, events):
            return []
        senders: List[str] = []
        with self.tracker.connect() as conn:
            rows = conn.execute(select(events.c.sender_id, events.c.data).where(
                events.c.type_name == "slot", events.c.data.like(f"%{number}%"))).all()
        for sender, data in rows:
            event = json.loads(data)
            if event.get("name") == "application_number" and event.get("value") == number:
                senders.append(sender)
        return list(dict.fromkeys(senders))

    def find(self, subject: Subject) -> Found:
        found = Found()
        if subject.kind == "conversation":
            found.sender_ids = self._senders_for_conversation(subject.channel or "", subject.conversation or "")
            # Without tracker events the conversation id may still key attempts or tickets.
            conversation_ids = found.sender_ids or [subject.conversation or ""]
            patterns: List[str] = []
        else:
            from hotline.entities import normalize_application_number

            number = normalize_application_number(subject.application or "")
            if number is None:
                raise ValueError("неверный номер заявления (invalid application number)")
            subject.application = number
            found.application_numbers = [number]
            with self.status.connect() as conn:
                found.application_ids = list(conn.execute(
                    select(applications.c.id).where(applications.c.number == number)).scalars())
            found.sender_ids = self._senders_for_application(number)
            conversation_ids = list(found.sender_ids)
            # The number's own counter and its per-conversation counters.
            patterns = [f"number:{number}", f"number:{number}|%"]
        from hotline.status.lockout import conversation_key

        # Per-conversation counters hash the conversation id (hotline/status/lockout.py).
        patterns += ["%" + conversation_key("", s).split("|", 1)[1] for s in conversation_ids]
        attempts = status_check_attempts
        with self.status.connect() as conn:
            for pattern in patterns:
                found.attempt_keys += conn.execute(
                    select(distinct(attempts.c.key)).where(attempts.c.key.like(pattern))).scalars()
            found.attempt_keys = sorted(set(found.attempt_keys))
            if conversation_ids and self._has_table(self.status, tickets):
                found.ticket_ids = list(conn.execute(select(tickets.c.id).where(
                    tickets.c.conversation_id.in_(conversation_ids)).order_by(tickets.c.id)).scalars())
        return found

    # --- export -------------------------------------------------------------------

    def export(self, subject: Subject) -> Optional[Dict[str, Any]]:
        found = self.find(subject)
        data: Dict[str, Any] = {
            "exported_at": utcnow().isoformat(timespec="seconds") + "Z",
            "subject": {k: v for k, v in vars(subject).items() if v is not None},
            "conversations": [], "applications": [], "status_checks": [], "handoff_tickets": [],
        }
        with self.tracker.connect() as conn:
            for sender in found.sender_ids:
                events_of = conn.execute(select(events.c.data).where(events.c.sender_id == sender)
                                         .order_by(events.c.id)).scalars()
                data["conversations"].append({"conversation_id": sender, "events": [json.loads(d) for d in events_of]})
        with self.status.connect() as conn:
            for app_id in found.application_ids:
                data["applications"].append(_application_record(conn, app_id))
            attempts = status_check_attempts
            for key in found.attempt_keys:
                rows = conn.execute(select(attempts.c.attempted_at, attempts.c.success)
                                    .where(attempts.c.key == key).order_by(attempts.c.attempted_at)).mappings()
                data["status_checks"] += [{"key": key, **_record(r)} for r in rows]
            for ticket_id in found.ticket_ids:
                data["handoff_tickets"].append(_ticket_record(conn, ticket_id))
            counts = {
                "tracker_conversations": len(found.sender_ids),
                "tracker_events": sum(len(c["events"]) for c in data["conversations"]),
                "applications": len(data["applications"]),
                "status_check_attempts": len(data["status_checks"]),
                "handoff_tickets": len(data["handoff_tickets"]),
            }
        with self.status.begin() as conn:
            self._audit(conn, "export", subject.kind, counts, subject)
        return None if found.empty else data

    # --- delete -------------------------------------------------------------------

    def delete(self, subject: Subject) -> Dict[str, int]:
        found = self.find(subject)
        counts: Dict[str, int] = {}
        with self.tracker.begin() as conn:
            counts["tracker_events"] = conn.execute(delete(events).where(
                events.c.sender_id.in_(found.sender_ids))).rowcount if found.sender_ids else 0
        counts["tracker_conversations"] = len(found.sender_ids)
        with self.status.begin() as conn:
            attempts = status_check_attempts
            counts["status_check_attempts"] = conn.execute(delete(attempts).where(
                attempts.c.key.in_(found.attempt_keys))).rowcount if found.attempt_keys else 0
            if found.ticket_ids:
                counts["handoff_messages"] = conn.execute(delete(messages).where(
                    messages.c.ticket_id.in_(found.ticket_ids))).rowcount
                counts["handoff_tickets"] = conn.execute(delete(tickets).where(
                    tickets.c.id.in_(found.ticket_ids))).rowcount
            if found.application_ids:
                ids = found.application_ids
                owners = list(conn.execute(select(applications.c.applicant_id)
                                           .where(applications.c.id.in_(ids))).scalars())
                counts["missing_documents"] = conn.execute(delete(missing_documents).where(
                    missing_documents.c.application_id.in_(ids))).rowcount
                counts["status_history"] = conn.execute(delete(status_history).where(
                    status_history.c.application_id.in_(ids))).rowcount
                counts["applications"] = conn.execute(delete(applications).where(
                    applications.c.id.in_(ids))).rowcount
                # An applicant with another application stays.
                counts["applicants"] = conn.execute(delete(applicants).where(
                    applicants.c.id.in_(owners),
                    applicants.c.id.not_in(select(applications.c.applicant_id)))).rowcount
            self._audit(conn, "delete", subject.kind, counts, subject)
        counts["found"] = int(not found.empty)
        return counts

    def audit_records(self, limit: int = 100) -> List[Dict[str, Any]]:
        a = retention_audit
        with self.status.connect() as conn:
            rows = conn.execute(select(a.c.id, a.c.at, a.c.action, a.c.subject_kind, a.c.subject_hash, a.c.operator,
                                       a.c.request_ref, a.c.cutoff, a.c.counts)
                                .order_by(a.c.id.desc()).limit(limit)).mappings().all()
        return [{**_record(r), "counts": json.loads(r["counts"])} for r in rows]


def _application_record(conn: Connection, app_id: int) -> Dict[str, Any]:
    a, p = applications, applicants
    app = conn.execute(select(a.c.number, a.c.service, a.c.status, a.c.submitted_at, a.c.expected_at,
                              a.c.instructions, a.c.updated_at, p.c.full_name, p.c.birth_date)
                       .select_from(a.join(p, p.c.id == a.c.applicant_id)).where(a.c.id == app_id)).mappings().one()
    record = _record(app)
    record["missing_documents"] = list(conn.execute(
        select(missing_documents.c.title).where(missing_documents.c.application_id == app_id)
        .order_by(missing_documents.c.position)).scalars())
    h = status_history
    record["status_history"] = [_record(r) for r in conn.execute(
        select(h.c.old_status, h.c.new_status, h.c.changed_at, h.c.source).where(h.c.application_id == app_id)
        .order_by(h.c.changed_at, h.c.id)).mappings()]
    return record


def _ticket_record(conn: Connection, ticket_id: int) -> Dict[str, Any]:
    t = tickets
    ticket = conn.execute(select(t.c.id, t.c.conversation_id, t.c.channel, t.c.status, t.c.topic, t.c.summary,
                                 t.c.callback_phone, t.c.created_at, t.c.closed_at, t.c.resolution, t.c.rating)
                          .where(t.c.id == ticket_id)).mappings().one()
    record = _record(ticket)
    record["messages"] = [_record(r) for r in conn.execute(
        select(messages.c.at, messages.c.direction, messages.c.text).where(messages.c.ticket_id == ticket_id)
        .order_by(messages.c.id)).mappings()]
    return record


def _record(row: Any) -> Dict[str, Any]:
    return {k: _jsonable(v) for k, v in row.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _whoami() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
