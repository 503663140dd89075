"""Console sign-in throttling per (login, address) and per address.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_login_throttle",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_handoff_login_throttle"),
    )
    op.create_index("ix_handoff_login_throttle_last_at", "handoff_login_throttle", ["last_at"])


def downgrade() -> None:
    op.drop_table("handoff_login_throttle")
