"""An aiohttp server on its own event loop in a thread, for the fakes of the
messenger platforms: synchronous tests and benchmarks drive it, and it can
call back into the code under test (a platform delivering an update)."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, Optional

import aiohttp
from aiohttp import web


class ThreadedServer:
    name = "fake-server"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port: Optional[int] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None
        self._session: Optional[aiohttp.ClientSession] = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def on_start(self) -> None:
        """Runs on the server's loop before it accepts requests."""

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ThreadedServer":
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), name=self.name, daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError(f"{self.name} did not start")
        return self

    def _serve(self, started: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start_site())
        started.set()
        self._loop.run_forever()

    async def _start_site(self) -> None:
        await self.on_start()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._session = aiohttp.ClientSession()

    def stop(self) -> None:
        if self._loop is None:
            return

        async def _shutdown() -> None:
            await self._session.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(_shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def post_json(self, url: str, body: Dict[str, Any], headers: Dict[str, str], timeout: float = 10) -> int:
        """POST from the server's side (as the platform calls a webhook); the HTTP status."""
        async def _post() -> int:
            async with self._session.post(url, json=body, headers=headers) as reply:
                return reply.status

        return asyncio.run_coroutine_threadsafe(_post(), self._loop).result(timeout)
