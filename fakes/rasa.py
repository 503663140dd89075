"""Just enough of Rasa's HTTP API and of the handoff channel for the
operators' console: trackers, events, trigger_intent, deliveries."""
from __future__ import annotations

import time
from typing import Any, Dict, List

from aiohttp import web


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
