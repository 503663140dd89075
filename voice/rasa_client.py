"""Talks to the assistant over HTTP for the phone dialogue.

Posts each caller turn to the ``voice`` webhook (voice/channel.py) with
sender ``phone_<call uuid>`` and returns the bot's messages and the
conversation state. When the Rasa server has no voice channel configured
(404), it falls back once to the ``rest`` webhook and keeps using it: the
answers then are the text channels' wording and there is no state, so the
dialogue infers the open question from the words.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import aiohttp

logger = logging.getLogger(__name__)


@dataclass
class BotReply:
    messages: List[Dict[str, Any]] = field(default_factory=list)
    state: Dict[str, Any] = field(default_factory=dict)
    error: bool = False

    @property
    def texts(self) -> List[str]:
        return [m["text"] for m in self.messages if m.get("text")]

    @property
    def buttons(self) -> List[Dict[str, Any]]:
        return [b for m in self.messages for b in (m.get("buttons") or [])]

    @property
    def customs(self) -> List[Dict[str, Any]]:
        return [m["custom"] for m in self.messages if isinstance(m.get("custom"), dict)]

    def expected_slot(self) -> Optional[str]:
        """The form's open question: from the voice state, else from the bot's words."""
        if "requested_slot" in self.state:
            return self.state.get("requested_slot")
        last = " ".join(self.texts[-1:]).lower()
        if re.search(r"дат[уа] рождения", last):
            return "birth_date"
        if re.search(r"фамили[юя]", last) and re.search(r"назовите|напишите|укажите", last):
            return "full_name"
        if re.search(r"номер заявления", last) and re.search(r"назовите|укажите|введите|повторите", last):
            return "application_number"
        return None

    def wants_operator(self) -> bool:
        if self.state.get("paused") or self.state.get("intent") == "request_operator":
            return True
        return any(c.get("voice_action") == "transfer" for c in self.customs)

    def ends_call(self) -> bool:
        return self.state.get("intent") == "goodbye" or any(c.get("voice_action") == "hangup" for c in self.customs)


def sender_for(call_uuid: str) -> str:
    return f"phone_{call_uuid}"


class VoiceRasaClient:
    def __init__(self, base_url: str, channel: str = "voice", timeout: float = 30.0,
                 session: Optional[aiohttp.ClientSession] = None, token: Optional[str] = None) -> None:
        from voice.config import voice_token

        self.base_url = base_url.rstrip("/")
        # The voice channel answers the phone server only (voice/channel.py).
        self.headers = {"Authorization": f"Bearer {token or voice_token()}"}
        self.channel = channel
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._own_session = session is None

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout,
                                                  connector=aiohttp.TCPConnector(limit=200))
        return self._session

    async def send(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None) -> BotReply:
        session = await self._get_session()
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        for _ in range(2):
            url = f"{self.base_url}/webhooks/{self.channel}/webhook"
            try:
                async with session.post(url, json=body, headers=self.headers) as resp:
                    if resp.status == 404 and self.channel != "rest":
                        logger.warning("voice channel not configured on %s; using the rest webhook "
                                       "(add voice.channel.VoiceInput to credentials.yml)", self.base_url)
                        self.channel = "rest"
                        continue
                    resp.raise_for_status()
                    data = await resp.json()
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                logger.warning("assistant unreachable: %s", error)
                return BotReply(error=True)
            return _split(data)
        return BotReply(error=True)

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()


def _split(data: List[Dict[str, Any]]) -> BotReply:
    reply = BotReply()
    for message in data or []:
        custom = message.get("custom")
        if isinstance(custom, dict) and "voice_state" in custom:
            reply.state = custom["voice_state"] or {}
            reply.error = bool(reply.state.get("error"))
            continue
        reply.messages.append(message)
    return reply
