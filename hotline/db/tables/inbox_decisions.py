"""What trainers decided about a group of misunderstood messages in the
workbench's inbox (workbench/inbox_store.py): labelled into the training
data, or dismissed. Alembic revision 0011_inbox_decisions.

A row holds no message text: the group is named by a hash of its normalised
(already masked) wording, so the table never becomes a copy of what citizens
wrote. Messages of the group that arrive after the decision show again.
"""
from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, String

from hotline.db.base import Base

DECISIONS = ("dismissed", "labelled")


class InboxDecision(Base):
    __tablename__ = "workbench_inbox_decisions"
    __table_args__ = (
        CheckConstraint("decision IN ('dismissed', 'labelled')", name="decision"),
    )

    group_id = Column(String(64), primary_key=True)
    decision = Column(String(16), nullable=False)
    # The intent or faq/<key> a labelled group went to.
    label = Column(String(128), nullable=True)
    decided_by = Column(String(64), nullable=False)  # the trainer's login
    decided_at = Column(DateTime, nullable=False)  # naive UTC


inbox_decisions = InboxDecision.__table__
