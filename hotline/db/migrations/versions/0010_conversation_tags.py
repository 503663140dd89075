"""Trainers' tags on reviewed conversations, keyed by a digest of the
conversation (no sender id, no text).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workbench_conversation_tags",
        sa.Column("conversation_key", sa.String(64), nullable=False),
        sa.Column("tag", sa.String(40), nullable=False),
        sa.Column("tagged_by", sa.String(64), nullable=False),
        sa.Column("tagged_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_key", "tag", name="pk_workbench_conversation_tags"),
    )
    op.create_index("ix_workbench_conversation_tags_tag", "workbench_conversation_tags", ["tag"])


def downgrade() -> None:
    op.drop_index("ix_workbench_conversation_tags_tag", table_name="workbench_conversation_tags")
    op.drop_table("workbench_conversation_tags")
