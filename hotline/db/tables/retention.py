"""The audit table of retention jobs and data subject requests
(Alembic revision 0003_retention_audit).

It lives on the project's one declarative Base (hotline.db.base), like the
handoff tables,
so one migration chain and one autogenerate check cover it. A row never
holds the personal data it is about: the subject is kept as a SHA-256 of
«kind:channel:id» (an auditor who knows the request can recompute it), with
counts of what was exported or deleted.
"""
from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Integer, String, Text

from hotline.db.base import Base

ACTIONS = ("purge", "export", "delete")
_ACTION_CHECK = "action IN ({})".format(", ".join(f"'{a}'" for a in ACTIONS))


class RetentionAudit(Base):
    __tablename__ = "retention_audit"
    __table_args__ = (
        CheckConstraint(_ACTION_CHECK, name="action"),
        Index("ix_retention_audit_at", "at"),
    )

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)  # naive UTC
    action = Column(String(16), nullable=False)
    subject_kind = Column(String(16), nullable=False)  # all, conversation, application
    subject_hash = Column(String(64), nullable=True)
    operator = Column(String(64), nullable=True)
    request_ref = Column(String(64), nullable=True)
    cutoff = Column(DateTime, nullable=True)
    counts = Column(Text, nullable=False)  # JSON: table -> rows


retention_audit = RetentionAudit.__table__
