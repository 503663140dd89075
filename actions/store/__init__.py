"""Application-status store: SQL tables, verified look-ups, lockout
accounting and the department CSV import (`python -m actions.store --help`).

The action layer needs only what is exported here; everything raises
StoreUnavailable when the database cannot be used."""
from actions.store.db import StoreUnavailable, get_engine, init_db, session_scope
from actions.store.lockout import CheckResult, Outcome, check
from actions.store.models import STATUSES, Status
from actions.store.names import names_match
from actions.store.repository import (
    ApplicationView,
    count_applications,
    find_application,
    verify,
    verify_on,
)

__all__ = [
    "ApplicationView", "CheckResult", "Outcome", "STATUSES", "Status", "StoreUnavailable", "check",
    "count_applications", "find_application", "get_engine", "init_db", "names_match", "session_scope",
    "verify", "verify_on",
]
