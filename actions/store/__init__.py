"""Application-status store: SQL tables, verified look-ups, lockout
accounting and the department CSV import (`python -m actions.store --help`).

The action layer needs only what is exported here; everything raises
StoreUnavailable when the database cannot be used."""
from actions.store.db import StoreUnavailable, get_engine, init_db, session_scope
from actions.store.models import STATUSES, Status
from actions.store.repository import (
    LOCK_LIMIT,
    LOCK_WINDOW,
    ApplicationView,
    count_applications,
    failed_attempts_since,
    find_application,
    is_locked,
    names_match,
    record_attempt,
    verify,
)

__all__ = [
    "ApplicationView", "LOCK_LIMIT", "LOCK_WINDOW", "STATUSES", "Status", "StoreUnavailable",
    "count_applications", "failed_attempts_since", "find_application", "get_engine", "init_db",
    "is_locked", "names_match", "record_attempt", "session_scope", "verify",
]
