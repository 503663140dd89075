"""Messages of a ticket in both directions, and their delivery."""
from __future__ import annotations

import datetime as dt
from typing import List, Optional, Sequence

from sqlalchemy import func, insert, select, update

from hotline.db.base import utcnow
from hotline.db.engine import guarded, session_scope
from hotline.db.tables.handoff import messages, tickets
from handoff.repository.values import MessageView, message_from_row, messages_query, naive_utc


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


@guarded
def ticket_messages(ticket_id: int, after_id: int = 0, *, url: Optional[str] = None) -> List[MessageView]:
    with session_scope(url) as s:
        return [message_from_row(r) for r in s.execute(messages_query().where(
            messages.c.ticket_id == ticket_id, messages.c.id > after_id).order_by(messages.c.id))]


@guarded
def messages_after(after_id: int, directions: Sequence[str] = ("citizen",), limit: int = 500, *,
                   url: Optional[str] = None) -> List[MessageView]:
    """New messages of every ticket, for the live views and the Telegram group."""
    with session_scope(url) as s:
        return [message_from_row(r) for r in s.execute(messages_query().where(
            messages.c.id > after_id, messages.c.direction.in_(list(directions)))
            .order_by(messages.c.id).limit(limit))]


@guarded
def outbound_for_conversation(conversation_id: str, after_id: int = 0, *, url: Optional[str] = None
                              ) -> List[MessageView]:
    """What operators (and the bot, after them) sent to a conversation: REST
    clients fetch these, having no push channel."""
    with session_scope(url) as s:
        return [message_from_row(r) for r in s.execute(messages_query().where(
            tickets.c.conversation_id == conversation_id, messages.c.id > after_id,
            messages.c.direction != "citizen",
            # The broker's notes («Гражданин вернулся к боту») are for operators.
            messages.c.source != "broker").order_by(messages.c.id))]


@guarded
def max_message_id(*, url: Optional[str] = None) -> int:
    with session_scope(url) as s:
        return int(s.execute(select(func.coalesce(func.max(messages.c.id), 0))).scalar_one())
