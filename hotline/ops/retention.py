"""Retention of personal data and data subject requests.

    python -m hotline.ops.retention purge  [--days N] [--application-days N] [--dry-run]
    python -m hotline.ops.retention export (--channel C --conversation ID | --application NUMBER) [--out FILE]
    python -m hotline.ops.retention delete (--channel C --conversation ID | --application NUMBER) --yes

Databases: the tracker store (``TRACKER_DATABASE_URL``; default the embedded
profile's ``var/tracker.db``) and the status store (``DATABASE_URL``, see
hotline.db.engine), which also holds the handoff tables and the audit table
``retention_audit`` (revision 0003). Every command writes one audit row —
also a dry run and an export — with a hash of the subject, never the
subject itself (hotline.db.tables.retention).

**purge** (``make purge``, run daily by a scheduler) deletes what is older
than ``RETENTION_DAYS`` (default 90):
* tracker events (conversation turns) older than the cut-off; a conversation
  whose every event is older disappears;
* status-check attempts (their keys name the application and the
  conversation) — never younger than the lockout window;
* closed handoff tickets with their messages, and the handoff conversation
  register (when the handoff tables exist);
* applications that are finished (``completed``, ``rejected``) and unchanged
  for ``APPLICATION_RETENTION_DAYS`` (default 365; 0 keeps them), with their
  documents, history and applicant.
The audit tables themselves are kept (they are the record).

**export / delete** take a conversation (channel + the channel's conversation
id: ``telegram 123`` finds ``telegram_123``; REST and the widget use the id as
given) or an application number (any spelling: «ab 987654321»). An
application number covers the application with its applicant, documents and
history, its status-check attempts, and every conversation whose
``application_number`` slot held that number. A conversation covers its
tracker events, its status-check attempts and its handoff tickets.

Exit codes: 0 done, 1 nothing found for the subject, 2 error.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from sqlalchemy import bindparam, create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

from hotline import settings
from hotline.db.base import utcnow

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

    def _has_table(self, engine: Engine, name: str) -> bool:
        return inspect(engine).has_table(name)

    def _audit(self, conn: Connection, action: str, kind: str, counts: Dict[str, int],
               subject: Optional[Subject] = None, cutoff: Optional[dt.datetime] = None) -> None:
        from hotline.db.tables.retention import retention_audit

        conn.execute(retention_audit.insert().values(
            at=utcnow(), action=action, subject_kind=kind, subject_hash=subject.hash if subject else None,
            operator=self.operator, request_ref=self.request_ref, cutoff=cutoff,
            counts=json.dumps(counts, sort_keys=True),
        ))

    @staticmethod
    def _delete_batched(conn: Connection, table: str, where: str, params: Dict[str, Any],
                        key: str = "id") -> int:
        total = 0
        while True:
            ids = [row[0] for row in conn.execute(
                text(f"SELECT {key} FROM {table} WHERE {where} LIMIT {BATCH}"), params)]
            if not ids:
                return total
            conn.execute(text(f"DELETE FROM {table} WHERE {key} IN :ids").bindparams(
                bindparam("ids", expanding=True)), {"ids": ids})
            total += len(ids)

    # --- purge --------------------------------------------------------------------

    def purge(self, days: int, application_days: int, dry_run: bool = False,
              now: Optional[dt.datetime] = None) -> Dict[str, int]:
        from hotline.status.lockout import KEEP_ATTEMPTS

        if days < 1:
            raise ValueError("RETENTION_DAYS must be at least 1")
        now = now or utcnow()
        cutoff = now - dt.timedelta(days=days)
        cutoff_epoch = cutoff.replace(tzinfo=dt.timezone.utc).timestamp()
        counts: Dict[str, int] = {}

        with self.tracker.begin() as conn:
            if self._has_table(self.tracker, "events"):
                counts["tracker_conversations_removed"] = conn.execute(text(
                    "SELECT count(DISTINCT sender_id) FROM events WHERE timestamp < :c AND sender_id NOT IN "
                    "(SELECT sender_id FROM events WHERE timestamp >= :c)"), {"c": cutoff_epoch}).scalar_one()
                if dry_run:
                    counts["tracker_events"] = conn.execute(
                        text("SELECT count(*) FROM events WHERE timestamp < :c"), {"c": cutoff_epoch}).scalar_one()
                else:
                    counts["tracker_events"] = self._delete_batched(conn, "events", "timestamp < :c",
                                                                    {"c": cutoff_epoch})

        attempts_cutoff = min(cutoff, now - KEEP_ATTEMPTS)
        with self.status.begin() as conn:
            plan = [("status_check_attempts", "attempted_at < :c", {"c": attempts_cutoff}, "id")]
            if self._has_table(self.status, "handoff_tickets"):
                plan.append(("handoff_messages", "ticket_id IN (SELECT id FROM handoff_tickets WHERE "
                             "status = 'closed' AND closed_at < :c)", {"c": cutoff}, "id"))
                plan.append(("handoff_tickets", "status = 'closed' AND closed_at < :c", {"c": cutoff}, "id"))
                plan.append(("handoff_conversations", "first_seen < :c", {"c": cutoff}, "conversation_id"))
            if application_days > 0:
                app_cutoff = now - dt.timedelta(days=application_days)
                finished = "status IN ('completed', 'rejected') AND updated_at < :c"
                plan += [
                    ("missing_documents", f"application_id IN (SELECT id FROM applications WHERE {finished})",
                     {"c": app_cutoff}, "application_id"),
                    ("status_history", f"application_id IN (SELECT id FROM applications WHERE {finished})",
                     {"c": app_cutoff}, "id"),
                    ("applications", finished, {"c": app_cutoff}, "id"),
                    ("applicants", "id NOT IN (SELECT applicant_id FROM applications)", {}, "id"),
                ]
            for table, where, params, key in plan:
                if dry_run:
                    counts[table] = conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"),
                                                 params).scalar_one()
                else:
                    counts[table] = self._delete_batched(conn, table, where, params, key)
            counts["dry_run"] = int(dry_run)
            self._audit(conn, "purge", "all", counts, cutoff=cutoff)
        return counts

    # --- finding a subject -------------------------------------------------------

    def _senders_for_conversation(self, channel: str, conversation: str) -> List[str]:
        if not self._has_table(self.tracker, "events"):
            return []
        prefixed = conversation if conversation.startswith(f"{channel}_") else f"{channel}_{conversation}"
        found: List[str] = []
        with self.tracker.connect() as conn:
            for sender in dict.fromkeys([prefixed, conversation]):
                rows = conn.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"),
                                    {"s": sender}).scalars().all()
                if sender == prefixed and sender != conversation and rows:
                    found.append(sender)
                elif any(json.loads(r).get("input_channel") == channel for r in rows):
                    found.append(sender)
        return found

    def _senders_for_application(self, number: str) -> List[str]:
        if not self._has_table(self.tracker, "events"):
            return []
        senders: List[str] = []
        with self.tracker.connect() as conn:
            rows = conn.execute(text(
                "SELECT sender_id, data FROM events WHERE type_name = 'slot' AND data LIKE :n"),
                {"n": f"%{number}%"}).all()
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
                    text("SELECT id FROM applications WHERE number = :n"), {"n": number}).scalars())
            found.sender_ids = self._senders_for_application(number)
            conversation_ids = list(found.sender_ids)
            # The number's own counter and its per-conversation counters.
            patterns = [f"number:{number}", f"number:{number}|%"]
        from hotline.status.lockout import conversation_key

        # Per-conversation counters hash the conversation id (hotline/status/lockout.py).
        patterns += ["%" + conversation_key("", s).split("|", 1)[1] for s in conversation_ids]
        with self.status.connect() as conn:
            for pattern in patterns:
                found.attempt_keys += conn.execute(text(
                    "SELECT DISTINCT key FROM status_check_attempts WHERE key LIKE :p"), {"p": pattern}).scalars()
            found.attempt_keys = sorted(set(found.attempt_keys))
            if conversation_ids and self._has_table(self.status, "handoff_tickets"):
                found.ticket_ids = list(conn.execute(
                    text("SELECT id FROM handoff_tickets WHERE conversation_id IN :ids ORDER BY id").bindparams(
                        bindparam("ids", expanding=True)), {"ids": conversation_ids}).scalars())
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
                events = [json.loads(d) for d in conn.execute(
                    text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}).scalars()]
                data["conversations"].append({"conversation_id": sender, "events": events})
        with self.status.connect() as conn:
            for app_id in found.application_ids:
                app = conn.execute(text(
                    "SELECT a.number, a.service, a.status, a.submitted_at, a.expected_at, a.instructions, "
                    "a.updated_at, p.full_name, p.birth_date FROM applications a "
                    "JOIN applicants p ON p.id = a.applicant_id WHERE a.id = :i"), {"i": app_id}).mappings().one()
                record = {k: _jsonable(v) for k, v in app.items()}
                record["missing_documents"] = list(conn.execute(text(
                    "SELECT title FROM missing_documents WHERE application_id = :i ORDER BY position"),
                    {"i": app_id}).scalars())
                record["status_history"] = [{k: _jsonable(v) for k, v in r.items()} for r in conn.execute(text(
                    "SELECT old_status, new_status, changed_at, source FROM status_history "
                    "WHERE application_id = :i ORDER BY changed_at, id"), {"i": app_id}).mappings()]
                data["applications"].append(record)
            for key in found.attempt_keys:
                data["status_checks"] += [{"key": key, **{k: _jsonable(v) for k, v in r.items()}} for r in
                                          conn.execute(text(
                                              "SELECT attempted_at, success FROM status_check_attempts "
                                              "WHERE key = :k ORDER BY attempted_at"), {"k": key}).mappings()]
            for ticket_id in found.ticket_ids:
                ticket = conn.execute(text(
                    "SELECT id, conversation_id, channel, status, topic, summary, callback_phone, created_at, "
                    "closed_at, resolution, rating FROM handoff_tickets WHERE id = :i"), {"i": ticket_id}
                ).mappings().one()
                record = {k: _jsonable(v) for k, v in ticket.items()}
                record["messages"] = [{k: _jsonable(v) for k, v in r.items()} for r in conn.execute(text(
                    "SELECT at, direction, text FROM handoff_messages WHERE ticket_id = :i ORDER BY id"),
                    {"i": ticket_id}).mappings()]
                data["handoff_tickets"].append(record)
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
        expanding = lambda sql: text(sql).bindparams(bindparam("ids", expanding=True))  # noqa: E731
        with self.tracker.begin() as conn:
            counts["tracker_events"] = conn.execute(
                expanding("DELETE FROM events WHERE sender_id IN :ids"), {"ids": found.sender_ids}
            ).rowcount if found.sender_ids else 0
        counts["tracker_conversations"] = len(found.sender_ids)
        with self.status.begin() as conn:
            counts["status_check_attempts"] = conn.execute(
                expanding("DELETE FROM status_check_attempts WHERE key IN :ids"), {"ids": found.attempt_keys}
            ).rowcount if found.attempt_keys else 0
            if found.ticket_ids:
                counts["handoff_messages"] = conn.execute(
                    expanding("DELETE FROM handoff_messages WHERE ticket_id IN :ids"), {"ids": found.ticket_ids}
                ).rowcount
                counts["handoff_tickets"] = conn.execute(
                    expanding("DELETE FROM handoff_tickets WHERE id IN :ids"), {"ids": found.ticket_ids}).rowcount
            if found.application_ids:
                ids = {"ids": found.application_ids}
                applicants = list(conn.execute(
                    expanding("SELECT applicant_id FROM applications WHERE id IN :ids"), ids).scalars())
                counts["missing_documents"] = conn.execute(
                    expanding("DELETE FROM missing_documents WHERE application_id IN :ids"), ids).rowcount
                counts["status_history"] = conn.execute(
                    expanding("DELETE FROM status_history WHERE application_id IN :ids"), ids).rowcount
                counts["applications"] = conn.execute(
                    expanding("DELETE FROM applications WHERE id IN :ids"), ids).rowcount
                counts["applicants"] = conn.execute(expanding(
                    "DELETE FROM applicants WHERE id IN :ids AND id NOT IN (SELECT applicant_id FROM applications)"),
                    {"ids": applicants}).rowcount
            self._audit(conn, "delete", subject.kind, counts, subject)
        counts["found"] = int(not found.empty)
        return counts

    def audit_records(self, limit: int = 100) -> List[Dict[str, Any]]:
        with self.status.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, at, action, subject_kind, subject_hash, operator, request_ref, cutoff, counts "
                "FROM retention_audit ORDER BY id DESC LIMIT :n"), {"n": limit}).mappings().all()
        return [{**{k: _jsonable(v) for k, v in r.items()}, "counts": json.loads(r["counts"])} for r in rows]


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _whoami() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _subject(args: argparse.Namespace) -> Subject:
    if args.application:
        return Subject("application", application=args.application)
    if args.channel and args.conversation:
        return Subject("conversation", channel=args.channel, conversation=args.conversation)
    raise SystemExit("нужно --channel и --conversation или --application (need a conversation or an application)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hotline.ops.retention",
                                     description="Retention purge and data subject requests")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=None, help="status store (default $DATABASE_URL)")
    common.add_argument("--tracker-url", default=None, help="tracker store (default $TRACKER_DATABASE_URL)")
    common.add_argument("--operator", default=None, help="who runs it (audit; default $RETENTION_OPERATOR/$USER)")
    common.add_argument("--request", default=None, help="request or ticket reference (audit)")
    subject = argparse.ArgumentParser(add_help=False)
    subject.add_argument("--channel", help="rest, socketio, telegram, vk, ...")
    subject.add_argument("--conversation", help="the channel's conversation id")
    subject.add_argument("--application", help="application number")
    commands = parser.add_subparsers(dest="command", required=True)
    purge = commands.add_parser("purge", parents=[common], help="delete what is older than the retention period")
    purge.add_argument("--days", type=int, default=settings.get("RETENTION_DAYS"))
    purge.add_argument("--application-days", type=int, default=settings.get("APPLICATION_RETENTION_DAYS"))
    purge.add_argument("--dry-run", action="store_true", help="count only (still audited)")
    export = commands.add_parser("export", parents=[common, subject], help="a citizen's data as JSON")
    export.add_argument("--out", default="-", help="file (default: standard output)")
    delete = commands.add_parser("delete", parents=[common, subject], help="delete a citizen's data")
    delete.add_argument("--yes", action="store_true", help="really delete")
    commands.add_parser("audit", parents=[common], help="the latest audit records")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from hotline.db.engine import StoreUnavailable

    try:
        retention = Retention(args.database_url, args.tracker_url, args.operator, args.request)
        if args.command == "purge":
            counts = retention.purge(args.days, args.application_days, args.dry_run)
            print(json.dumps({"purged" if not args.dry_run else "would_purge": counts,
                              "retention_days": args.days, "application_retention_days": args.application_days},
                             ensure_ascii=False))
            return 0
        if args.command == "audit":
            print(json.dumps(retention.audit_records(), ensure_ascii=False, indent=1))
            return 0
        subject = _subject(args)
        if args.command == "export":
            data = retention.export(subject)
            if data is None:
                print("ничего не найдено (nothing found)", file=sys.stderr)
                return 1
            body = json.dumps(data, ensure_ascii=False, indent=1)
            if args.out == "-":
                print(body)
            else:
                Path(args.out).write_text(body, encoding="utf-8")
                print(f"выгружено в {args.out} (exported)", file=sys.stderr)
            return 0
        if not args.yes:
            print("удаление необратимо: добавьте --yes (deletion is irreversible: add --yes)", file=sys.stderr)
            return 2
        counts = retention.delete(subject)
        print(json.dumps({"deleted": counts}, ensure_ascii=False))
        return 0 if counts.pop("found") else 1
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"база данных недоступна (database unavailable): {exc.__cause__ or exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # driver errors: class only, parameters are hidden
        if type(exc).__module__.startswith(("sqlalchemy", "psycopg2")):
            print(f"ошибка базы данных (database error): {type(exc).__name__}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
