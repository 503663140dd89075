"""A local MAX Bot API server for tests and benchmarks.

Speaks the real HTTP protocol of platform-api.max.ru: the token in the
``Authorization`` header (401 ``verify.token`` without it; a token in the
query string is refused, as the current API does), JSON bodies, and errors
as ``{"code": …, "message": …}`` with the real status codes.

Endpoints: GET /me; POST /messages?user_id=|chat_id= (text of at most 4,000
characters, ``inline_keyboard`` attachments of callback/link buttons);
POST /answers?callback_id=; POST /chats/{id}/actions; GET/POST/DELETE
/subscriptions (url, update_types, secret); GET /updates with ``marker``,
``timeout``, ``limit`` and ``types`` (long polling: the updates after the
marker, and the marker to ask with next; asking with a marker confirms
what came before it).

Like MAX it delivers updates itself: ``deliver(update)`` POSTs to the
subscribed URL with ``X-Max-Bot-Api-Secret``; ``push_update(update)``
queues an update for /updates. ``fail_next(path, status)`` makes the next
call(s) fail (429 or 5xx). Every call is recorded with its arrival time.
Builders of updates as MAX sends them are at the end of the module.

Runs its own event loop in a thread, so synchronous tests can use it.
"""
from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

from fakes.app_thread import ThreadedServer

TOKEN = "max-test-token-" + secrets.token_hex(16)
BOT = {"user_id": 900_000_001, "name": "Горячая линия госуслуг", "username": "gosuslugi_hotline_bot",
       "is_bot": True}
MAX_TEXT = 4000
ACTIONS = {"typing_on", "sending_photo", "sending_video", "sending_audio", "sending_file", "mark_seen"}
_SECRET = re.compile(r"^[A-Za-z0-9_-]{5,256}$")
_ids = itertools.count(1)


@dataclass
class Call:
    method: str
    path: str
    query: Dict[str, str]
    body: Any
    status: int
    at: float
    authorized: bool
    result: Any = None

    @property
    def user_id(self) -> Optional[int]:
        value = self.query.get("user_id")
        return int(value) if value else None

    @property
    def text(self) -> str:
        return (self.body or {}).get("text") or ""

    @property
    def buttons(self) -> List[Dict[str, Any]]:
        return [b for a in (self.body or {}).get("attachments") or [] if a.get("type") == "inline_keyboard"
                for row in a["payload"]["buttons"] for b in row]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeMax(ThreadedServer):
    name = "fake-max"

    def __init__(self, token: str = TOKEN, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.token = token
        self.calls: List[Call] = []
        self.subscriptions: List[Dict[str, Any]] = []
        self._failures: Dict[str, List[int]] = {}
        self._updates: List[Dict[str, Any]] = []  # index + 1 is the marker after it
        self._condition = threading.Condition()
        self._new_update: Optional[asyncio.Event] = None

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{path:.*}", self._handle)

    async def on_start(self) -> None:
        self._new_update = asyncio.Event()

    # --- test controls ---

    def fail_next(self, path: str, status: int = 429, times: int = 1) -> None:
        with self._condition:
            self._failures.setdefault(path, []).extend([status] * times)

    def push_update(self, update: Dict[str, Any]) -> None:
        def _push() -> None:
            self._updates.append(update)
            self._new_update.set()
        self.loop.call_soon_threadsafe(_push)

    def deliver(self, update: Dict[str, Any], secret: Optional[str] = None, url: Optional[str] = None,
                timeout: float = 10) -> int:
        """POST an update to the subscribed URL (or `url`) like MAX; the HTTP status."""
        subscription = self.subscriptions[-1] if self.subscriptions else {}
        url = url or subscription.get("url")
        if not url:
            raise AssertionError("no subscription")
        secret = subscription.get("secret") if secret is None else secret
        headers = {"X-Max-Bot-Api-Secret": secret} if secret else {}
        return self.post_json(url, update, headers, timeout)

    def mark(self) -> int:
        with self._condition:
            return len(self.calls)

    def calls_of(self, method: str, path: str, user_id: Optional[int] = None, since: int = 0,
                 ok_only: bool = True) -> List[Call]:
        with self._condition:
            return [c for c in self.calls[since:] if c.method == method and c.path == path
                    and (user_id is None or c.user_id == user_id) and (not ok_only or c.status == 200)]

    def sent_to(self, user_id: int, since: int = 0) -> List[Call]:
        return self.calls_of("POST", "/messages", user_id, since)

    def wait_for(self, method: str, path: str, count: int = 1, user_id: Optional[int] = None, since: int = 0,
                 timeout: float = 30.0, settle: float = 0.0,
                 predicate: Optional[Callable[[Call], bool]] = None) -> List[Call]:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [c for c in self.calls[since:] if c.method == method and c.path == path and c.status == 200
                         and (user_id is None or c.user_id == user_id) and (predicate is None or predicate(c))]
                if len(found) >= count:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{method} {path} x{count} to {user_id} not seen in {timeout} s")
                self._condition.wait(remaining)
        if settle:
            time.sleep(settle)
            return self.calls_of(method, path, user_id, since)
        return found

    # --- protocol ---

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        path = "/" + request.match_info["path"]
        query = dict(request.query)
        body: Any = None
        if request.body_exists:
            try:
                body = await request.json()
            except ValueError:
                return self._record(request.method, path, query, None, arrived, False,
                                    ApiError(400, "proto.payload", "Invalid JSON"))
        authorized = request.headers.get("Authorization") == self.token
        try:
            if "access_token" in query:
                raise ApiError(401, "verify.token", "Passing the token in query parameters is not supported")
            if not authorized:
                raise ApiError(401, "verify.token", "Invalid access_token")
            with self._condition:
                plan = self._failures.get(path)
                failure = plan.pop(0) if plan else None
            if failure is not None:
                raise ApiError(failure, "too.many.requests" if failure == 429 else "internal.error",
                               "Too many requests" if failure == 429 else "Internal error")
            result = await self._route(request.method, path, query, body)
        except ApiError as error:
            return self._record(request.method, path, query, body, arrived, authorized, error)
        return self._record(request.method, path, query, body, arrived, authorized, None, result)

    def _record(self, method: str, path: str, query: Dict[str, str], body: Any, arrived: float,
                authorized: bool, error: Optional[ApiError], result: Any = None) -> web.Response:
        status = error.status if error else 200
        with self._condition:
            self.calls.append(Call(method, path, query, body, status, arrived, authorized, result))
            self._condition.notify_all()
        if error:
            headers = {"Retry-After": "1"} if error.status == 429 else None
            return web.json_response({"code": error.code, "message": error.message}, status=error.status,
                                     headers=headers)
        return web.json_response(result)

    async def _route(self, method: str, path: str, query: Dict[str, str], body: Any) -> Any:
        if (method, path) == ("GET", "/me"):
            return BOT
        if (method, path) == ("POST", "/messages"):
            return self._send(query, body)
        if (method, path) == ("POST", "/answers"):
            if not query.get("callback_id") or not isinstance(body, dict):
                raise ApiError(400, "proto.payload", "callback_id and a body are required")
            return {"success": True}
        match = re.fullmatch(r"/chats/(-?\d+)/actions", path)
        if method == "POST" and match:
            if not isinstance(body, dict) or body.get("action") not in ACTIONS:
                raise ApiError(400, "proto.payload", "Unknown action")
            return {"success": True}
        if path == "/subscriptions":
            return self._subscriptions(method, query, body)
        if (method, path) == ("GET", "/updates"):
            return await self._get_updates(query)
        raise ApiError(404, "not.found", f"Path {path} is not recognized")

    def _send(self, query: Dict[str, str], body: Any) -> Dict[str, Any]:
        target = query.get("user_id") or query.get("chat_id")
        if not target or not target.lstrip("-").isdigit():
            raise ApiError(400, "proto.payload", "user_id or chat_id is required")
        if not isinstance(body, dict):
            raise ApiError(400, "proto.payload", "NewMessageBody is required")
        text = body.get("text") or ""
        if len(text) > MAX_TEXT:
            raise ApiError(400, "proto.payload", f"text: size must be between 0 and {MAX_TEXT}")
        for attachment in body.get("attachments") or []:
            if attachment.get("type") != "inline_keyboard":
                continue
            rows = (attachment.get("payload") or {}).get("buttons")
            if not rows or len(rows) > 30 or any(not row or len(row) > 7 for row in rows):
                raise ApiError(400, "proto.payload", "Invalid keyboard")
            for button in (b for row in rows for b in row):
                if button.get("type") not in ("callback", "link") or not 0 < len(button.get("text") or "") <= 128:
                    raise ApiError(400, "proto.payload", "Invalid button")
                if button["type"] == "callback" and not 0 < len(button.get("payload") or "") <= 1024:
                    raise ApiError(400, "proto.payload", "Invalid button payload")
        mid = f"mid.{next(_ids):016x}"
        return {"message": {"sender": BOT, "recipient": {"user_id": int(target), "chat_type": "dialog"},
                            "timestamp": int(time.time() * 1000),
                            "body": {"mid": mid, "seq": next(_ids), "text": text,
                                     "attachments": body.get("attachments")}}}

    def _subscriptions(self, method: str, query: Dict[str, str], body: Any) -> Any:
        if method == "GET":
            return {"subscriptions": [{k: v for k, v in s.items() if k != "secret"} for s in self.subscriptions]}
        if method == "DELETE":
            self.subscriptions = [s for s in self.subscriptions if s["url"] != query.get("url")]
            return {"success": True}
        if method == "POST":
            if not isinstance(body, dict) or not str(body.get("url") or "").startswith(("http://", "https://")):
                raise ApiError(400, "proto.payload", "url is required")
            if body.get("secret") is not None and not _SECRET.match(str(body["secret"])):
                raise ApiError(400, "proto.payload", "secret: must match [A-Za-z0-9_-]{5,256}")
            self.subscriptions = [s for s in self.subscriptions if s["url"] != body["url"]]
            self.subscriptions.append({"url": body["url"], "time": int(time.time() * 1000),
                                       "update_types": body.get("update_types"), "secret": body.get("secret")})
            return {"success": True}
        raise ApiError(405, "method.not.allowed", "Method not allowed")

    async def _get_updates(self, query: Dict[str, str]) -> Dict[str, Any]:
        if self.subscriptions:
            raise ApiError(400, "proto.state", "Long polling is not available while a webhook subscription exists")
        marker = int(query["marker"]) if query.get("marker") else 0
        timeout = min(90, int(query.get("timeout") or 30))
        limit = min(1000, int(query.get("limit") or 100))
        types = set(filter(None, (query.get("types") or "").split(",")))
        deadline = time.monotonic() + timeout
        while True:
            pending = [u for u in self._updates[marker:] if not types or u.get("update_type") in types]
            if pending or time.monotonic() >= deadline:
                break
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            except asyncio.TimeoutError:
                pass
        taken = pending[:limit]
        next_marker = marker
        if taken:
            next_marker = max(i + 1 for i, u in enumerate(self._updates) if i >= marker and u is taken[-1])
        elif len(self._updates) > marker:
            next_marker = len(self._updates)
        return {"updates": taken, "marker": next_marker}


# --- updates as MAX sends them ---

_user_ids = itertools.count(70_000_001)


def new_user() -> int:
    return next(_user_ids)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _user(user_id: int) -> Dict[str, Any]:
    return {"user_id": user_id, "first_name": "Тест", "name": "Тест", "is_bot": False,
            "last_activity_time": _now_ms()}


def _message(user_id: int, text: Optional[str] = None, attachments: Optional[List[Dict[str, Any]]] = None,
             mid: Optional[str] = None) -> Dict[str, Any]:
    body: Dict[str, Any] = {"mid": mid or f"mid.{secrets.token_hex(8)}", "seq": next(_ids), "text": text}
    if attachments:
        body["attachments"] = attachments
    return {"sender": _user(user_id),
            "recipient": {"chat_id": user_id + 5_000_000_000, "chat_type": "dialog", "user_id": BOT["user_id"]},
            "timestamp": _now_ms(), "body": body}


def text_update(user_id: int, text: str, attachments: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    return {"update_type": "message_created", "timestamp": _now_ms(),
            "message": _message(user_id, text, attachments), "user_locale": "ru"}


def attachment_update(user_id: int, kind: str) -> Dict[str, Any]:
    payloads = {"image": {"photo_id": 1, "token": "t", "url": "https://i.example/1.jpg"},
                "video": {"token": "v", "url": "https://v.example/1"}, "audio": {"token": "a"},
                "file": {"token": "f", "url": "https://f.example/1"}, "sticker": {"code": "s1", "url": "x"},
                "contact": {"vcf_info": "BEGIN:VCARD"}, "location": None}
    attachment: Dict[str, Any] = {"type": kind}
    if kind == "location":
        attachment.update(latitude=55.75, longitude=37.61)
    else:
        attachment["payload"] = payloads[kind]
    return text_update(user_id, "", [attachment])


def edited_update(user_id: int, text: str) -> Dict[str, Any]:
    return {"update_type": "message_edited", "timestamp": _now_ms(), "message": _message(user_id, text)}


def callback_update(user_id: int, payload: str, message: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return {"update_type": "message_callback", "timestamp": _now_ms(),
            "callback": {"timestamp": _now_ms(), "callback_id": f"cb.{secrets.token_hex(10)}",
                         "payload": payload, "user": _user(user_id)},
            "message": message or _message(user_id, "…"), "user_locale": "ru"}


def bot_started_update(user_id: int, payload: Optional[str] = None) -> Dict[str, Any]:
    update = {"update_type": "bot_started", "timestamp": _now_ms(), "chat_id": user_id + 5_000_000_000,
              "user": _user(user_id), "user_locale": "ru"}
    if payload is not None:
        update["payload"] = payload
    return update
