"""Alembic environment: migrations run on the store's own engine, so they see
the same SQLite pragmas and PostgreSQL options as the application."""
from logging.config import fileConfig

from alembic import context

from hotline.db.engine import database_url, get_engine
import hotline.db.tables  # noqa: F401  (registers every table on Base)
from hotline.db.base import Base

config = context.config

# fileConfig would replace the logging set up by a program that migrates on
# start; only the alembic command line wants it.
if config.config_file_name and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(config.attributes.get("url")),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = get_engine(config.attributes.get("url"))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch ALTER copies the table and drops the old one; with
            # foreign keys on, that DROP cascades and deletes every child row
            # (missing documents, status history). The pragma only takes
            # effect outside a transaction, so it goes to the raw connection
            # before Alembic begins one, and is restored for the pool.
            _sqlite_foreign_keys(connection, False)
        try:
            # render_as_batch: SQLite can only ALTER tables by copying them.
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, True)


def _sqlite_foreign_keys(connection, on: bool) -> None:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
