"""Accepted platform updates, kept in SQL before the platform hears «OK».

Telegram and VK forget an update as soon as the webhook answers 200 (the
Telegram polling process moves its offset on, the VK long poll its ts).
Answering first and processing in memory lost every update an instance was
killed with. Now a channel hands each update to `Inbox.submit`, which

1. inserts it into ``channel_inbox`` (same database as the status store:
   SQLite in `make run`, PostgreSQL in production), where the unique
   (channel, platform id) also drops the platform's re-sends, even when they
   reach another instance;
2. only then lets the webhook answer, and processes the update in the
   background; when done the row keeps the id (for de-duplication, two
   days) but no longer the text;
3. if the database cannot take it, returns None: the webhook answers 503 and
   the platform sends the update again later (nothing is acknowledged that
   was not kept).

The process working on an update holds a lease and renews it while it
works. Every instance sweeps the table: an unprocessed update whose lease
ran out (its process died) is claimed and processed, so after a crash the
restarted instance, or any other, finishes it — once: a claim is an UPDATE
that only one instance can win. Delivery is at least once: a process killed
after Rasa answered but before the row was marked would answer again.

Channels use it through `Inbox(channel_name, handler)`; `start()` begins the
sweep (at server start), `stop()` ends it. The handler gets the stored update.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import secrets
import socket
import threading
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hotline.db.engine import StoreUnavailable, guarded, init_db, session_scope
from hotline.db.tables.inbox import channel_inbox as table
from hotline import settings
from hotline.db.base import utcnow

logger = logging.getLogger(__name__)

Handler = Callable[[Dict[str, Any]], Awaitable[Any]]



_schema_lock = threading.Lock()
_schema_ready: Set[Optional[str]] = set()


def _ensure_schema(url: Optional[str]) -> None:
    """Migrate once per process: the Rasa process may be the first to touch
    the database, and Alembic's command API must not run in two threads at once."""
    with _schema_lock:
        if url not in _schema_ready:
            init_db(url)
            _schema_ready.add(url)


class InboxStore:
    """The SQL side, synchronous (called through asyncio.to_thread)."""

    def __init__(self, channel: str, url: Optional[str] = None, lease_seconds: float = 30.0,
                 max_attempts: int = 5, keep_hours: float = 48.0) -> None:
        self.channel = channel
        self.url = url
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.keep = dt.timedelta(hours=keep_hours)
        # Unique per process: a restarted instance does not mistake its
        # predecessor's leases for its own.
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"

    @guarded
    def accept(self, key: str, payload: Dict[str, Any]) -> bool:
        """Keep an update; False when this channel has seen the key before."""
        now = utcnow()
        try:
            with session_scope(self.url) as s:
                s.execute(insert(table).values(
                    channel=self.channel, update_key=key[:128], payload=json.dumps(payload, ensure_ascii=False),
                    received_at=now, owner=self.owner, lease_until=now + self.lease, attempts=1))
        except StoreUnavailable as exc:
            if isinstance(exc.__cause__, IntegrityError):
                return False
            raise
        return True

    @guarded
    def finish(self, key: str) -> None:
        with session_scope(self.url) as s:
            s.execute(update(table).where(table.c.channel == self.channel, table.c.update_key == key[:128])
                      .values(processed_at=utcnow(), payload=None, owner=None, lease_until=None))

    @guarded
    def renew(self) -> None:
        """Extend the leases of everything this process is still working on."""
        now = utcnow()
        with session_scope(self.url) as s:
            s.execute(update(table).where(table.c.owner == self.owner, table.c.processed_at.is_(None))
                      .values(lease_until=now + self.lease))

    @guarded
    def claim_abandoned(self, limit: int = 50) -> List[Tuple[str, Dict[str, Any]]]:
        """Unprocessed updates whose process is gone, now ours, oldest first."""
        now = utcnow()
        claimed: List[Tuple[str, Dict[str, Any]]] = []
        with session_scope(self.url) as s:
            rows = s.execute(select(table.c.id, table.c.update_key, table.c.payload, table.c.attempts).where(
                table.c.channel == self.channel, table.c.processed_at.is_(None),
                or_(table.c.lease_until.is_(None), table.c.lease_until < now)).order_by(table.c.id).limit(limit)).all()
        for row in rows:
            with session_scope(self.url) as s:
                won = s.execute(update(table).where(
                    table.c.id == row.id, table.c.processed_at.is_(None),
                    or_(table.c.lease_until.is_(None), table.c.lease_until < now),
                ).values(owner=self.owner, lease_until=now + self.lease, attempts=table.c.attempts + 1)).rowcount
            if not won:
                continue  # another instance was quicker
            if row.attempts >= self.max_attempts or row.payload is None:
                # An update that killed its process this often is not tried again.
                logger.error("%s inbox: update abandoned after %d attempts", self.channel, row.attempts)
                self.finish(row.update_key)
                continue
            claimed.append((row.update_key, json.loads(row.payload)))
        return claimed

    @guarded
    def purge(self) -> int:
        """Forget processed updates older than the de-duplication window."""
        with session_scope(self.url) as s:
            return s.execute(delete(table).where(and_(
                table.c.channel == self.channel, table.c.processed_at.is_not(None),
                table.c.received_at < utcnow() - self.keep))).rowcount


class Inbox:
    """One channel's inbox: submit from the webhook, process in the
    background, resume what dead processes left."""

    def __init__(self, channel: str, handler: Optional[Handler] = None, url: Optional[str] = None,
                 lease_seconds: Optional[float] = None, sweep_seconds: Optional[float] = None) -> None:
        lease = lease_seconds if lease_seconds is not None else settings.get("INBOX_LEASE_SECONDS")
        self.store = InboxStore(channel, url, lease_seconds=lease)
        self.handler = handler
        self.sweep_seconds = sweep_seconds if sweep_seconds is not None else max(0.2, lease / 3)
        self._tasks: Set[asyncio.Task] = set()
        self._sweeper: Optional[asyncio.Task] = None
        self._ready = False

    async def _db(self, func: Callable, *args: Any) -> Any:
        if not self._ready:
            await asyncio.to_thread(_ensure_schema, self.store.url)
            self._ready = True
        return await asyncio.to_thread(func, *args)

    async def submit(self, key: str, payload: Dict[str, Any]) -> Optional[bool]:
        """True: kept and being processed; False: a re-send, ignored; None: not
        kept (database unavailable) — the caller must not acknowledge it."""
        try:
            fresh = await self._db(self.store.accept, key, payload)
        except StoreUnavailable as exc:
            logger.error("%s inbox: database unavailable (%s); update not acknowledged",
                         self.store.channel, type(exc.__cause__ or exc).__name__)
            return None
        if fresh:
            self._spawn(self._process(key, payload))
        return fresh

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, key: str, payload: Dict[str, Any]) -> None:
        try:
            assert self.handler is not None, "Inbox.handler must be set before updates arrive"
            await self.handler(payload)
        except Exception as exc:  # the channel's handler logs its own failures
            logger.error("%s inbox: processing failed: %s", self.store.channel, type(exc).__name__)
        try:
            await self._db(self.store.finish, key)
        except StoreUnavailable:
            # Left unfinished: after its lease it is processed again (at least once).
            logger.warning("%s inbox: could not mark an update processed", self.store.channel)

    async def sweep(self) -> int:
        """Renew our leases, take over abandoned updates; how many were taken."""
        await self._db(self.store.renew)
        abandoned = await self._db(self.store.claim_abandoned)
        for key, payload in abandoned:
            logger.info("%s inbox: resuming an update left unprocessed", self.store.channel)
            self._spawn(self._process(key, payload))
        return len(abandoned)

    async def _sweep_forever(self) -> None:
        rounds = 0
        while True:
            try:
                await self.sweep()
                rounds += 1
                if rounds % 1000 == 1:
                    await self._db(self.store.purge)
            except StoreUnavailable:
                logger.warning("%s inbox: database unavailable; sweep skipped", self.store.channel)
            except Exception:
                logger.exception("%s inbox: sweep failed", self.store.channel)
            await asyncio.sleep(self.sweep_seconds)

    def start(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self, grace: float = 10.0) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            # Unfinished ones stay in the table: the next start resumes them.
            await asyncio.wait(pending, timeout=grace)
