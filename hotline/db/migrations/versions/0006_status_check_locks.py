"""Lockout counter rows of the status check (hotline/status/lockout.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_check_locks",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_status_check_locks"),
    )


def downgrade() -> None:
    op.drop_table("status_check_locks")
