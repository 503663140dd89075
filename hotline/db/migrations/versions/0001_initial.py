"""Initial schema of the application-status store.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Copied, not imported: a migration must keep meaning what it meant when it
# was written, whatever the models say later.
STATUSES = ("submitted", "in_progress", "needs_documents", "approved", "rejected", "completed")
STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s}'" for s in STATUSES))


def upgrade() -> None:
    op.create_table(
        "applicants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(300), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applicants"),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("submitted_at", sa.Date(), nullable=False),
        sa.Column("expected_at", sa.Date(), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(STATUS_CHECK, name="ck_applications_status"),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["applicants.id"],
            name="fk_applications_applicant_id_applicants", ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
        sa.UniqueConstraint("number", name="uq_applications_number"),
    )
    op.create_index("ix_applications_applicant_id", "applications", ["applicant_id"])
    op.create_table(
        "missing_documents",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"],
            name="fk_missing_documents_application_id_applications", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("application_id", "position", name="pk_missing_documents"),
    )
    op.create_table(
        "status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("old_status", sa.String(32), nullable=True),
        sa.Column("new_status", sa.String(32), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"],
            name="fk_status_history_application_id_applications", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_status_history"),
    )
    op.create_index(
        "ix_status_history_application_changed", "status_history", ["application_id", "changed_at"]
    )
    op.create_table(
        "status_check_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_check_attempts"),
    )
    op.create_index(
        "ix_status_check_attempts_key_attempted", "status_check_attempts", ["key", "attempted_at"]
    )


def downgrade() -> None:
    op.drop_table("status_check_attempts")
    op.drop_table("status_history")
    op.drop_table("missing_documents")
    op.drop_table("applications")
    op.drop_table("applicants")
