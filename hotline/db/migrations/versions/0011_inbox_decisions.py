"""Trainers' decisions on groups of misunderstood messages (the workbench's
inbox: labelled or dismissed), without any message text.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workbench_inbox_decisions",
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("label", sa.String(128), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("decision IN ('dismissed', 'labelled')",
                           name="ck_workbench_inbox_decisions_decision"),
        sa.PrimaryKeyConstraint("group_id", name="pk_workbench_inbox_decisions"),
    )


def downgrade() -> None:
    op.drop_table("workbench_inbox_decisions")
