"""Conversations and their tickets: the queue, taking and closing, the
bot's resumption after a ticket, ratings, the Telegram group's bookkeeping."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import and_, func, insert, or_, select, update

from hotline.db.base import utcnow
from hotline.db.engine import guarded, session_scope
from hotline.db.tables.handoff import OPEN_STATUSES, conversations, tickets
from handoff.repository.values import TicketView, ticket_from_row, ticket_query, naive_utc


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
        row = s.execute(ticket_query().where(tickets.c.conversation_id == conversation_id,
                                              tickets.c.status.in_(OPEN_STATUSES))
                        .order_by(tickets.c.id.desc())).first()
        return ticket_from_row(row) if row else None


@guarded
def get_ticket(ticket_id: int, *, url: Optional[str] = None) -> Optional[TicketView]:
    with session_scope(url) as s:
        row = s.execute(ticket_query().where(tickets.c.id == ticket_id)).first()
        return ticket_from_row(row) if row else None


@guarded
def latest_ticket_for(conversation_id: str, *, url: Optional[str] = None) -> Optional[TicketView]:
    with session_scope(url) as s:
        row = s.execute(ticket_query().where(tickets.c.conversation_id == conversation_id)
                        .order_by(tickets.c.id.desc())).first()
        return ticket_from_row(row) if row else None


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
        rows = list(s.execute(ticket_query().where(tickets.c.status == "assigned").order_by(*order)))
        waiting = ticket_query().where(tickets.c.status == "waiting").order_by(*order)
        rows += list(s.execute(waiting.limit(waiting_limit) if waiting_limit is not None else waiting))
        if include_closed_since is not None:
            rows += list(s.execute(ticket_query().where(
                tickets.c.status == "closed", tickets.c.closed_at >= naive_utc(include_closed_since))
                .order_by(tickets.c.closed_at.desc()).limit(closed_limit)))
    found = [ticket_from_row(r) for r in rows]
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
        return [ticket_from_row(r) for r in s.execute(ticket_query().where(tickets.c.resume_pending.is_(True))
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
        row = s.execute(ticket_query().where(
            tickets.c.conversation_id == conversation_id, tickets.c.status == "closed",
            tickets.c.rating.is_(None), tickets.c.rating_requested_at.is_not(None),
            tickets.c.closed_at >= now - RATING_WINDOW).order_by(tickets.c.id.desc())).first()
        return ticket_from_row(row) if row else None


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
        return [ticket_from_row(r) for r in s.execute(ticket_query().where(or_(
            tickets.c.status.in_(OPEN_STATUSES),
            and_(tickets.c.tg_topic_id.is_not(None), tickets.c.tg_closed.is_(False)))).order_by(tickets.c.id))]


@guarded
def ticket_by_topic(topic_id: int, *, url: Optional[str] = None) -> Optional[TicketView]:
    with session_scope(url) as s:
        row = s.execute(ticket_query().where(tickets.c.tg_topic_id == int(topic_id))).first()
        return ticket_from_row(row) if row else None
