"""The status-check lockout: how many identity checks an application number
gets, counted atomically in SQL so that several action servers share it.

Two counters per check, both keyed on the *normalised* number (so «ab
987654321», «АВ–987654321» and «AB-987654321» are one number):

* ``number:<N>|conversation:<id>`` — the attempts of one conversation on one
  number. Failures escalate: 3 → locked 15 min, 6 → 1 h, 10 within 24 h →
  24 h; a success clears the streak. This is what a citizen who mistypes
  their date meets, and it never touches anyone else's conversation.
* ``number:<N>`` — every failure on the number, whoever made it. At
  NUMBER_DAILY_CAP failures within a rolling 24 h the number is *capped*: no
  more checks for it from new conversations, whatever their ids (a client
  can always open a new conversation, so this is the bound on guessing);
  the cap raises an alert (metric + audit) instead of escalating, attempts
  while capped are not counted, and it lifts by itself as failures age out.
  A conversation on a channel whose ids the server owns (Telegram, VK, the
  widget's issued session, the phone) that verified this number within
  TRUSTED_FOR stays allowed through the cap, under its own per-conversation
  limits: a flood from strangers cannot shut the owner out of a
  conversation they already used.

Each check runs in one transaction that first locks both counter rows
(INSERT … ON CONFLICT DO NOTHING, then SELECT … FOR UPDATE on PostgreSQL;
BEGIN IMMEDIATE on SQLite), then verifies, then records. Concurrent guesses
on one number therefore queue instead of all reading the same old count.
"""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import logging
from dataclasses import dataclass
from typing import Callable, Generic, Optional, TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from hotline.db.base import utcnow
from hotline.db.engine import guarded, write_transaction
from hotline.db.tables.status import status_check_attempts, status_check_locks

logger = logging.getLogger(__name__)

# (failures in a row, lock) — checked from the longest lock down.
ESCALATION: tuple[tuple[int, dt.timedelta], ...] = (
    (10, dt.timedelta(hours=24)),
    (6, dt.timedelta(hours=1)),
    (3, dt.timedelta(minutes=15)),
)
DAY = dt.timedelta(hours=24)
NUMBER_DAILY_CAP = 20
TRUSTED_FOR = dt.timedelta(days=30)
# Attempts younger than this must survive retention purges.
KEEP_ATTEMPTS = DAY

T = TypeVar("T")


class Outcome(str, enum.Enum):
    VERIFIED = "verified"
    FAILED = "failed"
    LOCKED = "locked"  # this conversation is locked for the number (now or already)
    CAPPED = "capped"  # the number reached its daily cap


@dataclass(frozen=True)
class CheckResult(Generic[T]):
    outcome: Outcome
    value: Optional[T] = None
    checked: bool = False  # whether verify ran (tests count these)

    @property
    def refused(self) -> bool:
        return self.outcome in (Outcome.LOCKED, Outcome.CAPPED)



def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def number_key(number: str) -> str:
    return f"number:{number}"


def conversation_key(number: str, conversation: str) -> str:
    # Hashed: conversation ids may be long and carry channel user ids.
    digest = hashlib.sha256(conversation.encode("utf-8")).hexdigest()[:32]
    return f"number:{number}|conversation:{digest}"


def _lock_rows(conn: Connection, keys: list[str], now: dt.datetime) -> dict[str, Optional[dt.datetime]]:
    """Create the counter rows if missing and hold them until commit."""
    locks = status_check_locks
    rows = [{"key": k, "locked_until": None, "updated_at": now} for k in keys]
    if conn.dialect.name == "postgresql":
        conn.execute(pg_insert(locks).values(rows).on_conflict_do_nothing(index_elements=["key"]))
    else:
        conn.execute(sqlite_insert(locks).values(rows).on_conflict_do_nothing(index_elements=["key"]))
    # Sorted: two checks always lock in the same order, so they never deadlock.
    query = select(locks.c.key, locks.c.locked_until).where(locks.c.key.in_(sorted(keys))).order_by(locks.c.key)
    return dict(conn.execute(query.with_for_update()).all())


def _failures(conn: Connection, key: str, since: dt.datetime) -> int:
    a = status_check_attempts
    return conn.execute(select(func.count()).select_from(a).where(
        a.c.key == key, a.c.success.is_(False), a.c.attempted_at > since)).scalar_one()


def _last_success(conn: Connection, key: str) -> Optional[dt.datetime]:
    a = status_check_attempts
    return conn.execute(select(func.max(a.c.attempted_at)).where(a.c.key == key, a.c.success.is_(True))).scalar()


def _record_lock(conn: Connection, *, scope: str, number: str, conversation: str, failures: int,
                 until: dt.datetime, lasting: dt.timedelta, now: dt.datetime) -> None:
    """A metric and an audit row the console shows, for every lock."""
    from hotline.db.tables.handoff import audit
    from hotline.ops.metrics import STATUS_LOCKS

    hours = lasting.total_seconds() / 3600
    duration = f"{int(lasting.total_seconds() // 60)}m" if hours < 1 else f"{int(hours)}h"
    STATUS_LOCKS.labels(scope, duration).inc()
    conn.execute(insert(audit).values(
        at=now, operator_id=None, action="status_capped" if scope == "number" else "status_locked",
        subject=f"application:{number}", ticket_id=None,
        conversation_id=conversation if scope == "conversation" else None,
        detail=f"failures={failures}; until={until.isoformat(timespec='minutes')}Z", ip=None, via="bot"))
    logger.warning("status check lock: scope=%s duration=%s", scope, duration)


@guarded
def check(
    number: str, conversation: str, verify: Callable[[Connection], Optional[T]], *,
    trusted_channel: bool = False, now: Optional[dt.datetime] = None, url: Optional[str] = None,
) -> CheckResult[T]:
    """Run `verify` (None = identity not confirmed) unless the lockout refuses.

    `number` must already be normalised; `conversation` is the server-side
    conversation id; `trusted_channel` says whether the channel owns its ids
    (only those conversations can pass a capped number).
    """
    now = _naive_utc(now or utcnow())
    n_key, c_key = number_key(number), conversation_key(number, conversation)
    with write_transaction(url) as conn:
        held = _lock_rows(conn, [n_key, c_key], now)
        if held.get(c_key) is not None and held[c_key] > now:
            return CheckResult(Outcome.LOCKED)
        number_failures = _failures(conn, n_key, now - DAY)
        if number_failures >= NUMBER_DAILY_CAP:
            last = _last_success(conn, c_key) if trusted_channel else None
            if last is None or now - last > TRUSTED_FOR:
                return CheckResult(Outcome.CAPPED)
        value = verify(conn)
        success = value is not None
        conn.execute(insert(status_check_attempts), [
            {"key": key, "attempted_at": now, "success": success} for key in (n_key, c_key)])
        if success:
            return CheckResult(Outcome.VERIFIED, value, checked=True)
        outcome = Outcome.FAILED
        last = _last_success(conn, c_key)
        streak = _failures(conn, c_key, max(now - DAY, last) if last else now - DAY)
        for threshold, lasting in ESCALATION:
            if streak == threshold:
                until = now + lasting
                conn.execute(update(status_check_locks).where(status_check_locks.c.key == c_key)
                             .values(locked_until=until, updated_at=now))
                _record_lock(conn, scope="conversation", number=number, conversation=conversation,
                             failures=streak, until=until, lasting=lasting, now=now)
                outcome = Outcome.LOCKED
                break
        if number_failures + 1 == NUMBER_DAILY_CAP:
            oldest = conn.execute(select(func.min(status_check_attempts.c.attempted_at)).where(
                status_check_attempts.c.key == n_key, status_check_attempts.c.success.is_(False),
                status_check_attempts.c.attempted_at > now - DAY)).scalar()
            until = (oldest or now) + DAY
            conn.execute(update(status_check_locks).where(status_check_locks.c.key == n_key)
                         .values(locked_until=until, updated_at=now))
            _record_lock(conn, scope="number", number=number, conversation=conversation,
                         failures=number_failures + 1, until=until, lasting=DAY, now=now)
            if outcome is Outcome.FAILED:
                outcome = Outcome.CAPPED
        return CheckResult(outcome, checked=True)
