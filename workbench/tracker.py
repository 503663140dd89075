"""The workbench's connection to Rasa's tracker store: one pooled engine per
URL, and whether the store holds conversations yet.

On a fresh deployment the workbench may start before Rasa: the SQLite file
or the ``events`` table (Rasa creates both on its first start) is not there
yet. The pages then show an empty state (NO_CONVERSATIONS) rather than an
error, and ask again on every request, so they start working as soon as
the table appears, without a restart.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Dict

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine, make_url

NO_CONVERSATIONS = ("Разговоров пока нет: ассистент ещё не принял ни одного сообщения. Они появятся здесь сами, "
                    "как только граждане начнут писать боту; обновите страницу позже.")

_engines: Dict[str, Engine] = {}
_lock = threading.Lock()


def engine(url: str) -> Engine:
    """The pooled engine of a tracker URL. hide_parameters keeps bound values
    (conversation ids, prefixes) out of error messages; pre-ping survives a
    restarted database server."""
    with _lock:
        found = _engines.get(url)
        if found is None:
            found = _engines[url] = create_engine(url, future=True, hide_parameters=True, pool_pre_ping=True)
        return found


def _missing_sqlite_file(url: str) -> bool:
    """A SQLite URL naming a file that does not exist. Connecting would
    create an empty file in Rasa's place (or fail on a missing folder), so
    the file is looked for instead."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return False
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return False
    return not Path(database).exists()


def has_conversations_table(url: str) -> bool:
    """Whether Rasa has created its ``events`` table at `url` yet. Connection
    errors propagate (the store is down, not empty)."""
    if _missing_sqlite_file(url):
        return False
    return inspect(engine(url)).has_table("events")


__all__ = ["NO_CONVERSATIONS", "engine", "has_conversations_table"]
