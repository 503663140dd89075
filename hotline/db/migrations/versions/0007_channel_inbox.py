"""Accepted platform updates, kept until processed (connectors/inbox.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("update_key", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channel_inbox"),
        sa.UniqueConstraint("channel", "update_key", name="uq_channel_inbox_update"),
    )
    op.create_index("ix_channel_inbox_pending", "channel_inbox", ["channel", "processed_at", "lease_until"])
    op.create_index("ix_channel_inbox_received", "channel_inbox", ["received_at"])


def downgrade() -> None:
    op.drop_table("channel_inbox")
