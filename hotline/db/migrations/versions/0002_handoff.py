"""Operator handoff: operators, console sessions, tickets, messages, audit log,
conversations (for the containment figure).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Copied, not imported (see 0001).
TICKET_STATUSES = ("waiting", "assigned", "closed")
DIRECTIONS = ("citizen", "operator", "system", "bot")
TICKET_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s}'" for s in TICKET_STATUSES))
DIRECTION_CHECK = "direction IN ({})".format(", ".join(f"'{s}'" for s in DIRECTIONS))
RATING_CHECK = "rating IS NULL OR (rating >= 1 AND rating <= 5)"


def upgrade() -> None:
    op.create_table(
        "handoff_operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_operators"),
        sa.UniqueConstraint("login", name="uq_handoff_operators_login"),
        sa.UniqueConstraint("telegram_user_id", name="uq_handoff_operators_telegram_user_id"),
    )
    op.create_table(
        "handoff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["operator_id"], ["handoff_operators.id"],
                                name="fk_handoff_sessions_operator_id_handoff_operators", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_handoff_sessions_token_hash"),
    )
    op.create_index("ix_handoff_sessions_operator_id", "handoff_sessions", ["operator_id"])
    op.create_table(
        "handoff_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("callback_phone", sa.String(32), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("closed_by", sa.String(16), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", sa.DateTime(), nullable=True),
        sa.Column("rating_requested_at", sa.DateTime(), nullable=True),
        sa.Column("resume_pending", sa.Boolean(), nullable=False),
        sa.Column("resumed_at", sa.DateTime(), nullable=True),
        sa.Column("told_wait_seconds", sa.Integer(), nullable=True),
        sa.Column("told_at", sa.DateTime(), nullable=True),
        sa.Column("acked_at", sa.DateTime(), nullable=True),
        sa.Column("tg_topic_id", sa.BigInteger(), nullable=True),
        sa.Column("tg_synced_message_id", sa.Integer(), nullable=True),
        sa.Column("tg_closed", sa.Boolean(), nullable=False),
        sa.CheckConstraint(TICKET_STATUS_CHECK, name="ck_handoff_tickets_status"),
        sa.CheckConstraint(RATING_CHECK, name="ck_handoff_tickets_rating"),
        sa.ForeignKeyConstraint(["operator_id"], ["handoff_operators.id"],
                                name="fk_handoff_tickets_operator_id_handoff_operators", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_tickets"),
    )
    op.create_index("ix_handoff_tickets_operator_id", "handoff_tickets", ["operator_id"])
    op.create_index("ix_handoff_tickets_status_created", "handoff_tickets", ["status", "created_at"])
    op.create_index("ix_handoff_tickets_conversation_status", "handoff_tickets", ["conversation_id", "status"])
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("delivery_ms", sa.Float(), nullable=True),
        sa.Column("delivery_error", sa.String(255), nullable=True),
        sa.CheckConstraint(DIRECTION_CHECK, name="ck_handoff_messages_direction"),
        sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"],
                                name="fk_handoff_messages_ticket_id_handoff_tickets", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["operator_id"], ["handoff_operators.id"],
                                name="fk_handoff_messages_operator_id_handoff_operators", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_messages"),
    )
    op.create_index("ix_handoff_messages_ticket_id", "handoff_messages", ["ticket_id", "id"])
    op.create_table(
        "handoff_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(255), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("via", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["handoff_operators.id"],
                                name="fk_handoff_audit_operator_id_handoff_operators", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_audit"),
    )
    op.create_index("ix_handoff_audit_at", "handoff_audit", ["at"])
    op.create_index("ix_handoff_audit_action_subject", "handoff_audit", ["action", "subject", "at"])
    op.create_index("ix_handoff_audit_ticket_id", "handoff_audit", ["ticket_id"])
    op.create_table(
        "handoff_conversations",
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_handoff_conversations"),
    )
    op.create_index("ix_handoff_conversations_first_seen", "handoff_conversations", ["first_seen"])


def downgrade() -> None:
    op.drop_table("handoff_conversations")
    op.drop_table("handoff_audit")
    op.drop_table("handoff_messages")
    op.drop_table("handoff_tickets")
    op.drop_table("handoff_sessions")
    op.drop_table("handoff_operators")
