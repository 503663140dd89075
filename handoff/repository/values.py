"""The plain values the handoff repository returns, and the row → value
conversions and joined queries every record kind shares."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from sqlalchemy import select

from hotline.db.base import utcnow
from hotline.db.tables.handoff import OPEN_STATUSES, messages, operators, tickets


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
    # Roles (migration 0009): the console is for operators, the workbench for trainers; admins use both.
    is_operator: bool = True
    is_trainer: bool = False

    @property
    def may_operate(self) -> bool:
        return self.is_operator or self.is_admin

    @property
    def may_train(self) -> bool:
        return self.is_trainer or self.is_admin

    def public(self) -> Dict[str, Any]:
        return {"id": self.id, "login": self.login, "display_name": self.display_name,
                "is_admin": self.is_admin, "is_active": self.is_active,
                "is_operator": self.is_operator, "is_trainer": self.is_trainer,
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
            "created_at": iso(self.created_at), "assigned_at": iso(self.assigned_at),
            "closed_at": iso(self.closed_at), "operator_id": self.operator_id,
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
        return {"id": self.id, "ticket_id": self.ticket_id, "at": iso(self.at), "direction": self.direction,
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
        return {"id": self.id, "at": iso(self.at), "operator": self.operator_login, "action": self.action,
                "subject": self.subject, "ticket_id": self.ticket_id, "conversation_id": self.conversation_id,
                "detail": self.detail, "ip": self.ip, "via": self.via}


def iso(value: Optional[dt.datetime]) -> Optional[str]:
    return value.replace(tzinfo=dt.timezone.utc).isoformat() if value else None


def operator_from_row(row) -> OperatorView:
    m = row._mapping
    return OperatorView(id=m["id"], login=m["login"], display_name=m["display_name"], is_admin=bool(m["is_admin"]),
                        is_active=bool(m["is_active"]), telegram_user_id=m["telegram_user_id"],
                        created_at=m["created_at"], last_seen_at=m["last_seen_at"],
                        password_hash=m["password_hash"], is_operator=bool(m["is_operator"]),
                        is_trainer=bool(m["is_trainer"]))


_TICKET_COLUMNS = [c for c in tickets.c]


def ticket_query():
    return select(*_TICKET_COLUMNS, operators.c.display_name.label("operator_name")).select_from(
        tickets.outerjoin(operators, tickets.c.operator_id == operators.c.id))


def ticket_from_row(row) -> TicketView:
    m = dict(row._mapping)
    m["offline"] = bool(m["offline"])
    m["resume_pending"] = bool(m["resume_pending"])
    m["tg_closed"] = bool(m["tg_closed"])
    return TicketView(**{k: m[k] for k in TicketView.__dataclass_fields__})


def message_from_row(row) -> MessageView:
    m = dict(row._mapping)
    return MessageView(**{k: m.get(k) for k in MessageView.__dataclass_fields__
                          if k in m or k not in ("conversation_id", "operator_name")})


def messages_query():
    return (select(*messages.c, tickets.c.conversation_id, operators.c.display_name.label("operator_name"))
            .select_from(messages.join(tickets, messages.c.ticket_id == tickets.c.id)
                         .outerjoin(operators, messages.c.operator_id == operators.c.id)))
