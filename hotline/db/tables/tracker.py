"""Rasa's tracker store table, as far as the project reads it.

Rasa's SQLTrackerStore creates and owns ``events`` (rasa.core.tracker_store,
``SQLEvent``) in its own database (TRACKER_DATABASE_URL). The table is
described here on a MetaData of its own, not on the project's Base, so
Alembic never creates or alters it; the columns retention and the
workbench read are listed, with Rasa 3.6's types.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

events = Table(
    "events", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
