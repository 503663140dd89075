"""Rasa's Redis lock store that keeps answering when Redis does not.

endpoints.prod.yml::

    lock_store:
      type: hotline.rasa.lock_store.ResilientRedisLockStore
      url: 127.0.0.1
      port: 6379
      db: 1
      socket_timeout: 1
      retry_after: 5

Rasa takes a per-conversation ticket lock in the lock store before it
handles a message, so that two messages of one conversation that reach two
instances at once are processed one after the other. With Rasa's own
RedisLockStore an unreachable Redis fails every message (LockError, the
citizen hears nothing and the message is lost).

This subclass keeps Rasa's Redis protocol (same keys, same tickets) while
Redis answers. When a Redis call fails it serves the conversation with an
in-process lock instead (Rasa's InMemoryLockStore) and tries Redis again
after ``retry_after`` seconds — hotline.rasa.redis_fallback, the same rule
as the channels' rate limiter (metric label ``redis_lock``). Consequence,
documented in docs/production.md: while Redis is down, messages are never
lost and one instance still handles a conversation's messages in order; only
two messages of the same conversation arriving at two different instances at
the same moment may be handled concurrently.

It also fixes a hang of Rasa's ticket lock after a crash (see ``_acquire``).
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from hotline.rasa.redis_fallback import REDIS_ERRORS, RedisFallback
from hotline.rasa.version_guard import require_rasa

# Overrides Rasa's private ticket-lock methods (_acquire, _issue_redis_ticket…).
require_rasa(__name__)

logger = logging.getLogger(__name__)

class ResilientRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        options = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        options.update(kwargs)
        host = (endpoint_config.url if endpoint_config is not None else None) or options.pop("host", "localhost")
        options.pop("host", None)
        self.fallback = RedisFallback("redis_lock", "using in-process locks", float(options.pop("retry_after", 5)))
        connect_timeout = float(options.pop("socket_connect_timeout", options.get("socket_timeout", 1)))
        options.setdefault("socket_timeout", 1)
        super().__init__(host=host, **options)
        # Rasa does not pass a connect timeout; a black-holed host would
        # otherwise block the event loop for the OS default.
        self.red.connection_pool.connection_kwargs["socket_connect_timeout"] = connect_timeout
        self.memory = InMemoryLockStore()

    @property
    def redis_down(self) -> bool:
        return self.fallback.down

    def ping(self) -> bool:
        return bool(self.red.ping())

    # --- Rasa's interface ------------------------------------------------------

    def _issue_redis_ticket(self, conversation_id: Text, lock_lifetime: float) -> int:
        lock = self.get_or_create_lock(conversation_id)
        ticket = lock.issue_ticket(lock_lifetime)
        self.save_lock(lock)
        return ticket

    async def _acquire(
        self, conversation_id: Text, ticket: int, lock_lifetime: float, wait_time_in_seconds: float
    ) -> Tuple[TicketLock, int]:
        """Rasa's waiting loop, plus one fix: Rasa 3.6 waits forever when
        the waiter's own ticket expires before the tickets ahead of it are
        gone (e.g. the instance holding the conversation was killed: its
        ticket and the waiter's expire about together, and a one-second poll
        can miss the moment in between; the lock is then left with no
        tickets and ``now_serving`` None). Here a waiter whose ticket is gone
        queues again with a fresh ticket."""
        requeued = 0
        while True:
            lock = self.get_lock(conversation_id)
            if lock is not None and not lock.is_locked(ticket):
                return lock, ticket
            if lock is None or all(t.number != ticket for t in lock.tickets):
                requeued += 1
                if requeued > 3:
                    raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
                logger.warning("lock ticket expired while waiting; queueing again")
                ticket = self._issue_redis_ticket(conversation_id, lock_lifetime)
                continue
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        acquired: Optional[TicketLock] = None
        ticket = -1
        if not self.fallback.down:
            try:
                ticket = self._issue_redis_ticket(conversation_id, lock_lifetime)
                acquired, ticket = await self._acquire(conversation_id, ticket, lock_lifetime,
                                                       wait_time_in_seconds)
            except REDIS_ERRORS as error:
                self.fallback.failed(error)
                acquired = None
        if acquired is None:
            self.fallback.served_locally()
            async with self.memory.lock(conversation_id, lock_lifetime, wait_time_in_seconds) as lock:
                yield lock
            return
        try:
            yield acquired
        finally:
            try:
                self.cleanup(conversation_id, ticket)
            except REDIS_ERRORS as error:
                # The ticket expires after its lifetime; the reply is not lost.
                self.fallback.failed(error)
