"""A thin client of the MAX Bot API on the aiohttp Rasa 3.6 pins.

Why not the official `maxapi`: it needs pydantic ≥ 2.12 and aiohttp ≥ 3.13,
which Rasa 3.6 cannot install beside its own pins (docs/channels/max.md).
The channel needs eight calls of the documented HTTP API, so they live here:

* the token goes in the ``Authorization`` header (the API no longer accepts
  it as a query parameter) and never into a log line or an exception text;
* HTTP 429 and 5xx (and network errors) are retried with a growing pause,
  honouring ``Retry-After``; other errors raise MaxApiError at once.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Iterable, List, Optional

import aiohttp

from connectors.max.config import MaxSettings

logger = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class MaxApiError(Exception):
    def __init__(self, status: int, code: str = "", message: str = "") -> None:
        super().__init__(f"MAX API HTTP {status} {code}: {message}".strip())
        self.status = status
        self.code = code


class MaxClient:
    def __init__(self, settings: MaxSettings, session: Optional[aiohttp.ClientSession] = None) -> None:
        self.settings = settings
        self._session = session
        self._own_session = session is None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout))
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def request(self, method: str, path: str, params: Optional[Dict[str, Any]] = None,
                      body: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None,
                      attempts: Optional[int] = None) -> Any:
        url = self.settings.api_url.rstrip("/") + path
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        headers = {"Authorization": self.settings.token}
        attempts = attempts or self.settings.max_send_attempts
        delay = self.settings.retry_base_delay
        client_timeout = aiohttp.ClientTimeout(total=timeout) if timeout else None
        for attempt in range(1, attempts + 1):
            wait: Optional[float] = None
            try:
                async with self.session.request(method, url, params=query, json=body, headers=headers,
                                                timeout=client_timeout) as reply:
                    data = await reply.json(content_type=None) if reply.content_length != 0 else None
                    if reply.status < 300:
                        return data
                    error = data if isinstance(data, dict) else {}
                    failure = MaxApiError(reply.status, str(error.get("code") or ""),
                                          self.settings.mask(error.get("message") or ""))
                    if reply.status not in RETRIED_STATUSES:
                        raise failure
                    retry_after = reply.headers.get("Retry-After")
                    if retry_after and retry_after.isdigit():
                        wait = min(float(retry_after), self.settings.max_retry_delay)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                failure = MaxApiError(0, type(exc).__name__, self.settings.mask(exc))
            if attempt == attempts:
                break
            wait = wait if wait is not None else delay
            logger.warning("MAX %s %s failed (%s); retry %d in %.1f s", method, path, failure, attempt, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.settings.max_retry_delay)
        logger.error("MAX %s %s failed after %d attempts: %s", method, path, attempts, failure)
        raise failure

    # --- the calls the channel uses ---

    async def get_me(self) -> Dict[str, Any]:
        return await self.request("GET", "/me", attempts=1)

    async def send_message(self, text: str, user_id: Optional[int] = None, chat_id: Optional[int] = None,
                           attachments: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
        params = {"user_id": user_id} if user_id is not None else {"chat_id": chat_id}
        body: Dict[str, Any] = {"text": text}
        if attachments:
            body["attachments"] = attachments
        return await self.request("POST", "/messages", params, body)

    async def answer_callback(self, callback_id: str, notification: Optional[str] = None) -> Any:
        body = {"notification": notification} if notification else {}
        return await self.request("POST", "/answers", {"callback_id": callback_id}, body, attempts=2)

    async def send_typing(self, chat_id: int) -> Any:
        return await self.request("POST", f"/chats/{int(chat_id)}/actions", body={"action": "typing_on"},
                                  attempts=1)

    async def subscribe(self, url: str, secret: str, update_types: Iterable[str]) -> Any:
        body: Dict[str, Any] = {"url": url, "update_types": list(update_types)}
        if secret:
            body["secret"] = secret
        return await self.request("POST", "/subscriptions", body=body)

    async def unsubscribe(self, url: str) -> Any:
        return await self.request("DELETE", "/subscriptions", {"url": url})

    async def subscriptions(self) -> List[Dict[str, Any]]:
        data = await self.request("GET", "/subscriptions")
        return list((data or {}).get("subscriptions") or [])

    async def get_updates(self, marker: Optional[int], timeout: int, types: Iterable[str],
                          limit: int = 100) -> Dict[str, Any]:
        params = {"marker": marker, "timeout": timeout, "limit": limit, "types": ",".join(types)}
        return await self.request("GET", "/updates", params, timeout=timeout + 15, attempts=1) or {}
