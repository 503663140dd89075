"""Tables of the operator handoff (Alembic revisions 0002_handoff, 0004_login_throttle, 0009_trainer_role).

They live on the project's one declarative Base (hotline.db.base), so one migration chain
and one autogenerate check (tests/status/test_repository.py) cover them.
Timestamps are naive UTC, like the rest of the store.
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.sql.expression import false, true

from hotline.db.base import Base

TICKET_STATUSES = ("waiting", "assigned", "closed")
OPEN_STATUSES = ("waiting", "assigned")
DIRECTIONS = ("citizen", "operator", "system", "bot")
_TICKET_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s}'" for s in TICKET_STATUSES))
_DIRECTION_CHECK = "direction IN ({})".format(", ".join(f"'{s}'" for s in DIRECTIONS))
_RATING_CHECK = "rating IS NULL OR (rating >= 1 AND rating <= 5)"


class Operator(Base):
    __tablename__ = "handoff_operators"

    id = Column(Integer, primary_key=True)
    login = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(200), nullable=False)
    password_hash = Column(String(255), nullable=False)
    is_admin = Column(Boolean, nullable=False)
    is_active = Column(Boolean, nullable=False)
    # Roles (0009): an operator works the queue in the console; a trainer uses the
    # trainers' workbench (masked conversations, training data). Independent of each
    # other; an admin may use both apps.
    is_operator = Column(Boolean, nullable=False, server_default=true())
    is_trainer = Column(Boolean, nullable=False, server_default=false())
    # Links the operator's Telegram account to the operators' forum group.
    telegram_user_id = Column(BigInteger, nullable=True, unique=True)
    created_at = Column(DateTime, nullable=False)
    disabled_at = Column(DateTime, nullable=True)
    last_seen_at = Column(DateTime, nullable=True)


class ConsoleSession(Base):
    __tablename__ = "handoff_sessions"

    id = Column(Integer, primary_key=True)
    # SHA-256 of the cookie value: a stolen database does not sign anyone in.
    token_hash = Column(String(64), nullable=False, unique=True)
    operator_id = Column(Integer, ForeignKey("handoff_operators.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    last_seen_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)
    closed_at = Column(DateTime, nullable=True)
    ip = Column(String(64), nullable=True)


class Ticket(Base):
    __tablename__ = "handoff_tickets"
    __table_args__ = (
        CheckConstraint(_TICKET_STATUS_CHECK, name="status"),
        CheckConstraint(_RATING_CHECK, name="rating"),
        Index("ix_handoff_tickets_status_created", "status", "created_at"),
        Index("ix_handoff_tickets_conversation_status", "conversation_id", "status"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    channel = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False)
    # Why the bot handed over: request, fallback, status_locked, fraud, complaint.
    reason = Column(String(32), nullable=False)
    # The last intents of the conversation, comma-separated.
    topic = Column(String(255), nullable=False)
    summary = Column(Text, nullable=False)
    # Outside hours: a phone number for a callback, or None for a reply in the chat.
    callback_phone = Column(String(32), nullable=True)
    offline = Column(Boolean, nullable=False)
    created_at = Column(DateTime, nullable=False)
    assigned_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True)
    operator_id = Column(Integer, ForeignKey("handoff_operators.id", ondelete="SET NULL"), nullable=True, index=True)
    closed_by = Column(String(16), nullable=True)
    resolution = Column(Text, nullable=True)
    rating = Column(Integer, nullable=True)
    rated_at = Column(DateTime, nullable=True)
    rating_requested_at = Column(DateTime, nullable=True)
    # Set when the ticket closes; cleared once the bot has resumed and spoken.
    resume_pending = Column(Boolean, nullable=False)
    resumed_at = Column(DateTime, nullable=True)
    # What the citizen was last told about the wait.
    told_wait_seconds = Column(Integer, nullable=True)
    told_at = Column(DateTime, nullable=True)
    acked_at = Column(DateTime, nullable=True)
    # The operators' Telegram forum topic of this ticket.
    tg_topic_id = Column(BigInteger, nullable=True)
    tg_synced_message_id = Column(Integer, nullable=True)
    tg_closed = Column(Boolean, nullable=False)


class Message(Base):
    __tablename__ = "handoff_messages"
    __table_args__ = (
        CheckConstraint(_DIRECTION_CHECK, name="direction"),
        Index("ix_handoff_messages_ticket_id", "ticket_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False)
    at = Column(DateTime, nullable=False)
    direction = Column(String(16), nullable=False)
    text = Column(Text, nullable=False)
    operator_id = Column(Integer, ForeignKey("handoff_operators.id", ondelete="SET NULL"), nullable=True)
    # console, telegram, broker, bot, worker
    source = Column(String(16), nullable=False)
    delivered_at = Column(DateTime, nullable=True)
    delivery_ms = Column(Float, nullable=True)
    delivery_error = Column(String(255), nullable=True)


class AuditEntry(Base):
    __tablename__ = "handoff_audit"
    __table_args__ = (
        Index("ix_handoff_audit_at", "at"),
        Index("ix_handoff_audit_action_subject", "action", "subject", "at"),
    )

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)
    operator_id = Column(Integer, ForeignKey("handoff_operators.id", ondelete="SET NULL"), nullable=True)
    # login, login_failed, logout, read, take, write, close, refused, admin_*, ...
    action = Column(String(32), nullable=False)
    # Who or what the entry is about when there is no ticket (a login name).
    subject = Column(String(255), nullable=True)
    ticket_id = Column(Integer, nullable=True, index=True)
    conversation_id = Column(String(255), nullable=True)
    detail = Column(Text, nullable=True)
    ip = Column(String(64), nullable=True)
    via = Column(String(16), nullable=False)


class Conversation(Base):
    """Every conversation the bot had, for the containment figure."""

    __tablename__ = "handoff_conversations"
    __table_args__ = (Index("ix_handoff_conversations_first_seen", "first_seen"),)

    conversation_id = Column(String(255), primary_key=True)
    channel = Column(String(32), nullable=False)
    first_seen = Column(DateTime, nullable=False)


class LoginThrottle(Base):
    """Failed sign-ins counted per (login, address) and per address (handoff.throttle).

    The key is a SHA-256 of the scope and its values: whatever a stranger types
    as a login is never stored here."""

    __tablename__ = "handoff_login_throttle"
    __table_args__ = (Index("ix_handoff_login_throttle_last_at", "last_at"),)

    key = Column(String(64), primary_key=True)
    failures = Column(Integer, nullable=False)
    last_at = Column(DateTime, nullable=False)
    locked_until = Column(DateTime, nullable=True)


operators = Operator.__table__
sessions = ConsoleSession.__table__
tickets = Ticket.__table__
messages = Message.__table__
audit = AuditEntry.__table__
conversations = Conversation.__table__
login_throttle = LoginThrottle.__table__
