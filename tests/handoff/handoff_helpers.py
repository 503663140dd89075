"""Test helpers: aiohttp apps in a background thread, a fake Rasa server for
the console's unit tests, and a console HTTP client that signs in like a browser."""
from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import requests
from aiohttp import web

from hotline.ops.ports import free_port

SECRET = "test-handoff-secret"


def handoff_settings(**overrides):
    """The handoff settings of the tests: operators round the clock, a quick
    worker, plain HTTP on loopback as in `make run` (no Secure cookies)."""
    from handoff.config import Settings

    base = Settings.load({"HANDOFF_HOURS": "24/7", "HANDOFF_SECRET": SECRET, "HANDOFF_WORKER_INTERVAL": "0.1",
                          "HANDOFF_SECURE_COOKIES": "0"})
    return dataclasses.replace(base, **overrides)


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


class FakeRasa:
    """Just enough of Rasa's HTTP API and of the handoff channel for the console."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.trackers: Dict[str, List[Dict[str, Any]]] = {}
        self.deliveries: List[Dict[str, Any]] = []
        self.triggered: List[tuple] = []
        self.fail_delivery = False
        # What the bot answers when the console returns a conversation to it;
        # tests set their own so they check what the console does with it.
        self.resume_replies: List[Dict[str, Any]] = [{"text": "Оператор завершил разговор. Я снова на связи."}]

    def app(self) -> web.Application:
        app = web.Application()

        async def tracker(request: web.Request) -> web.Response:
            conv = request.match_info["conv"]
            return web.json_response({"sender_id": conv, "events": self.trackers.get(conv, [])})

        async def events(request: web.Request) -> web.Response:
            conv = request.match_info["conv"]
            body = await request.json()
            for event in body if isinstance(body, list) else [body]:
                self.trackers.setdefault(conv, []).append({**event, "timestamp": time.time()})
            return web.json_response({})

        async def trigger(request: web.Request) -> web.Response:
            conv = request.match_info["conv"]
            body = await request.json()
            self.triggered.append((conv, body["name"]))
            for reply in self.resume_replies:
                self.trackers.setdefault(conv, []).append({"event": "bot", "text": reply.get("text"),
                                                           "timestamp": time.time()})
            return web.json_response({"tracker": {},
                                      "messages": [{"recipient_id": conv, **r} for r in self.resume_replies]})

        async def deliver(request: web.Request) -> web.Response:
            if request.headers.get("X-Handoff-Secret") != self.secret:
                return web.json_response({"ok": False}, status=403)
            if self.fail_delivery:
                return web.json_response({"ok": False, "error": "ConnectionError"}, status=502)
            self.deliveries.append({**await request.json(), "at": time.perf_counter()})
            return web.json_response({"ok": True, "how": "pushed", "ms": 0.1})

        app.router.add_get("/conversations/{conv}/tracker", tracker)
        app.router.add_post("/conversations/{conv}/tracker/events", events)
        app.router.add_post("/conversations/{conv}/trigger_intent", trigger)
        app.router.add_post("/webhooks/handoff/deliver", deliver)
        return app


class ConsoleClient:
    """An operator's browser session against the console, through the JSON API
    (and the HTML forms where a test needs them)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.csrf: Optional[str] = None

    def login(self, login: str, password: str) -> requests.Response:
        reply = self.http.post(f"{self.base}/api/login", json={"login": login, "password": password}, timeout=30)
        if reply.status_code == 200:
            self.csrf = reply.json()["csrf_token"]
        return reply

    def login_form(self, login: str, password: str) -> requests.Response:
        page = self.http.get(f"{self.base}/login", timeout=30)
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
        return self.http.post(f"{self.base}/login", data={"login": login, "password": password, "login_csrf": token,
                                                          "next": "/queue"}, timeout=30)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(f"{self.base}{path}", timeout=30, **kwargs)

    def post(self, path: str, json: Any = None, csrf: bool = True, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.http.post(f"{self.base}{path}", json=json, headers=headers, timeout=60, **kwargs)

    def queue(self) -> Dict[str, Any]:
        reply = self.get("/api/queue")
        reply.raise_for_status()
        return reply.json()

    def take(self, ticket_id: int) -> requests.Response:
        return self.post(f"/api/tickets/{ticket_id}/take", json={})

    def reply(self, ticket_id: int, text: str) -> requests.Response:
        return self.post(f"/api/tickets/{ticket_id}/messages", json={"text": text})

    def close(self, ticket_id: int, resolution: str = "") -> requests.Response:
        return self.post(f"/api/tickets/{ticket_id}/close", json={"resolution": resolution})


def wait_until(predicate: Callable[[], Any], timeout: float = 60, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def rasa_user_event(intent: str, text: str = "", entities=None, confidence: float = 0.95) -> Dict[str, Any]:
    """A serialised Rasa user event, as the action server receives it."""
    return {"event": "user", "text": text,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": entities or [],
                           "text": text}}
