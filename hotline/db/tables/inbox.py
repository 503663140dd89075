"""The table of accepted platform updates (Alembic revision 0007_channel_inbox,
connectors/inbox.py). On the project's one Base, like every other table."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Text, UniqueConstraint

from hotline.db.base import Base


class InboxUpdate(Base):
    __tablename__ = "channel_inbox"
    __table_args__ = (
        # The platform's id of the update: a re-sent one is recognised by it.
        UniqueConstraint("channel", "update_key", name="uq_channel_inbox_update"),
        Index("ix_channel_inbox_pending", "channel", "processed_at", "lease_until"),
        Index("ix_channel_inbox_received", "received_at"),
    )

    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    update_key = Column(String(128), nullable=False)
    # The update as the platform sent it (JSON); emptied once processed.
    payload = Column(Text, nullable=True)
    received_at = Column(DateTime, nullable=False)
    processed_at = Column(DateTime, nullable=True)
    # The process working on it, and until when: a dead process's lease runs out.
    owner = Column(String(64), nullable=True)
    lease_until = Column(DateTime, nullable=True)
    attempts = Column(Integer, nullable=False)


channel_inbox = InboxUpdate.__table__
