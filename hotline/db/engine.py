"""Engines, sessions and migrations of the project's database (status store,
handoff queue, retention audit).

`DATABASE_URL` selects the database: a SQLite file under var/ by default,
PostgreSQL in production. Every database error leaves this package as
StoreUnavailable, so the action layer has one thing to catch.
"""
from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from hotline.paths import ROOT
from hotline import settings

DEFAULT_URL = settings.CATALOGUE["DATABASE_URL"].default
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PG_CONNECT_TIMEOUT_SECONDS = 5

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
T = TypeVar("T")
# Pool timeouts are not DBAPI errors but mean the same to a caller.
DB_ERRORS = (DBAPIError, PoolTimeoutError)


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or a query failed."""


def guarded(func: Callable[..., T]) -> Callable[..., T]:
    """Turn database errors into StoreUnavailable (the cause stays chained)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"status store unavailable ({type(exc).__name__})") from exc

    return wrapper


def database_url(url: Optional[str] = None) -> str:
    """The effective URL of the project's database (see resolve_sqlite_path)."""
    return resolve_sqlite_path(url or settings.get("DATABASE_URL"))


def resolve_sqlite_path(raw: str) -> str:
    """Relative SQLite paths are taken from the repo root, so the action
    server, the CLIs and the tests find the same file whatever their working
    directory; other URLs are returned as given. Also used for Rasa's tracker
    database by the retention jobs."""
    parsed = make_url(raw)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return raw
    path = Path(parsed.database)
    if not path.is_absolute():
        path = ROOT / path
        if path.parent == ROOT / "var":
            try:
                path.parent.mkdir(exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(f"cannot create {path.parent}") from exc
    return str(parsed.set(database=str(path)))


def get_engine(url: Optional[str] = None) -> Engine:
    resolved = database_url(url)
    with _engines_lock:
        engine = _engines.get(resolved)
        if engine is None:
            engine = _engines[resolved] = _create_engine(resolved)
        return engine


def dispose_engine(url: Optional[str] = None) -> None:
    """Close the pooled connections of one URL (tests drop their databases)."""
    with _engines_lock:
        engine = _engines.pop(database_url(url), None)
    if engine is not None:
        engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    # hide_parameters: error messages and SQL logging (echo, or the
    # sqlalchemy.engine logger at INFO) would otherwise print the names and
    # birth dates bound to the statements.
    options: dict = {"future": True, "hide_parameters": True}
    if parsed.get_backend_name() == "postgresql":
        options["pool_pre_ping"] = True
        # Batches the importer's UPDATEs as well as its INSERTs.
        options["executemany_mode"] = "values_plus_batch"
        if "connect_timeout" not in parsed.query:
            # A black-holed host must fail fast, not hang the action server.
            options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(url, **options)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite starts transactions late and on its own; take that over
        # (SQLAlchemy's documented recipe) so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # The importer reserves ids with max(id)+1, which is only safe while
        # holding SQLite's single write lock from the start of the batch.
        immediate = conn.get_execution_options().get("sqlite_write_lock")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    engine = get_engine(url)
    try:
        with Session(engine, future=True, expire_on_commit=False) as session:
            with session.begin():
                yield session
    except DB_ERRORS as exc:
        raise StoreUnavailable(f"status store unavailable ({type(exc).__name__})") from exc


@contextmanager
def write_transaction(url: Optional[str] = None) -> Iterator[Connection]:
    """A Core connection in one transaction that may reserve ids (see
    repository.upsert_applications); on SQLite it holds the write lock from
    the first statement."""
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            conn.execution_options(sqlite_write_lock=True)
            with conn.begin():
                yield conn
    except DB_ERRORS as exc:
        raise StoreUnavailable(f"status store unavailable ({type(exc).__name__})") from exc


@guarded
def init_db(url: Optional[str] = None) -> None:
    """Migrate the database to the newest schema (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = database_url(url)
    # Called from a running program: keep its logging configuration.
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")
