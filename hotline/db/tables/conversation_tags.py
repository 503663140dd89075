"""Trainers' tags on reviewed conversations (workbench/tags.py), Alembic
revision 0010_conversation_tags.

A conversation is named by the digest the review pages use
(workbench.review.conversation_key), never by its sender id: a phone
gateway may use the caller's number as the sender.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, String

from hotline.db.base import Base


class ConversationTag(Base):
    __tablename__ = "workbench_conversation_tags"
    __table_args__ = (Index("ix_workbench_conversation_tags_tag", "tag"),)

    conversation_key = Column(String(64), primary_key=True)
    tag = Column(String(40), primary_key=True)
    tagged_by = Column(String(64), nullable=False)  # the trainer's login
    tagged_at = Column(DateTime, nullable=False)  # naive UTC


conversation_tags = ConversationTag.__table__
