"""The project's one SQL database: the status store, the handoff queue and
the retention audit (DATABASE_URL; SQLite under var/ by default, PostgreSQL
in production).

    base.py        the one declarative Base (imports nothing of the project)
    tables/        status.py, handoff.py, retention.py, inbox.py: the ORM tables
    engine.py      engines, sessions, StoreUnavailable, init_db (Alembic)
    migrations/    the Alembic revisions (alembic.ini points here)

Imports point down only: hotline.status, handoff and hotline.ops import from
here; nothing here imports them.
"""
from hotline.db.engine import StoreUnavailable, database_url, get_engine, init_db, session_scope

__all__ = ["StoreUnavailable", "database_url", "get_engine", "init_db", "session_scope"]
