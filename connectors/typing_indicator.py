"""The "typing…" indicator of the messenger channels (Telegram, MAX)."""
from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Optional

from connectors.telegram.config import get_logger

logger = get_logger(__name__)

TYPING_INTERVAL = 4.5  # the platforms show "typing…" for ~5 s or until the next message


class TypingIndicator:
    """Shows "typing…" while Rasa works: at once, then every 4.5 s, never
    straight after a message was sent (the platform would show it over the answer).
    `client` is any client with `send_typing(chat_id)`."""

    def __init__(self, client: Any, chat_id: int) -> None:
        self.client = client
        self.chat_id = chat_id
        self._task: Optional[asyncio.Task] = None
        self._inflight: Optional[asyncio.Future] = None
        self._last = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._inflight = asyncio.ensure_future(self._send_once())
            await asyncio.wait([self._inflight])
            self._last = time.monotonic()
            while True:
                delay = self._last + TYPING_INTERVAL - time.monotonic()
                if delay <= 0:
                    break
                await asyncio.sleep(delay)

    async def _send_once(self) -> None:
        try:
            await self.client.send_typing(self.chat_id)
        except Exception as error:  # only cosmetic
            logger.debug("typing indicator failed: %s", type(error).__name__)

    async def before_send(self) -> None:
        """Let a typing request already on its way arrive before the answer."""
        if self._inflight is not None and not self._inflight.done():
            await asyncio.wait([self._inflight], timeout=1.0)

    def after_send(self) -> None:
        self._last = time.monotonic()

    async def stop(self) -> None:
        for task in (self._task, self._inflight):
            if task is not None and not task.done():
                task.cancel()
        for task in (self._task, self._inflight):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
