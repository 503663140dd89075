"""Health checks that look at a service's dependencies.

Every service answers ``GET /ops/health`` with JSON::

    {"status": "ok" | "degraded" | "down", "service": "rasa", "instance": "rasa-1",
     "checks": {"tracker_store": {"ok": true, "ms": 1.2}, "lock_store": {...}, ...}}

HTTP 200 for ``ok`` and ``degraded`` (the service answers citizens), 503 for
``down`` (it cannot: a load balancer or orchestrator should take it out).

Rasa instance: ``model`` and ``tracker_store`` (PostgreSQL) are required;
``lock_store`` (Redis — without it the instance serialises conversations in
process, see hotline.rasa.lock_store) and ``action_server`` (without it citizens
get the polite degraded reply, see hotline.rasa.hooks) only degrade it.
Action server: ``status_store`` (the status database) degrades it — the
status check answers «сервис временно недоступен», everything else works.

Error details are exception class names only: a driver message can quote
SQL parameters or hosts and passwords.
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional, Tuple

from hotline import settings

CHECK_TIMEOUT_SECONDS = settings.get("HEALTH_CHECK_TIMEOUT")

Check = Dict[str, Any]


async def timed(name: str, probe: Callable[[], Awaitable[Any]], timeout: float = CHECK_TIMEOUT_SECONDS) -> Check:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe(), timeout)
        result: Check = {"ok": True}
        if isinstance(detail, dict):
            result.update(detail)
    except asyncio.TimeoutError:
        result = {"ok": False, "error": "timeout"}
    except Exception as exc:  # every failure is a finding, not a crash
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def sql_probe(engine: Any) -> Callable[[], Awaitable[Any]]:
    """SELECT 1 on a SQLAlchemy engine, in a worker thread (drivers block)."""

    def _select_one() -> None:
        from sqlalchemy import text

        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def probe() -> None:
        await asyncio.get_running_loop().run_in_executor(None, _select_one)

    return probe


def redis_probe(client: Any) -> Callable[[], Awaitable[Any]]:
    """PING on a synchronous redis-py client, in a worker thread."""

    async def probe() -> None:
        await asyncio.get_running_loop().run_in_executor(None, client.ping)

    return probe


def http_probe(url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> Callable[[], Awaitable[Any]]:
    async def probe() -> Dict[str, Any]:
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.get(url) as reply:
                if reply.status >= 400:
                    raise RuntimeError(f"HTTP {reply.status}")
                return {}

    return probe


def summarize(service: str, checks: Dict[str, Check], required: Iterable[str]) -> Tuple[int, Dict[str, Any]]:
    required = set(required)
    if any(not checks[name]["ok"] for name in required if name in checks):
        status = "down"
    elif all(check["ok"] for check in checks.values()):
        status = "ok"
    else:
        status = "degraded"
    body = {
        "status": status,
        "service": service,
        "instance": settings.get("HOTLINE_INSTANCE") or str(os.getpid()),
        "checks": checks,
    }
    return (503 if status == "down" else 200), body


def _unwrap_tracker_store(store: Any) -> Any:
    # Rasa wraps the configured store in a FailSafeTrackerStore.
    return getattr(store, "_tracker_store", store)


def action_server_health_url() -> Optional[str]:
    url = settings.get("ACTION_HEALTH_URL") or None
    return url or None


async def rasa_health(agent: Any) -> Tuple[int, Dict[str, Any]]:
    checks: Dict[str, Check] = {}
    ready = bool(agent is not None and agent.is_ready())
    checks["model"] = {"ok": ready, **({} if ready else {"error": "not loaded"})}
    coroutines: Dict[str, Awaitable[Check]] = {}
    if agent is not None:
        store = _unwrap_tracker_store(agent.tracker_store)
        engine = getattr(store, "engine", None)
        if engine is not None:
            coroutines["tracker_store"] = timed("tracker_store", sql_probe(engine))
        else:
            checks["tracker_store"] = {"ok": True, "detail": type(store).__name__}
        lock_store = agent.lock_store
        client = getattr(lock_store, "red", None)
        if client is not None:
            coroutines["lock_store"] = timed("lock_store", redis_probe(client))
    url = action_server_health_url()
    if url:
        coroutines["action_server"] = timed("action_server", http_probe(url))
    results = await asyncio.gather(*coroutines.values())
    checks.update(dict(zip(coroutines.keys(), results)))
    return summarize("rasa", checks, required=("model", "tracker_store"))


async def action_server_health() -> Tuple[int, Dict[str, Any]]:
    from hotline.status import get_engine

    checks = {"status_store": await timed("status_store", sql_probe(get_engine()))}
    return summarize("actions", checks, required=())
