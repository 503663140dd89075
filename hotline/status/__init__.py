"""Application-status store: verified look-ups, lockout accounting, the
department CSV import and demo data (`python -m hotline.status --help`);
its tables are in hotline.db.tables.status.

The action layer needs only what is exported here; everything raises
StoreUnavailable when the database cannot be used."""
from hotline.db.engine import StoreUnavailable, get_engine, init_db, session_scope
from hotline.status.lockout import CheckResult, Outcome, check
from hotline.db.tables.status import STATUSES, Status
from hotline.status.names import names_match
from hotline.status.repository import (
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
