"""The one declarative Base of the project's database.

Every table module under hotline.db.tables imports it from here, and this
module imports nothing of the project, so there is no cycle and no import
order to keep: the status, handoff and retention tables share one metadata,
one Alembic migration chain and one autogenerate check.
"""
import datetime as dt

from sqlalchemy import MetaData
from sqlalchemy.orm import declarative_base

# Named constraints, so migrations can refer to them identically on SQLite
# and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def utcnow() -> dt.datetime:
    """Naive UTC, the convention of every timestamp column: SQLite has no time
    zones, and one convention serves both backends."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
