"""Tables of the application-status store (hotline.status).

Alembic migrations (hotline/db/migrations/versions) are the source of truth for the
schema; these models must describe the same thing, which
tests/status/test_repository.py checks with Alembic's autogenerate diff.
"""
from __future__ import annotations

import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from hotline.db.base import Base


class Status(str, enum.Enum):
    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    NEEDS_DOCUMENTS = "needs_documents"
    APPROVED = "approved"
    REJECTED = "rejected"
    COMPLETED = "completed"


STATUSES: tuple[str, ...] = tuple(s.value for s in Status)

_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s}'" for s in STATUSES))


class Applicant(Base):
    # The department's CSV has no person identifier, so every application gets
    # its own applicant row; merging people by name and birth date would be a guess.
    __tablename__ = "applicants"

    id = Column(Integer, primary_key=True)
    full_name = Column(String(300), nullable=False)
    birth_date = Column(Date, nullable=False)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (CheckConstraint(_STATUS_CHECK, name="status"),)

    id = Column(Integer, primary_key=True)
    number = Column(String(16), nullable=False, unique=True)
    applicant_id = Column(Integer, ForeignKey("applicants.id", ondelete="RESTRICT"), nullable=False, index=True)
    # The service as the department wrote it (shown to the citizen as is) and
    # the catalogue id it was linked to, if any (hotline/service_match.py).
    service = Column(String(300), nullable=False)
    service_id = Column(String(64), nullable=True)
    status = Column(String(32), nullable=False)
    submitted_at = Column(Date, nullable=False)
    expected_at = Column(Date, nullable=True)
    instructions = Column(Text, nullable=True)
    updated_at = Column(DateTime, nullable=False)

    applicant = relationship(Applicant, lazy="joined", innerjoin=True)
    missing_documents = relationship(
        "MissingDocument", order_by="MissingDocument.position", lazy="selectin", passive_deletes=True
    )


class MissingDocument(Base):
    __tablename__ = "missing_documents"

    application_id = Column(Integer, ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True)
    position = Column(Integer, primary_key=True)
    title = Column(Text, nullable=False)


class StatusHistory(Base):
    __tablename__ = "status_history"
    __table_args__ = (Index("ix_status_history_application_changed", "application_id", "changed_at"),)

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("applications.id", ondelete="CASCADE"), nullable=False)
    old_status = Column(String(32), nullable=True)
    new_status = Column(String(32), nullable=False)
    # Naive UTC everywhere: SQLite has no time zones, and one convention for both backends.
    changed_at = Column(DateTime, nullable=False)
    source = Column(String(32), nullable=False)


class StatusCheckAttempt(Base):
    __tablename__ = "status_check_attempts"
    __table_args__ = (Index("ix_status_check_attempts_key_attempted", "key", "attempted_at"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(200), nullable=False)
    attempted_at = Column(DateTime, nullable=False)
    success = Column(Boolean, nullable=False)


class StatusCheckLock(Base):
    """One row per lockout counter (hotline/status/lockout.py): the row every
    check on that counter locks first, and until when it is locked."""

    __tablename__ = "status_check_locks"

    key = Column(String(200), primary_key=True)
    locked_until = Column(DateTime, nullable=True)
    updated_at = Column(DateTime, nullable=False)


class StatusCheckName(Base):
    """The name a citizen gave for an identity check, held until the
    verifying turn (hotline/status/held_names.py): the tracker store keeps
    only a mask, and the date comes one turn later."""

    __tablename__ = "status_check_names"

    conversation_hash = Column(String(64), primary_key=True)
    full_name = Column(String(300), nullable=False)
    expires_at = Column(DateTime, nullable=False)


applicants = Applicant.__table__
applications = Application.__table__
missing_documents = MissingDocument.__table__
status_history = StatusHistory.__table__
status_check_attempts = StatusCheckAttempt.__table__
status_check_locks = StatusCheckLock.__table__
status_check_names = StatusCheckName.__table__
