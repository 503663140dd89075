"""Bots Long Poll: receive the community's events without a public URL.

groups.getLongPollServer gives `server`, `key` and `ts`; then
``GET {server}?act=a_check&key=…&ts=…&wait=25`` returns the events after `ts`
and the next `ts`. vk_api's VkBotLongPoll handles the `failed` answers as the
docs say: 1 — history outdated, go on with the returned `ts`; 2 — key
expired, get a new key (keep `ts`); 3 — information lost, get a new key and
`ts`.

The blocking requests run in one daemon thread; events are handed to the
asyncio loop. Network and API errors are logged (redacted) and retried with
a growing pause, so a VK outage never stops the poller.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Callable, Dict, Optional

import requests
import vk_api

from connectors.vk.api import VKClient

logger = logging.getLogger(__name__)


class LongPoller:
    def __init__(self, client: VKClient, on_event: Callable[[Dict[str, Any]], Any], wait: int = 25,
                 max_pause: float = 30.0) -> None:
        """`on_event(raw_event)` is a coroutine function run on the loop."""
        self.client = client
        self.on_event = on_event
        self.wait = wait
        self.max_pause = max_pause
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="vk-longpoll", daemon=True)
        self._thread.start()
        logger.info("VK Bots Long Poll started (wait=%s s)", self.wait)

    def stop(self) -> None:
        # The thread is a daemon: a request in flight ends within `wait`
        # seconds, or with the process.
        self._stop.set()

    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    def _run(self) -> None:
        session = None
        last_ts = None
        pause = 1.0
        quick_empty = 0  # answers without events well before `wait`: failures
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                if session is None:
                    session = self.client.bot_longpoll(self.wait)
                    if last_ts is not None:
                        # Resume where we stopped; a ts too old gets failed=1
                        # and the server's current ts.
                        session.ts = last_ts
                events = session.check()
                last_ts = session.ts
            except vk_api.ApiError as error:
                logger.error("VK Long Poll: API error [%s] %s", error.code,
                             self.client.redact(error.error.get("error_msg", "")))
                session = None
            except (requests.RequestException, ValueError, KeyError, vk_api.VkApiError) as error:
                logger.warning("VK Long Poll: %s: %s", type(error).__name__, self.client.redact(error))
                session = None
            else:
                for event in events:
                    self._submit(event.raw)
                if events or time.monotonic() - started > min(1.0, self.wait / 2):
                    quick_empty, pause = 0, 1.0
                    continue
                quick_empty += 1
                if quick_empty < 3:  # failed=1/2/3 handled; ask again at once
                    continue
                # `failed` over and over (or an answer the library does not
                # know): do not hammer the server.
                logger.warning("VK Long Poll: the server keeps failing the request; pausing %.0f s", pause)
            if self._stop.wait(pause):
                break
            pause = min(self.max_pause, pause * 2)
        logger.info("VK Bots Long Poll stopped")

    def _submit(self, raw: Dict[str, Any]) -> None:
        if self._loop is None or self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self.on_event(raw), self._loop)
