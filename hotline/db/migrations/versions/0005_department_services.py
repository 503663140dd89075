"""Services as departments name them: a longer `service` column for the
name as written, and `service_id`, the catalogue id it was linked to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.alter_column("service", existing_type=sa.String(64), type_=sa.String(300), existing_nullable=False)
        batch.add_column(sa.Column("service_id", sa.String(64), nullable=True))
    # Until now the importer accepted catalogue ids only, so every stored
    # service is its own link.
    op.execute("UPDATE applications SET service_id = service")


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("service_id")
        batch.alter_column("service", existing_type=sa.String(300), type_=sa.String(64), existing_nullable=False)
