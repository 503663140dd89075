"""An aiohttp application on 127.0.0.1 in a background thread, built inside
the thread's own event loop: the console, a fake Rasa or any small server a
synchronous test or benchmark drives."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Optional

from aiohttp import web

from hotline.ops.ports import free_port


class AppThread:
    """Runs an aiohttp application (built by `factory` inside the thread's
    loop) on 127.0.0.1:<port> until stop()."""

    def __init__(self, factory: Callable[[], web.Application], port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self.app: Optional[web.Application] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread = threading.Thread(target=self._run, args=(factory,), daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("app did not start")
        if self._error:
            raise self._error

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, factory) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self.app = factory()
            self._runner = web.AppRunner(self.app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        try:
            self.loop.run_until_complete(start())
        except BaseException as exc:  # reported to the constructor
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    def call(self, coroutine, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        if self._runner is not None:
            try:
                self.call(self._runner.cleanup(), timeout=30)
            except Exception:
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
