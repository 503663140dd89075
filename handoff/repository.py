"""Reads and writes of the handoff tables, as plain values.

Like hotline.status.repository: callers get frozen dataclasses, never ORM
objects, and every database error leaves as StoreUnavailable. All functions
are synchronous (the console calls them through asyncio.to_thread); `url`
selects the database (default: DATABASE_URL, else var/status.db).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hotline.db.engine import StoreUnavailable, guarded, session_scope
from hotline.db.tables.handoff import (
    OPEN_STATUSES,
    audit,
    conversations,
    messages,
    operators,
    sessions,
    tickets,
)
from handoff.wait import QueueState, estimate_wait_seconds, mean_handling_seconds, percentile
from hotline.db.base import utcnow


def naive_utc(value: Optional[dt.datetime]) -> dt.datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


# --- values -------------------------------------------------------------------

@dataclass(frozen=True)
class OperatorView:
    id: int
    login: str
    display_name: str
    is_admin: bool
    is_active: bool
    telegram_user_id: Optional[int]
    created_at: dt.datetime
    last_seen_at: Optional[dt.datetime]
    password_hash: str = field(repr=False, default="")

    def public(self) -> Dict[str, Any]:
        return {"id": self.id, "login": self.login, "display_name": self.display_name,
                "is_admin": self.is_admin, "is_active": self.is_active,
                "telegram_user_id": self.telegram_user_id}


@dataclass(frozen=True)
class SessionView:
    id: int
    operator: OperatorView
    csrf_token: str = field(repr=False)
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    closed_at: Optional[dt.datetime]


@dataclass(frozen=True)
class TicketView:
    id: int
    conversation_id: str
    channel: str
    status: str
    reason: str
    topic: str
    summary: str
    callback_phone: Optional[str]
    offline: bool
    created_at: dt.datetime
    assigned_at: Optional[dt.datetime]
    closed_at: Optional[dt.datetime]
    operator_id: Optional[int]
    operator_name: Optional[str]
    closed_by: Optional[str]
    resolution: Optional[str]
    rating: Optional[int]
    rating_requested_at: Optional[dt.datetime]
    resume_pending: bool
    resumed_at: Optional[dt.datetime]
    told_wait_seconds: Optional[int]
    told_at: Optional[dt.datetime]
    acked_at: Optional[dt.datetime]
    tg_topic_id: Optional[int]
    tg_synced_message_id: Optional[int]
    tg_closed: bool

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def public(self, now: Optional[dt.datetime] = None) -> Dict[str, Any]:
        now = naive_utc(now)
        return {
            "id": self.id, "conversation_id": self.conversation_id, "channel": self.channel,
            "status": self.status, "reason": self.reason, "topic": self.topic, "summary": self.summary,
            "callback_phone": self.callback_phone, "offline": self.offline,
            "created_at": _iso(self.created_at), "assigned_at": _iso(self.assigned_at),
            "closed_at": _iso(self.closed_at), "operator_id": self.operator_id,
            "operator_name": self.operator_name, "closed_by": self.closed_by, "resolution": self.resolution,
            "rating": self.rating,
            "waiting_seconds": int(((self.assigned_at or self.closed_at or now) - self.created_at).total_seconds()),
        }


@dataclass(frozen=True)
class MessageView:
    id: int
    ticket_id: int
    at: dt.datetime
    direction: str
    text: str
    operator_id: Optional[int]
    source: str
    delivered_at: Optional[dt.datetime]
    delivery_ms: Optional[float]
    delivery_error: Optional[str]
    conversation_id: str = ""
    operator_name: Optional[str] = None

    def public(self) -> Dict[str, Any]:
        return {"id": self.id, "ticket_id": self.ticket_id, "at": _iso(self.at), "direction": self.direction,
                "text": self.text, "operator_id": self.operator_id, "operator_name": self.operator_name,
                "source": self.source, "delivered": self.delivered_at is not None,
                "delivery_error": self.delivery_error}


@dataclass(frozen=True)
class AuditView:
    id: int
    at: dt.datetime
    operator_id: Optional[int]
    operator_login: Optional[str]
    action: str
    subject: Optional[str]
    ticket_id: Optional[int]
    conversation_id: Optional[str]
    detail: Optional[str]
    ip: Optional[str]
    via: str

    def public(self) -> Dict[str, Any]:
        return {"id": self.id, "at": _iso(self.at), "operator": self.operator_login, "action": self.action,
                "subject": self.subject, "ticket_id": self.ticket_id, "conversation_id": self.conversation_id,
                "detail": self.detail, "ip": self.ip, "via": self.via}


def _iso(value: Optional[dt.datetime]) -> Optional[str]:
    return value.replace(tzinfo=dt.timezone.utc).isoformat() if value else None


def _operator(row) -> OperatorView:
    m = row._mapping
    return OperatorView(id=m["id"], login=m["login"], display_name=m["display_name"], is_admin=bool(m["is_admin"]),
                        is_active=bool(m["is_active"]), telegram_user_id=m["telegram_user_id"],
                        created_at=m["created_at"], last_seen_at=m["last_seen_at"],
                        password_hash=m["password_hash"])


_TICKET_COLUMNS = [c for c in tickets.c]


def _ticket_query():
    return select(*_TICKET_COLUMNS, operators.c.display_name.label("operator_name")).select_from(
        tickets.outerjoin(operators, tickets.c.operator_id == operators.c.id))


def _ticket(row) -> TicketView:
    m = dict(row._mapping)
    m["offline"] = bool(m["offline"])
    m["resume_pending"] = bool(m["resume_pending"])
    m["tg_closed"] = bool(m["tg_closed"])
    return TicketView(**{k: m[k] for k in TicketView.__dataclass_fields__})


def _message(row) -> MessageView:
    m = dict(row._mapping)
    return MessageView(**{k: m.get(k) for k in MessageView.__dataclass_fields__
                          if k in m or k not in ("conversation_id", "operator_name")})


# --- operators ------------------------------------------------------------------

class OperatorExists(ValueError):
    pass


@guarded
def create_operator(login: str, display_name: str, password_hash: str, *, is_admin: bool = False,
                    telegram_user_id: Optional[int] = None, url: Optional[str] = None) -> OperatorView:
    now = utcnow()
    try:
        with session_scope(url) as s:
            s.execute(insert(operators).values(
                login=login, display_name=display_name, password_hash=password_hash, is_admin=is_admin,
                is_active=True, telegram_user_id=telegram_user_id, created_at=now))
    except StoreUnavailable as exc:
        if isinstance(exc.__cause__, IntegrityError):
            raise OperatorExists(login) from None
        raise
    found = operator_by_login(login, url=url)
    assert found is not None
    return found


@guarded
def operator_by_login(login: str, *, url: Optional[str] = None) -> Optional[OperatorView]:
    with session_scope(url) as s:
        row = s.execute(select(operators).where(operators.c.login == login)).first()
        return _operator(row) if row else None


@guarded
def operator_by_id(operator_id: int, *, url: Optional[str] = None) -> Optional[OperatorView]:
    with session_scope(url) as s:
        row = s.execute(select(operators).where(operators.c.id == operator_id)).first()
        return _operator(row) if row else None


@guarded
def operator_by_telegram(telegram_user_id: int, *, url: Optional[str] = None) -> Optional[OperatorView]:
    with session_scope(url) as s:
        row = s.execute(select(operators).where(operators.c.telegram_user_id == int(telegram_user_id))).first()
        return _operator(row) if row else None


@guarded
def list_operators(*, url: Optional[str] = None) -> List[OperatorView]:
    with session_scope(url) as s:
        return [_operator(r) for r in s.execute(select(operators).order_by(operators.c.login))]


@guarded
def count_operators(*, url: Optional[str] = None) -> int:
    with session_scope(url) as s:
        return int(s.execute(select(func.count()).select_from(operators)).scalar_one())


@guarded
def update_operator(login: str, *, url: Optional[str] = None, **values: Any) -> Optional[OperatorView]:
    allowed = {"display_name", "password_hash", "is_admin", "is_active", "telegram_user_id", "disabled_at"}
    values = {k: v for k, v in values.items() if k in allowed}
    if "is_active" in values:
        values["disabled_at"] = None if values["is_active"] else utcnow()
    with session_scope(url) as s:
        s.execute(update(operators).where(operators.c.login == login).values(**values))
        if values.get("is_active") is False:
            # A disabled operator is signed out everywhere at once.
            _close_sessions_of(s, login)
    return operator_by_login(login, url=url)


def _close_sessions_of(s, login: str) -> int:
    return s.execute(update(sessions).where(
        sessions.c.operator_id == select(operators.c.id).where(operators.c.login == login).scalar_subquery(),
        sessions.c.closed_at.is_(None)).values(closed_at=utcnow())).rowcount


@guarded
def close_operator_sessions(login: str, *, url: Optional[str] = None) -> int:
    """End every open session of an operator (a new password: whoever knew
    the old one and signed in with it is out)."""
    with session_scope(url) as s:
        return _close_sessions_of(s, login)


@guarded
def touch_operator(operator_id: int, at: Optional[dt.datetime] = None, *, url: Optional[str] = None) -> None:
    with session_scope(url) as s:
        s.execute(update(operators).where(operators.c.id == operator_id).values(last_seen_at=naive_utc(at)))


# --- console sessions ---------------------------------------------------------------

@guarded
def create_session(operator_id: int, token_hash: str, csrf_token: str, expires_at: dt.datetime,
                   ip: Optional[str] = None, *, url: Optional[str] = None) -> None:
    now = utcnow()
    with session_scope(url) as s:
        s.execute(insert(sessions).values(token_hash=token_hash, operator_id=operator_id, csrf_token=csrf_token,
                                          created_at=now, last_seen_at=now, expires_at=expires_at, ip=ip))
        s.execute(update(operators).where(operators.c.id == operator_id).values(last_seen_at=now))


@guarded
def session_by_token_hash(token_hash: str, *, url: Optional[str] = None) -> Optional[SessionView]:
    with session_scope(url) as s:
        row = s.execute(
            select(sessions.c.id, sessions.c.csrf_token, sessions.c.created_at, sessions.c.last_seen_at,
                   sessions.c.expires_at, sessions.c.closed_at, *[c.label(f"op_{c.name}") for c in operators.c])
            .select_from(sessions.join(operators, sessions.c.operator_id == operators.c.id))
            .where(sessions.c.token_hash == token_hash)).first()
    if row is None:
        return None
    m = row._mapping
    op = OperatorView(id=m["op_id"], login=m["op_login"], display_name=m["op_display_name"],
                      is_admin=bool(m["op_is_admin"]), is_active=bool(m["op_is_active"]),
                      telegram_user_id=m["op_telegram_user_id"], created_at=m["op_created_at"],
                      last_seen_at=m["op_last_seen_at"])
    return SessionView(id=m["id"], operator=op, csrf_token=m["csrf_token"], created_at=m["created_at"],
                       last_seen_at=m["last_seen_at"], expires_at=m["expires_at"], closed_at=m["closed_at"])


@guarded
def touch_session(session_id: int, operator_id: int, expires_at: dt.datetime, *, url: Optional[str] = None) -> None:
    now = utcnow()
    with session_scope(url) as s:
        s.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now, expires_at=expires_at))
        s.execute(update(operators).where(operators.c.id == operator_id).values(last_seen_at=now))


@guarded
def close_session(token_hash: str, *, url: Optional[str] = None) -> None:
    with session_scope(url) as s:
        s.execute(update(sessions).where(sessions.c.token_hash == token_hash, sessions.c.closed_at.is_(None))
                  .values(closed_at=utcnow()))


@guarded
def live_session_count(now: Optional[dt.datetime] = None, *, url: Optional[str] = None) -> int:
    now = naive_utc(now)
    with session_scope(url) as s:
        return int(s.execute(select(func.count()).select_from(sessions).where(
            sessions.c.closed_at.is_(None), sessions.c.expires_at > now)).scalar_one())


# --- audit ------------------------------------------------------------------------------

@guarded
def record_audit(action: str, *, operator_id: Optional[int] = None, ticket_id: Optional[int] = None,
                 conversation_id: Optional[str] = None, subject: Optional[str] = None,
                 detail: Optional[str] = None, ip: Optional[str] = None, via: str = "console",
                 url: Optional[str] = None) -> None:
    with session_scope(url) as s:
        s.execute(insert(audit).values(at=utcnow(), operator_id=operator_id, action=action, subject=subject,
                                       ticket_id=ticket_id, conversation_id=conversation_id,
                                       detail=(detail or None) and detail[:2000], ip=ip, via=via))


@guarded
def count_audit(action: str, subject: str, since: dt.datetime, *, url: Optional[str] = None) -> int:
    with session_scope(url) as s:
        return int(s.execute(select(func.count()).select_from(audit).where(
            audit.c.action == action, audit.c.subject == subject, audit.c.at >= naive_utc(since))).scalar_one())


@guarded
def last_audit_at(action: str, subject: str, *, url: Optional[str] = None) -> Optional[dt.datetime]:
    with session_scope(url) as s:
        return s.execute(select(func.max(audit.c.at)).where(audit.c.action == action,
                                                             audit.c.subject == subject)).scalar_one()


@guarded
def audit_entries(limit: int = 200, ticket_id: Optional[int] = None, *, url: Optional[str] = None) -> List[AuditView]:
    query = (select(audit, operators.c.login.label("operator_login"))
             .select_from(audit.outerjoin(operators, audit.c.operator_id == operators.c.id))
             .order_by(audit.c.id.desc()).limit(limit))
    if ticket_id is not None:
        query = query.where(audit.c.ticket_id == ticket_id)
    with session_scope(url) as s:
        return [AuditView(**{k: r._mapping[k] for k in AuditView.__dataclass_fields__}) for r in s.execute(query)]


# --- conversations ----------------------------------------------------------------------

@guarded
def register_conversation(conversation_id: str, channel: str, at: Optional[dt.datetime] = None, *,
                          url: Optional[str] = None) -> bool:
    """Remember a conversation the first time it is seen; True if it was new."""
    with session_scope(url) as s:
        exists = s.execute(select(conversations.c.conversation_id)
                           .where(conversations.c.conversation_id == conversation_id)).first()
        if exists:
            return False
        s.execute(insert(conversations).values(conversation_id=conversation_id, channel=channel or "unknown",
                                               first_seen=naive_utc(at)))
        return True


# --- tickets ------------------------------------------------------------------------------

@guarded
def open_ticket_for(conversation_id: str, *, url: Optional[str] = None) -> Optional[TicketView]:
    with session_scope(url) as s:
        row = s.execute(_ticket_query().where(tickets.c.conversation_id == conversation_id,
                                              tickets.c.status.in_(OPEN_STATUSES))
                        .order_by(tickets.c.id.desc())).first()
        return _ticket(row) if row else None


@guarded
def get_ticket(ticket_id: int, *, url: Optional[str] = None) -> Optional[TicketView]:
    with session_scope(url) as s:
        row = s.execute(_ticket_query().where(tickets.c.id == ticket_id)).first()
        return _ticket(row) if row else None


@guarded
def latest_ticket_for(conversation_id: str, *, url: Optional[str] = None) -> Optional[TicketView]:
    with session_scope(url) as s:
        row = s.execute(_ticket_query().where(tickets.c.conversation_id == conversation_id)
                        .order_by(tickets.c.id.desc())).first()
        return _ticket(row) if row else None


@guarded
def create_ticket(conversation_id: str, channel: str, reason: str, topic: str, summary: str, *,
                  offline: bool = False, callback_phone: Optional[str] = None,
                  at: Optional[dt.datetime] = None, url: Optional[str] = None) -> Tuple[TicketView, bool]:
    """The conversation's open ticket, created if there is none; (ticket, created)."""
    with session_scope(url) as s:
        existing = s.execute(select(tickets.c.id).where(tickets.c.conversation_id == conversation_id,
                                                        tickets.c.status.in_(OPEN_STATUSES))).first()
        if existing:
            ticket_id, created = existing[0], False
        else:
            ticket_id = s.execute(insert(tickets).values(
                conversation_id=conversation_id, channel=channel or "unknown", status="waiting",
                reason=reason or "request", topic=(topic or "")[:255], summary=summary[:2000],
                callback_phone=callback_phone, offline=bool(offline), created_at=naive_utc(at),
                resume_pending=False, tg_closed=False)).inserted_primary_key[0]
            created = True
    ticket = get_ticket(ticket_id, url=url)
    assert ticket is not None
    return ticket, created


@guarded
def queue(*, include_closed_since: Optional[dt.datetime] = None, waiting_limit: Optional[int] = None,
          closed_limit: int = 50, url: Optional[str] = None) -> List[TicketView]:
    """Open tickets, oldest first: every assigned one, the first `waiting_limit`
    waiting ones (all if None), and the latest closed since a moment, if asked."""
    order = (tickets.c.created_at, tickets.c.id)
    with session_scope(url) as s:
        rows = list(s.execute(_ticket_query().where(tickets.c.status == "assigned").order_by(*order)))
        waiting = _ticket_query().where(tickets.c.status == "waiting").order_by(*order)
        rows += list(s.execute(waiting.limit(waiting_limit) if waiting_limit is not None else waiting))
        if include_closed_since is not None:
            rows += list(s.execute(_ticket_query().where(
                tickets.c.status == "closed", tickets.c.closed_at >= naive_utc(include_closed_since))
                .order_by(tickets.c.closed_at.desc()).limit(closed_limit)))
    found = [_ticket(r) for r in rows]
    return sorted(found, key=lambda t: (t.created_at, t.id))


@guarded
def status_counts(*, url: Optional[str] = None) -> Dict[str, int]:
    with session_scope(url) as s:
        rows = s.execute(select(tickets.c.status, func.count()).where(tickets.c.status.in_(OPEN_STATUSES))
                         .group_by(tickets.c.status)).all()
    counts = {status: 0 for status in OPEN_STATUSES}
    counts.update({status: int(n) for status, n in rows})
    return counts


@guarded
def waiting_position(ticket: TicketView, *, url: Optional[str] = None) -> int:
    """1-based place among the waiting tickets (0 when not waiting)."""
    if ticket.status != "waiting":
        return 0
    with session_scope(url) as s:
        ahead = s.execute(select(func.count()).select_from(tickets).where(
            tickets.c.status == "waiting",
            or_(tickets.c.created_at < ticket.created_at,
                and_(tickets.c.created_at == ticket.created_at, tickets.c.id < ticket.id)))).scalar_one()
    return int(ahead) + 1


class TakeRefused(Exception):
    def __init__(self, ticket: Optional[TicketView]) -> None:
        super().__init__("ticket cannot be taken")
        self.ticket = ticket


@guarded
def take_ticket(ticket_id: int, operator_id: int, *, at: Optional[dt.datetime] = None,
                url: Optional[str] = None) -> TicketView:
    """Assign a waiting ticket to the operator (atomically: two operators
    pressing «Взять» at once get one winner); TakeRefused otherwise."""
    now = naive_utc(at)
    with session_scope(url) as s:
        result = s.execute(update(tickets).where(tickets.c.id == ticket_id, tickets.c.status == "waiting")
                           .values(status="assigned", operator_id=operator_id, assigned_at=now))
        taken = result.rowcount == 1
    ticket = get_ticket(ticket_id, url=url)
    if not taken:
        raise TakeRefused(ticket)
    assert ticket is not None
    return ticket


@guarded
def close_ticket(ticket_id: int, *, closed_by: str, resolution: Optional[str],
                 at: Optional[dt.datetime] = None, url: Optional[str] = None) -> Optional[TicketView]:
    """Close an open ticket and mark the bot's resumption as pending. None if it
    was already closed."""
    now = naive_utc(at)
    with session_scope(url) as s:
        result = s.execute(update(tickets).where(tickets.c.id == ticket_id, tickets.c.status.in_(OPEN_STATUSES))
                           .values(status="closed", closed_at=now, closed_by=closed_by,
                                   resolution=(resolution or "").strip()[:2000] or None, resume_pending=True))
        closed = result.rowcount == 1
    return get_ticket(ticket_id, url=url) if closed else None


@guarded
def request_resume(conversation_id: str, *, url: Optional[str] = None) -> Optional[TicketView]:
    """The citizen asked to return to the bot while an operator had (or was about
    to have) the conversation: close the ticket on his behalf."""
    ticket = open_ticket_for(conversation_id, url=url)
    if ticket is None:
        return None
    return close_ticket(ticket.id, closed_by="citizen", resolution="Гражданин вернулся к боту", url=url)


@guarded
def claim_resume(ticket_id: int, *, url: Optional[str] = None) -> bool:
    """Take the job of resuming the bot for a closed ticket (one process wins)."""
    with session_scope(url) as s:
        return s.execute(update(tickets).where(tickets.c.id == ticket_id, tickets.c.resume_pending.is_(True))
                         .values(resume_pending=False)).rowcount == 1


@guarded
def release_resume(ticket_id: int, *, url: Optional[str] = None) -> None:
    """Resumption failed: leave it for the next round."""
    with session_scope(url) as s:
        s.execute(update(tickets).where(tickets.c.id == ticket_id).values(resume_pending=True))


@guarded
def resume_pending(*, url: Optional[str] = None) -> List[TicketView]:
    with session_scope(url) as s:
        return [_ticket(r) for r in s.execute(_ticket_query().where(tickets.c.resume_pending.is_(True))
                                              .order_by(tickets.c.id))]


@guarded
def mark_resumed(ticket_id: int, *, rating_requested: bool, url: Optional[str] = None) -> None:
    now = utcnow()
    values: Dict[str, Any] = {"resumed_at": now}
    if rating_requested:
        values["rating_requested_at"] = now
    with session_scope(url) as s:
        s.execute(update(tickets).where(tickets.c.id == ticket_id).values(**values))


RATING_WINDOW = dt.timedelta(hours=24)


@guarded
def ticket_awaiting_rating(conversation_id: str, now: Optional[dt.datetime] = None, *,
                           url: Optional[str] = None) -> Optional[TicketView]:
    """The conversation's latest closed ticket whose rating was asked for and not given."""
    now = naive_utc(now)
    with session_scope(url) as s:
        row = s.execute(_ticket_query().where(
            tickets.c.conversation_id == conversation_id, tickets.c.status == "closed",
            tickets.c.rating.is_(None), tickets.c.rating_requested_at.is_not(None),
            tickets.c.closed_at >= now - RATING_WINDOW).order_by(tickets.c.id.desc())).first()
        return _ticket(row) if row else None


@guarded
def rate_ticket(ticket_id: int, rating: int, *, url: Optional[str] = None) -> None:
    if not 1 <= int(rating) <= 5:
        raise ValueError("rating must be 1..5")
    with session_scope(url) as s:
        s.execute(update(tickets).where(tickets.c.id == ticket_id).values(rating=int(rating), rated_at=utcnow()))


@guarded
def set_ticket_fields(ticket_id: int, *, url: Optional[str] = None, **values: Any) -> None:
    allowed = {"told_wait_seconds", "told_at", "acked_at", "tg_topic_id", "tg_synced_message_id", "tg_closed",
               "offline"}
    values = {k: v for k, v in values.items() if k in allowed}
    if values:
        with session_scope(url) as s:
            s.execute(update(tickets).where(tickets.c.id == ticket_id).values(**values))


@guarded
def tickets_for_telegram(*, url: Optional[str] = None) -> List[TicketView]:
    """Tickets the operators' Telegram group has to hear about: open ones, and
    closed ones whose topic is still open."""
    with session_scope(url) as s:
        return [_ticket(r) for r in s.execute(_ticket_query().where(or_(
            tickets.c.status.in_(OPEN_STATUSES),
            and_(tickets.c.tg_topic_id.is_not(None), tickets.c.tg_closed.is_(False)))).order_by(tickets.c.id))]


@guarded
def ticket_by_topic(topic_id: int, *, url: Optional[str] = None) -> Optional[TicketView]:
    with session_scope(url) as s:
        row = s.execute(_ticket_query().where(tickets.c.tg_topic_id == int(topic_id))).first()
        return _ticket(row) if row else None


# --- messages ---------------------------------------------------------------------------

@guarded
def add_message(ticket_id: int, direction: str, text: str, source: str, *, operator_id: Optional[int] = None,
                delivered: bool = False, at: Optional[dt.datetime] = None, url: Optional[str] = None) -> MessageView:
    now = naive_utc(at)
    with session_scope(url) as s:
        message_id = s.execute(insert(messages).values(
            ticket_id=ticket_id, at=now, direction=direction, text=text, operator_id=operator_id, source=source,
            delivered_at=now if delivered else None)).inserted_primary_key[0]
    return MessageView(id=message_id, ticket_id=ticket_id, at=now, direction=direction, text=text,
                       operator_id=operator_id, source=source, delivered_at=now if delivered else None,
                       delivery_ms=None, delivery_error=None)


@guarded
def mark_delivered(message_id: int, delivery_ms: float, *, url: Optional[str] = None) -> None:
    with session_scope(url) as s:
        s.execute(update(messages).where(messages.c.id == message_id)
                  .values(delivered_at=utcnow(), delivery_ms=float(delivery_ms), delivery_error=None))


@guarded
def mark_failed(message_id: int, error: str, *, url: Optional[str] = None) -> None:
    with session_scope(url) as s:
        s.execute(update(messages).where(messages.c.id == message_id).values(delivery_error=error[:255]))


def _messages_query():
    return (select(*messages.c, tickets.c.conversation_id, operators.c.display_name.label("operator_name"))
            .select_from(messages.join(tickets, messages.c.ticket_id == tickets.c.id)
                         .outerjoin(operators, messages.c.operator_id == operators.c.id)))


@guarded
def ticket_messages(ticket_id: int, after_id: int = 0, *, url: Optional[str] = None) -> List[MessageView]:
    with session_scope(url) as s:
        return [_message(r) for r in s.execute(_messages_query().where(
            messages.c.ticket_id == ticket_id, messages.c.id > after_id).order_by(messages.c.id))]


@guarded
def messages_after(after_id: int, directions: Sequence[str] = ("citizen",), limit: int = 500, *,
                   url: Optional[str] = None) -> List[MessageView]:
    """New messages of every ticket, for the live views and the Telegram group."""
    with session_scope(url) as s:
        return [_message(r) for r in s.execute(_messages_query().where(
            messages.c.id > after_id, messages.c.direction.in_(list(directions)))
            .order_by(messages.c.id).limit(limit))]


@guarded
def outbound_for_conversation(conversation_id: str, after_id: int = 0, *, url: Optional[str] = None
                              ) -> List[MessageView]:
    """What operators (and the bot, after them) sent to a conversation: REST
    clients fetch these, having no push channel."""
    with session_scope(url) as s:
        return [_message(r) for r in s.execute(_messages_query().where(
            tickets.c.conversation_id == conversation_id, messages.c.id > after_id,
            messages.c.direction != "citizen",
            # The broker's notes («Гражданин вернулся к боту») are for operators.
            messages.c.source != "broker").order_by(messages.c.id))]


@guarded
def max_message_id(*, url: Optional[str] = None) -> int:
    with session_scope(url) as s:
        return int(s.execute(select(func.coalesce(func.max(messages.c.id), 0))).scalar_one())


# --- queue state and figures ------------------------------------------------------------

ONLINE_WINDOW = dt.timedelta(minutes=3)


@guarded
def queue_state(chats_per_operator: int, default_handling_seconds: float, now: Optional[dt.datetime] = None,
                *, url: Optional[str] = None) -> QueueState:
    now = naive_utc(now)
    with session_scope(url) as s:
        online = s.execute(select(func.count()).select_from(operators).where(
            operators.c.is_active.is_(True), operators.c.last_seen_at >= now - ONLINE_WINDOW)).scalar_one()
        busy = s.execute(select(func.count()).select_from(tickets).where(tickets.c.status == "assigned")).scalar_one()
        recent = s.execute(select(tickets.c.assigned_at, tickets.c.closed_at).where(
            tickets.c.status == "closed", tickets.c.assigned_at.is_not(None), tickets.c.closed_by == "operator",
            tickets.c.closed_at >= now - dt.timedelta(days=7)).order_by(tickets.c.closed_at.desc()).limit(20)).all()
    durations = [(closed - assigned).total_seconds() for assigned, closed in recent]
    return QueueState(online_operators=int(online), busy_slots=int(busy), chats_per_operator=chats_per_operator,
                      handling_seconds=mean_handling_seconds(durations, default_handling_seconds))


def expected_wait(ticket: TicketView, chats_per_operator: int, default_handling_seconds: float, *,
                  url: Optional[str] = None) -> Tuple[int, int]:
    """(position, expected seconds) of a waiting ticket."""
    position = waiting_position(ticket, url=url)
    state = queue_state(chats_per_operator, default_handling_seconds, url=url)
    return position, estimate_wait_seconds(max(position, 1), state)


@guarded
def figures(now: Optional[dt.datetime] = None, hours: int = 24, *, url: Optional[str] = None) -> Dict[str, Any]:
    """Tickets per hour, waiting and handling times, containment, rating."""
    now = naive_utc(now)
    since = now - dt.timedelta(hours=hours)
    with session_scope(url) as s:
        rows = s.execute(select(tickets.c.created_at, tickets.c.assigned_at, tickets.c.closed_at,
                                tickets.c.closed_by, tickets.c.rating, tickets.c.status, tickets.c.conversation_id)
                         .where(tickets.c.created_at >= since)).all()
        conversation_count = s.execute(select(func.count()).select_from(conversations)
                                       .where(conversations.c.first_seen >= since)).scalar_one()
        waiting_now = s.execute(select(func.count()).select_from(tickets)
                                .where(tickets.c.status == "waiting")).scalar_one()
        assigned_now = s.execute(select(func.count()).select_from(tickets)
                                 .where(tickets.c.status == "assigned")).scalar_one()
        delivery = s.execute(select(messages.c.delivery_ms).where(
            messages.c.direction == "operator", messages.c.delivery_ms.is_not(None),
            messages.c.at >= since)).scalars().all()
    per_hour: Dict[str, int] = {}
    for hour in range(hours):
        start = (since + dt.timedelta(hours=hour + 1)).replace(minute=0, second=0, microsecond=0)
        per_hour[_iso(start)] = 0
    for r in rows:
        key = _iso(r.created_at.replace(minute=0, second=0, microsecond=0))
        per_hour[key] = per_hour.get(key, 0) + 1
    waits = [(r.assigned_at - r.created_at).total_seconds() for r in rows if r.assigned_at]
    handling = [(r.closed_at - r.assigned_at).total_seconds() for r in rows
                if r.assigned_at and r.closed_at and r.closed_by == "operator"]
    ratings = [r.rating for r in rows if r.rating]
    handed_over = len({r.conversation_id for r in rows if r.assigned_at})
    total = max(int(conversation_count), len({r.conversation_id for r in rows}))

    def stats(values: List[float]) -> Dict[str, Any]:
        return {"count": len(values), "mean": round(sum(values) / len(values), 1) if values else None,
                "p50": percentile(values, 50), "p90": percentile(values, 90)}

    return {
        "period_hours": hours, "since": _iso(since), "until": _iso(now),
        "tickets": len(rows), "tickets_per_hour": per_hour,
        "waiting_now": int(waiting_now), "assigned_now": int(assigned_now),
        "waiting_seconds": stats(waits), "handling_seconds": stats(handling),
        "conversations": total, "conversations_with_operator": handed_over,
        "containment": round(1 - handed_over / total, 4) if total else None,
        "rating": {"count": len(ratings), "mean": round(sum(ratings) / len(ratings), 2) if ratings else None},
        "delivery_ms": stats(list(delivery)),
    }

