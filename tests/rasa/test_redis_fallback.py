"""Redis down → each process counts and locks for itself; Redis back → shared
again. Against a real redis-server stopped and restarted on the same port."""
from __future__ import annotations

import asyncio
import time

from rasa.utils.endpoints import EndpointConfig

from hotline.ops import metrics
from hotline.rasa.channels import RateLimiter
from hotline.rasa.lock_store import ResilientRedisLockStore
from tests.redis_server import RedisServer

RETRY_AFTER = 0.5
NOW = 1_000_000.0  # one rate-limit window for the whole test


def _fallbacks(dependency: str) -> float:
    return metrics.DEPENDENCY_FALLBACK.labels(dependency)._value.get()


async def _until_redis_is_tried_again(fallback) -> None:
    deadline = time.monotonic() + 5
    while fallback.down:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


def test_rate_limit_is_shared_then_per_instance_while_redis_is_down_then_shared_again(tmp_path):
    redis = RedisServer(tmp_path / "redis").start()

    async def scenario() -> None:
        # Two Rasa instances' limiters, one Redis.
        a = RateLimiter(limit=100, window=3600, redis_url=f"{redis.url}/2", retry_after=RETRY_AFTER)
        b = RateLimiter(limit=100, window=3600, redis_url=f"{redis.url}/2", retry_after=RETRY_AFTER)
        assert [await a.hit("rest:x", NOW), await b.hit("rest:x", NOW), await a.hit("rest:x", NOW)] == [1, 2, 3]

        redis.stop()
        before = _fallbacks("redis_rate_limit")
        # Every message still counted, but by each instance for itself.
        assert [await a.hit("rest:x", NOW), await a.hit("rest:x", NOW)] == [1, 2]
        assert await b.hit("rest:x", NOW) == 1
        assert a.fallback.down and b.fallback.down
        assert _fallbacks("redis_rate_limit") == before + 3

        redis.start()  # empty: --save ""
        await _until_redis_is_tried_again(a.fallback)
        await _until_redis_is_tried_again(b.fallback)
        assert [await a.hit("rest:x", NOW), await b.hit("rest:x", NOW)] == [1, 2]  # shared again
        assert _fallbacks("redis_rate_limit") == before + 3

    try:
        asyncio.run(scenario())
    finally:
        redis.stop()


def test_conversation_lock_is_in_redis_then_in_process_while_redis_is_down_then_in_redis_again(tmp_path):
    redis = RedisServer(tmp_path / "redis").start()

    def store() -> ResilientRedisLockStore:
        return ResilientRedisLockStore(EndpointConfig(url="127.0.0.1", port=redis.port, db=1, socket_timeout=0.5,
                                                      retry_after=RETRY_AFTER, type="x"))

    async def scenario() -> None:
        instance, other = store(), store()

        async def seen_by_the_other_instance() -> bool:
            async with instance.lock("c-1"):
                return other.get_lock("c-1") is not None

        assert await seen_by_the_other_instance()

        redis.stop()
        before = _fallbacks("redis_lock")
        async with instance.lock("c-1") as lock:  # no LockError: the message is still handled
            assert lock.conversation_id == "c-1" and instance.redis_down
        async with instance.lock("c-1"):
            pass
        assert _fallbacks("redis_lock") == before + 2

        redis.start()
        await _until_redis_is_tried_again(instance.fallback)
        assert await seen_by_the_other_instance()
        assert _fallbacks("redis_lock") == before + 2

    try:
        asyncio.run(scenario())
    finally:
        redis.stop()
