"""Reads and writes of the handoff tables, as plain values.

Like hotline.status.repository: callers get frozen dataclasses, never ORM
objects, and every database error leaves as StoreUnavailable. All functions
are synchronous (the console calls them through asyncio.to_thread); `url`
selects the database (default: DATABASE_URL, else var/status.db).

One module per record kind; callers keep using the package as one surface
(`from handoff import repository as repo`):

    values.py      the returned dataclasses, row conversions, shared joins
    operators.py   operators' accounts and console sessions
    audit.py       the audit trail
    tickets.py     conversations, tickets, resumption, ratings, Telegram topics
    messages.py    messages of a ticket and their delivery
    figures.py     queue state for wait estimates, figures of a period
"""
from hotline.db.base import utcnow
from hotline.db.engine import StoreUnavailable
from hotline.db.tables.handoff import OPEN_STATUSES
from handoff.repository.audit import audit_entries, count_audit, last_audit_at, record_audit
from handoff.repository.figures import ONLINE_WINDOW, expected_wait, figures, queue_state
from handoff.repository.messages import (
    add_message,
    mark_delivered,
    mark_failed,
    max_message_id,
    messages_after,
    outbound_for_conversation,
    ticket_messages,
)
from handoff.repository.operators import (
    OperatorExists,
    close_operator_sessions,
    close_session,
    count_operators,
    create_operator,
    create_session,
    list_operators,
    live_session_count,
    operator_by_id,
    operator_by_login,
    operator_by_telegram,
    session_by_token_hash,
    touch_operator,
    touch_session,
    update_operator,
)
from handoff.repository.tickets import (
    RATING_WINDOW,
    TakeRefused,
    claim_resume,
    close_ticket,
    create_ticket,
    get_ticket,
    latest_ticket_for,
    mark_resumed,
    open_ticket_for,
    queue,
    rate_ticket,
    register_conversation,
    release_resume,
    request_resume,
    resume_pending,
    set_ticket_fields,
    status_counts,
    take_ticket,
    ticket_awaiting_rating,
    ticket_by_topic,
    tickets_for_telegram,
    waiting_position,
)
from handoff.repository.values import AuditView, MessageView, OperatorView, SessionView, TicketView, naive_utc

__all__ = [
    "OPEN_STATUSES", "ONLINE_WINDOW", "RATING_WINDOW", "StoreUnavailable", "utcnow", "naive_utc",
    "AuditView", "MessageView", "OperatorView", "SessionView", "TicketView", "OperatorExists", "TakeRefused",
    "audit_entries", "count_audit", "last_audit_at", "record_audit",
    "expected_wait", "figures", "queue_state",
    "add_message", "mark_delivered", "mark_failed", "max_message_id", "messages_after",
    "outbound_for_conversation", "ticket_messages",
    "close_operator_sessions", "close_session", "count_operators", "create_operator", "create_session",
    "list_operators", "live_session_count", "operator_by_id", "operator_by_login", "operator_by_telegram",
    "session_by_token_hash", "touch_operator", "touch_session", "update_operator",
    "claim_resume", "close_ticket", "create_ticket", "get_ticket", "latest_ticket_for", "mark_resumed",
    "open_ticket_for", "queue", "rate_ticket", "register_conversation", "release_resume", "request_resume",
    "resume_pending", "set_ticket_fields", "status_counts", "take_ticket", "ticket_awaiting_rating",
    "ticket_by_topic", "tickets_for_telegram", "waiting_position",
]
