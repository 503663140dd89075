"""One kept-alive HTTP connection pool per endpoint for Rasa's outgoing calls.

Rasa 3.6's ``EndpointConfig.request`` — every call to the action server, and
to an NLG server or model server — opens a new ``aiohttp.ClientSession``
(a new connection pool), so every custom action pays a TCP connect and the
session's set-up and tear-down: about a fifth of a message's CPU in the
production profile. Here ``EndpointConfig.session`` hands out one session
per endpoint and event loop instead, wrapped so that Rasa's
``async with self.session() as session`` does not close it; everything else
in ``request`` (headers, token, TLS, errors) is Rasa's own.

Idle connections are dropped after ``KEEPALIVE_SECONDS``, shorter than the
action server's (Sanic's default 5 s) and nginx's keep-alive, so the client
never sends on a connection the server is closing.
HOTLINE_POOLED_HTTP=0 restores Rasa's session per call (for comparison).
"""
from __future__ import annotations

import asyncio
import weakref
from typing import Any, Dict, Tuple

from hotline import settings

KEEPALIVE_SECONDS = 4.0
POOL_LIMIT = 100
# (id(endpoint), loop) → (weak reference to the endpoint, session). Kept
# outside the EndpointConfig so that copying or comparing endpoints is
# unaffected; the weak reference tells a reused id from the same endpoint.
_SESSIONS: Dict[Tuple[int, Any], Tuple[Any, Any]] = {}


class _KeptSession:
    """``async with`` yields the shared session and leaves it open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def install() -> bool:
    """Replace EndpointConfig.session (idempotent); False when switched off."""
    if not settings.get("HOTLINE_POOLED_HTTP"):
        return False
    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    from hotline.rasa.version_guard import require_rasa

    require_rasa(__name__)
    if getattr(EndpointConfig.session, "_hotline_wrapped", False):
        return True
    original = EndpointConfig.session

    def session(self: EndpointConfig) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not called from a coroutine: Rasa's own behaviour
            return original(self)
        key = (id(self), loop)
        endpoint, shared = _SESSIONS.get(key, (lambda: None, None))
        if shared is None or shared.closed or endpoint() is not self:
            auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                    if self.basic_auth else None)
            shared = aiohttp.ClientSession(
                headers=self.headers, auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(limit=POOL_LIMIT, keepalive_timeout=KEEPALIVE_SECONDS),
            )
            _SESSIONS[key] = (weakref.ref(self), shared)
        return _KeptSession(shared)

    session._hotline_wrapped = True  # type: ignore[attr-defined]
    session.__wrapped__ = original  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[assignment]
    return True


async def close_all() -> None:
    """Close the pooled sessions of the running loop (shutdown, tests)."""
    loop = asyncio.get_running_loop()
    for key in [k for k in _SESSIONS if k[1] is loop]:
        _, shared = _SESSIONS.pop(key)
        await shared.close()
