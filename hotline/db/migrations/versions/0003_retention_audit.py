"""Audit records of retention purges and data subject requests.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Copied, not imported (see 0001).
ACTIONS = ("purge", "export", "delete")
ACTION_CHECK = "action IN ({})".format(", ".join(f"'{a}'" for a in ACTIONS))


def upgrade() -> None:
    op.create_table(
        "retention_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=True),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("request_ref", sa.String(64), nullable=True),
        sa.Column("cutoff", sa.DateTime(), nullable=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.CheckConstraint(ACTION_CHECK, name="ck_retention_audit_action"),
        sa.PrimaryKeyConstraint("id", name="pk_retention_audit"),
    )
    op.create_index("ix_retention_audit_at", "retention_audit", ["at"])


def downgrade() -> None:
    op.drop_table("retention_audit")
