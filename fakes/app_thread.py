"""An aiohttp server on its own event loop in a background thread, for
synchronous tests and benchmarks: the console, a fake Rasa, the messenger
platforms' fakes.

Two ways to describe the server, one machinery: `AppThread(factory)` starts
at once an application built by `factory` inside the thread's loop;
`ThreadedServer` is a base class for a fake platform that declares its
routes, starts on `start()` (or `with`) and can call back into the code
under test (a platform delivering an update).
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Dict, Optional

import aiohttp
from aiohttp import web


class AppThread:
    """Serves an aiohttp application on host:port (a free port unless one is
    given, known once started) until stop()."""

    name = "app-thread"

    def __init__(self, factory: Optional[Callable[[], web.Application]] = None, port: Optional[int] = None,
                 host: str = "127.0.0.1", start: bool = True) -> None:
        self.factory = factory
        self.host = host
        self.port = port
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.app: Optional[web.Application] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        if start:
            self.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    base_url = url

    async def build(self) -> web.Application:
        """The application, built on the server's loop (aiohttp objects belong to one loop)."""
        return self.factory()

    def start(self) -> "AppThread":
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        errors: list = []
        self._thread = threading.Thread(target=self._run, args=(ready, errors), name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(60):
            raise TimeoutError(f"{self.name} did not start")
        if errors:
            raise errors[0]
        return self

    def _run(self, ready: threading.Event, errors: list) -> None:
        asyncio.set_event_loop(self.loop)

        async def serve() -> None:
            self.app = await self.build()
            self._runner = web.AppRunner(self.app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port or 0)
            await site.start()
            # Bound to port 0 when none was asked: no other process can take it in between.
            self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001

        try:
            self.loop.run_until_complete(serve())
        except BaseException as exc:  # reported to start()
            errors.append(exc)
            ready.set()
            return
        ready.set()
        self.loop.run_forever()

    def call(self, coroutine, timeout: float = 60) -> Any:
        """Runs a coroutine on the server's loop and returns its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self.loop is None or self._thread is None or not self._thread.is_alive():
            return
        try:
            self.call(self.shutdown(), timeout=30)
        except Exception:  # noqa: BLE001 - stopping goes on whatever the cleanup says
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)

    def __enter__(self) -> Any:
        return self if self._thread is not None else self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class ThreadedServer(AppThread):
    """A fake platform: subclasses add their routes in `routes(app)`."""

    name = "fake-server"

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host=host, start=False)
        self._session: Optional[aiohttp.ClientSession] = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def on_start(self) -> None:
        """Runs on the server's loop before it accepts requests."""

    async def build(self) -> web.Application:
        await self.on_start()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        self.routes(app)
        self._session = aiohttp.ClientSession()
        return app

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
        await super().shutdown()

    def post_json(self, url: str, body: Dict[str, Any], headers: Dict[str, str], timeout: float = 10) -> int:
        """POST from the server's side (as the platform calls a webhook); the HTTP status."""
        async def _post() -> int:
            async with self._session.post(url, json=body, headers=headers) as reply:
                return reply.status

        return self.call(_post(), timeout)
