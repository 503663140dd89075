"""Names given for a status check, held until the verifying turn
(hotline/status/held_names.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_check_names",
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(300), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_hash", name="pk_status_check_names"),
    )


def downgrade() -> None:
    op.drop_table("status_check_names")
