"""The queue's state for wait estimates, and the figures of a period."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import func, select

from hotline.db.engine import guarded, session_scope
from hotline.db.tables.handoff import conversations, messages, operators, tickets
from handoff.repository.tickets import waiting_position
from handoff.repository.values import TicketView, iso, naive_utc
from handoff.wait import QueueState, estimate_wait_seconds, mean_handling_seconds, percentile


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
        per_hour[iso(start)] = 0
    for r in rows:
        key = iso(r.created_at.replace(minute=0, second=0, microsecond=0))
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
        "period_hours": hours, "since": iso(since), "until": iso(now),
        "tickets": len(rows), "tickets_per_hour": per_hour,
        "waiting_now": int(waiting_now), "assigned_now": int(assigned_now),
        "waiting_seconds": stats(waits), "handling_seconds": stats(handling),
        "conversations": total, "conversations_with_operator": handed_over,
        "containment": round(1 - handed_over / total, 4) if total else None,
        "rating": {"count": len(ratings), "mean": round(sum(ratings) / len(ratings), 2) if ratings else None},
        "delivery_ms": stats(list(delivery)),
    }
