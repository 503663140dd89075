"""A browser's web widget without the browser: python-socketio speaking to
the socket.io channel as widget.js does (Origin of the page, session
request with the server's token, messages, bot replies)."""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Dict, List, Optional


class WidgetCitizen:
    def __init__(self, url: str, token: Optional[str] = None, origin: str = "http://localhost:8080",
                 request: bool = True) -> None:
        import socketio

        self.session_id = ""
        self.token = ""
        self.received: List[Dict[str, Any]] = []
        self.confirmed: List[Dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self.client = socketio.AsyncClient()
        self._confirm = threading.Event()

        @self.client.on("bot_uttered")
        async def on_bot(data):
            self.received.append({**data, "at": time.perf_counter()})

        @self.client.on("session_confirm")
        async def on_confirm(data):
            self.confirmed.append(data)
            self.session_id, self.token = data["session_id"], data["token"]
            self._confirm.set()

        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        try:
            # The polling transport: engine.io's websocket client needs a newer aiohttp than Rasa allows.
            self._run(self.client.connect(url, transports=["polling"], headers={"Origin": origin}))
        except BaseException:
            self.loop.call_soon_threadsafe(self.loop.stop)
            raise
        if request:
            self.request(token=token)

    def _run(self, coroutine, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def request(self, **data: Any) -> Dict[str, Any]:
        """``session_request`` with these fields; the server's confirmation."""
        self._confirm.clear()
        self._run(self.client.emit("session_request", data))
        if not self._confirm.wait(20):
            raise TimeoutError("no session_confirm")
        return self.confirmed[-1]

    def say(self, text: str, session_id: Optional[str] = None) -> None:
        """A message; ``session_id`` is what the widget also sends (the server must not believe it)."""
        self._run(self.client.emit("user_uttered", {"message": text, "session_id": session_id or self.session_id}))

    def texts(self) -> str:
        return " ".join(r.get("text", "") for r in self.received)

    def close(self) -> None:
        try:
            self._run(self.client.disconnect(), timeout=5)
        except Exception:  # the polling transport may linger on its last long poll
            pass
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
