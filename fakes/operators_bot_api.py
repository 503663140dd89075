"""A local Telegram Bot API server for the operators' workspace tests.

Speaks the protocol python-telegram-bot uses: POST /bot<TOKEN>/<method> with
form or JSON parameters (nested objects JSON-encoded), answers
{"ok": true, "result": ...} or {"ok": false, "error_code", "description"}.
Methods: getMe, deleteWebhook, getUpdates (long polling with offset and
timeout), sendMessage (with message_thread_id and reply_markup),
createForumTopic, closeForumTopic, answerCallbackQuery,
editMessageReplyMarkup. A supergroup with forum topics, like the real one.

Tests push updates as Telegram would (`push_text`, `press_button`) and look
at what the bot sent (`calls`, `sent_in_topic`).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from typing import Any, Dict, List, Optional

from aiohttp import web

TOKEN = "654321:OperatorsWorkspaceFakeToken_abcdefghij"
BOT = {"id": 654321, "is_bot": True, "first_name": "Операторы горячей линии", "username": "hotline_ops_test_bot"}
CHAT_ID = -1001234567890
CHAT = {"id": CHAT_ID, "type": "supergroup", "title": "Операторы горячей линии", "is_forum": True}


class FakeBotApi:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: List[Dict[str, Any]] = []
        self.topics: Dict[int, Dict[str, Any]] = {}
        self._updates: List[Dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._topic_ids = itertools.count(7000)
        self._lock = threading.Lock()
        self._new_update: Optional[asyncio.Event] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    # --- the server -----------------------------------------------------------

    def app(self) -> web.Application:
        self._loop = asyncio.get_event_loop()
        self._new_update = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def _params(self, request: web.Request) -> Dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body or {})
        params: Dict[str, Any] = dict(request.query)
        if request.can_read_body:
            params.update(dict(await request.post()))
        for key in ("reply_markup", "allowed_updates", "entities"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass
        return params

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        if method != "getUpdates":
            with self._lock:
                self.calls.append({"method": method, "params": params, "at": time.perf_counter()})
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        return await handler(params)

    async def _m_getMe(self, params):
        return self._ok(BOT)

    async def _m_deleteWebhook(self, params):
        return self._ok(True)

    async def _m_getUpdates(self, params):
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 2.0)
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return self._ok(ready)
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                pass

    def _message(self, text: str, thread: Optional[int], sender: Dict[str, Any],
                 reply_markup: Any = None) -> Dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": CHAT, "from": sender,
                   "text": text}
        if thread:
            message.update(message_thread_id=thread, is_topic_message=True)
        if reply_markup:
            message["reply_markup"] = reply_markup
        return message

    async def _m_sendMessage(self, params):
        if int(params.get("chat_id")) != CHAT_ID:
            return self._error(400, "Bad Request: chat not found")
        thread = int(params["message_thread_id"]) if params.get("message_thread_id") else None
        if thread and thread not in self.topics:
            return self._error(400, "Bad Request: message thread not found")
        text = str(params.get("text") or "")
        if not text:
            return self._error(400, "Bad Request: message text is empty")
        return self._ok(self._message(text, thread, BOT, params.get("reply_markup")))

    async def _m_createForumTopic(self, params):
        if int(params.get("chat_id")) != CHAT_ID:
            return self._error(400, "Bad Request: chat not found")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            return self._error(400, "Bad Request: TOPIC_TITLE_EMPTY")
        topic = {"message_thread_id": next(self._topic_ids), "name": name, "icon_color": 7322096}
        self.topics[topic["message_thread_id"]] = {**topic, "closed": False}
        return self._ok(topic)

    async def _m_closeForumTopic(self, params):
        thread = int(params.get("message_thread_id") or 0)
        if thread not in self.topics:
            return self._error(400, "Bad Request: TOPIC_ID_INVALID")
        self.topics[thread]["closed"] = True
        return self._ok(True)

    async def _m_answerCallbackQuery(self, params):
        return self._ok(True)

    async def _m_editMessageReplyMarkup(self, params):
        return self._ok(self._message("(edited)", None, BOT))

    # --- what tests do (thread-safe) ------------------------------------------------

    def _push(self, update: Dict[str, Any]) -> None:
        with self._lock:
            self._updates.append(update)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)

    def push_text(self, user: Dict[str, Any], text: str, thread: Optional[int]) -> None:
        message = self._message(text, thread, user)
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._push({"update_id": next(self._update_ids), "message": message})

    def press_button(self, user: Dict[str, Any], data: str, message: Dict[str, Any]) -> None:
        self._push({"update_id": next(self._update_ids), "callback_query": {
            "id": str(next(self._update_ids)), "from": user, "chat_instance": "1", "data": data,
            "message": message}})

    def sent(self, method: str = "sendMessage") -> List[Dict[str, Any]]:
        with self._lock:
            return [c for c in self.calls if c["method"] == method]

    def sent_in_topic(self, thread: int) -> List[str]:
        return [str(c["params"].get("text")) for c in self.sent()
                if str(c["params"].get("message_thread_id") or "") == str(thread)]

    def find_card(self, thread: int) -> Optional[Dict[str, Any]]:
        """The ticket card (with its «Взять» button) as Telegram would quote it in a
        callback; None while it is not sent yet (it follows the topic's creation)."""
        for call in self.sent():
            params = call["params"]
            if str(params.get("message_thread_id") or "") == str(thread) and params.get("reply_markup"):
                return {"message_id": 1, "date": int(time.time()), "chat": CHAT, "from": BOT,
                        "text": params["text"], "message_thread_id": thread, "is_topic_message": True,
                        "reply_markup": params["reply_markup"]}
        return None
