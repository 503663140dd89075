"""The console's client of the Rasa server: its HTTP API (``rasa run
--enable-api``) for the tracker, and the handoff channel's /deliver route.

    GET  /conversations/<id>/tracker          transcript
    POST /conversations/<id>/tracker/events   pause, resume, operator messages
    POST /conversations/<id>/trigger_intent   return_to_bot: the bot resumes and
                                              answers; its messages come back in the
                                              response and are delivered by us
    POST /webhooks/handoff/deliver            an operator message to the citizen

API calls carry ``Authorization: Bearer`` signed with Rasa's API key
(hotline.rasa_api: RASA_API_TOKEN or var/rasa-api.secret), never ``?token=``.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp

from handoff.config import SECRET_HEADER, Settings, internal_secret
from hotline.rasa_api import BearerAuth


class RasaError(RuntimeError):
    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class RasaApiClient:
    def __init__(self, settings: Settings, secret: Optional[str] = None, timeout: float = 30.0) -> None:
        self.base = settings.rasa_url.rstrip("/")
        self.auth = BearerAuth(settings.rasa_token or None)
        self.secret = secret or internal_secret()
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _url(self, path: str) -> str:
        return f"{self.base}{path}"

    @staticmethod
    def _conversation(conversation_id: str) -> str:
        return quote(conversation_id, safe="")

    async def _request(self, method: str, path: str, *, json: Any = None,
                       params: Optional[Dict[str, str]] = None, headers: Optional[Dict[str, str]] = None) -> Any:
        session = await self.session()
        try:
            async with session.request(method, self._url(path), json=json, params=params,
                                       headers={**self.auth.headers(), **(headers or {})}) as reply:
                body = await reply.json(content_type=None)
                if reply.status >= 400:
                    detail = body.get("error") or body.get("message") if isinstance(body, dict) else None
                    raise RasaError(f"{method} {path.split('?')[0]}: HTTP {reply.status} {detail or ''}".strip(),
                                    reply.status)
                return body
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaError(f"Rasa server unreachable ({type(exc).__name__})") from exc

    async def tracker(self, conversation_id: str) -> Dict[str, Any]:
        return await self._request("GET", f"/conversations/{self._conversation(conversation_id)}/tracker")

    async def append_events(self, conversation_id: str, events: List[Dict[str, Any]]) -> None:
        await self._request("POST", f"/conversations/{self._conversation(conversation_id)}/tracker/events",
                            json=events, params={"include_events": "NONE"})

    async def trigger_intent(self, conversation_id: str, intent: str,
                             entities: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body = await self._request("POST", f"/conversations/{self._conversation(conversation_id)}/trigger_intent",
                                   json={"name": intent, "entities": entities or {}},
                                   params={"include_events": "NONE"})
        return list(body.get("messages") or [])

    async def deliver(self, channel: str, conversation_id: str, text: str,
                      buttons: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
        started = time.perf_counter()
        body = await self._request("POST", "/webhooks/handoff/deliver",
                                   json={"channel": channel, "conversation_id": conversation_id, "text": text,
                                         "buttons": buttons},
                                   headers={SECRET_HEADER: self.secret})
        body["round_trip_ms"] = (time.perf_counter() - started) * 1000
        return body
