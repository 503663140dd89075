"""Account roles: operators and trainers (the trainers' workbench, issue 15).

Every account so far was an operator, so existing rows keep is_operator and
get no trainer role; an admin grants it (python -m handoff.admin grant-trainer).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_operators") as batch:
        batch.add_column(sa.Column("is_operator", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("is_trainer", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("handoff_operators") as batch:
        batch.drop_column("is_trainer")
        batch.drop_column("is_operator")
