"""A local Telegram Bot API server for tests and benchmarks.

Speaks the real protocol: GET or POST /bot<TOKEN>/<method> with a query
string, a JSON body or a form (urlencoded or multipart, JSON-serialised
fields like reply_markup), and answers {"ok": true, "result": …} in the real
shapes, or {"ok": false, "error_code": …, "description": …} with the real
status codes and descriptions. It checks what Telegram checks (token, text
length in UTF-16 units, callback_data of 1-64 bytes, secret_token charset,
getUpdates while a webhook is set) and records every call.

Methods: getMe, sendMessage, sendChatAction, answerCallbackQuery,
editMessageReplyMarkup, getUpdates (long polling with offset/limit/timeout),
setWebhook, deleteWebhook, getWebhookInfo. `fail_next(method, retry_after)`
makes the next call(s) fail with 429 and parameters.retry_after;
`blocked_chats` answer sendMessage with 403 "bot was blocked by the user".

Like Telegram, it delivers updates itself: `deliver(update)` POSTs to the
webhook registered with setWebhook, with X-Telegram-Bot-Api-Secret-Token;
`push_update(update)` queues an update for getUpdates.

Runs its own event loop in a thread, so synchronous tests can use it.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

from fakes.app_thread import ThreadedServer

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Госуслуги — горячая линия",
            "username": "gosuslugi_hotline_test_bot"}
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_JSON_FIELDS = {"reply_markup", "allowed_updates", "entities"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass
class Call:
    method: str
    params: Dict[str, Any]
    status: int
    at: float  # time.perf_counter() when the request arrived
    result: Any = None

    @property
    def chat_id(self) -> Optional[int]:
        value = self.params.get("chat_id")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegramAPI(ThreadedServer):
    name = "fake-telegram"

    def __init__(self, token: str = TOKEN, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.token = token
        self.calls: List[Call] = []
        self.messages: Dict[int, Dict[str, Any]] = {}
        self.webhook: Dict[str, Any] = {"url": ""}
        self.webhook_deliveries: List[Dict[str, Any]] = []
        self.blocked_chats: set = set()  # chats whose user blocked the bot
        self._failures: Dict[str, List[int]] = {}
        self._pending: List[Dict[str, Any]] = []
        self._message_ids = itertools.count(1000)
        self._condition = threading.Condition()
        self._new_update: Optional[asyncio.Event] = None
        self._poll_generation = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)

    async def on_start(self) -> None:
        self._new_update = asyncio.Event()

    # --- test controls ---

    def fail_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` get 429 Too Many Requests."""
        with self._condition:
            self._failures.setdefault(method, []).extend([retry_after] * times)

    def push_update(self, update: Dict[str, Any]) -> None:
        """Queue an update for getUpdates (thread-safe)."""
        def _push() -> None:
            self._pending.append(update)
            self._new_update.set()
        self.loop.call_soon_threadsafe(_push)

    def deliver(self, update: Dict[str, Any], secret: Optional[str] = None, timeout: float = 10,
                url: Optional[str] = None) -> int:
        """POST an update to the registered webhook (or `url`) like Telegram; returns the HTTP status."""
        url = url or self.webhook.get("url")
        if not url:
            raise AssertionError("no webhook is set")
        token = self.webhook.get("secret_token") if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        status = self.post_json(url, update, headers, timeout)
        self.webhook_deliveries.append({"update_id": update.get("update_id"), "status": status})
        return status

    def mark(self) -> int:
        with self._condition:
            return len(self.calls)

    def calls_of(self, method: str, chat_id: Optional[int] = None, since: int = 0,
                 ok_only: bool = True) -> List[Call]:
        with self._condition:
            return [c for c in self.calls[since:] if c.method == method
                    and (chat_id is None or c.chat_id == chat_id) and (not ok_only or c.status == 200)]

    def wait_for(self, method: str, count: int = 1, chat_id: Optional[int] = None, since: int = 0,
                 timeout: float = 30.0, predicate: Optional[Callable[[Call], bool]] = None) -> List[Call]:
        """Wait until `count` successful calls of `method` were recorded; return them."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [c for c in self.calls[since:] if c.method == method and c.status == 200
                         and (chat_id is None or c.chat_id == chat_id) and (predicate is None or predicate(c))]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{method} x{count} to {chat_id} not seen in {timeout} s; "
                                         f"seen {[(c.method, c.status, c.chat_id) for c in self.calls[since:]]}")
                self._condition.wait(remaining)

    def texts_to(self, chat_id: int, since: int = 0) -> List[str]:
        return [c.params["text"] for c in self.calls_of("sendMessage", chat_id, since)]

    # --- protocol ---

    async def _params(self, request: web.Request) -> Dict[str, Any]:
        params: Dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in _JSON_FIELDS:
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    raise ApiError(400, f"Bad Request: can't parse {key} JSON object")
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        arrived = time.perf_counter()
        try:
            params = await self._params(request)
        except ApiError as error:
            return self._record(method, {}, arrived, error)
        if request.match_info["token"] != self.token:
            return self._record(method, params, arrived, ApiError(401, "Unauthorized"))
        with self._condition:
            plan = self._failures.get(method)
            retry_after = plan.pop(0) if plan else None
        if retry_after is not None:
            return self._record(method, params, arrived, ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}))
        handler = getattr(self, "_m_" + method.lower(), None)
        if handler is None:
            return self._record(method, params, arrived, ApiError(404, "Not Found"))
        try:
            result = await handler(params)
        except ApiError as error:
            return self._record(method, params, arrived, error)
        return self._record(method, params, arrived, None, result)

    def _record(self, method: str, params: Dict[str, Any], arrived: float, error: Optional[ApiError],
                result: Any = None) -> web.Response:
        status = error.code if error else 200
        with self._condition:
            self.calls.append(Call(method, params, status, arrived, result))
            self._condition.notify_all()
        if error:
            body: Dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            return web.json_response(body, status=error.code)
        body = {"ok": True, "result": result}
        if method == "setWebhook":
            body["description"] = "Webhook was set"
        elif method == "deleteWebhook":
            body["description"] = "Webhook was deleted"
        return web.json_response(body)

    @staticmethod
    def _chat_id(params: Dict[str, Any]) -> int:
        value = params.get("chat_id")
        if value in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found")

    @staticmethod
    def _check_markup(markup: Any) -> Optional[Dict[str, Any]]:
        if markup in (None, "", {}):
            return None
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list):
            return markup  # reply keyboards etc.: accepted as is
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if data is None and not button.get("url"):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button: "
                                        "Text buttons are unallowed in the inline keyboard")
        return markup

    async def _m_getme(self, params: Dict[str, Any]) -> Dict[str, Any]:
        return {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _m_sendmessage(self, params: Dict[str, Any]) -> Dict[str, Any]:
        chat_id = self._chat_id(params)
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = self._check_markup(params.get("reply_markup"))
        message = {"message_id": next(self._message_ids), "from": dict(BOT_USER),
                   "chat": {"id": chat_id, "first_name": "Гражданин", "type": "private"},
                   "date": int(time.time()), "text": text}
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[message["message_id"]] = message
        return message

    async def _m_sendchataction(self, params: Dict[str, Any]) -> bool:
        self._chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _m_answercallbackquery(self, params: Dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query_id_invalid")
        return True

    async def _m_editmessagereplymarkup(self, params: Dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_id(params)
        message = self.messages.get(int(params.get("message_id") or 0))
        if message is None or message["chat"]["id"] != chat_id:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = self._check_markup(params.get("reply_markup"))
        if (markup or None) == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup "
                                "of the message")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return dict(message)

    async def _m_getupdates(self, params: Dict[str, Any]) -> List[Dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = time.monotonic() + timeout
        while True:
            if offset:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            if self._pending:
                return self._pending[:limit]
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only "
                                    "one bot instance is running")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass

    async def _m_setwebhook(self, params: Dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")}
        return True

    async def _m_deletewebhook(self, params: Dict[str, Any]) -> bool:
        self.webhook = {"url": ""}
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self._pending.clear()
        return True

    async def _m_getwebhookinfo(self, params: Dict[str, Any]) -> Dict[str, Any]:
        info: Dict[str, Any] = {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                                "pending_update_count": len(self._pending)}
        if self.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info


# --- updates in the shapes Telegram sends ---

# A fresh range per run: the channel remembers update ids in its database for
# two days (connectors/inbox.py), as it must for Telegram's real re-sends.
_update_ids = itertools.count(100_000_000 + secrets.randbelow(1_500_000_000))
_message_ids = itertools.count(1)


def next_update_id() -> int:
    return next(_update_ids)


def user(user_id: int) -> Dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Иван", "last_name": "Петров",
            "username": f"citizen{user_id}", "language_code": "ru"}


def _message(chat_id: int, **content: Any) -> Dict[str, Any]:
    chat = {"id": chat_id, "first_name": "Иван", "last_name": "Петров", "type": "private"}
    return {"message_id": next(_message_ids), "from": user(chat_id), "chat": chat,
            "date": int(time.time()), **content}


def message_update(chat_id: int, update_id: Optional[int] = None, **content: Any) -> Dict[str, Any]:
    return {"update_id": update_id or next_update_id(), "message": _message(chat_id, **content)}


def text_update(chat_id: int, text: str, update_id: Optional[int] = None) -> Dict[str, Any]:
    content: Dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return message_update(chat_id, update_id, **content)


def _file(kind: str) -> Dict[str, Any]:
    return {"file_id": f"AgAC{kind}FileIdForTests", "file_unique_id": f"AQAD{kind}", "file_size": 12345}


def photo_update(chat_id: int, caption: Optional[str] = None) -> Dict[str, Any]:
    sizes = [{**_file("photo"), "width": w, "height": h} for w, h in ((90, 67), (320, 240), (1280, 960))]
    return message_update(chat_id, photo=sizes, **({"caption": caption} if caption else {}))


def sticker_update(chat_id: int) -> Dict[str, Any]:
    return message_update(chat_id, sticker={**_file("sticker"), "width": 512, "height": 512, "emoji": "👍",
                                            "set_name": "HotCherry", "is_animated": False, "is_video": False,
                                            "type": "regular"})


def document_update(chat_id: int) -> Dict[str, Any]:
    return message_update(chat_id, document={**_file("document"), "file_name": "заявление.pdf",
                                             "mime_type": "application/pdf"})


def voice_update(chat_id: int) -> Dict[str, Any]:
    return message_update(chat_id, voice={**_file("voice"), "duration": 4, "mime_type": "audio/ogg"})


def location_update(chat_id: int) -> Dict[str, Any]:
    return message_update(chat_id, location={"latitude": 55.755826, "longitude": 37.6173})


def contact_update(chat_id: int) -> Dict[str, Any]:
    return message_update(chat_id, contact={"phone_number": "+79990000000", "first_name": "Иван",
                                            "user_id": chat_id})


def edited_update(chat_id: int, text: str) -> Dict[str, Any]:
    message = _message(chat_id, text=text)
    message["edit_date"] = message["date"] + 5
    return {"update_id": next_update_id(), "edited_message": message}


def callback_update(chat_id: int, message: Dict[str, Any], data: str) -> Dict[str, Any]:
    """A press on an inline button of `message` (a message the bot sent, as the fake recorded it)."""
    return {"update_id": next_update_id(),
            "callback_query": {"id": str(4382000000000000000 + next(_message_ids)), "from": user(chat_id),
                               "message": message, "chat_instance": "-5839320211467786154", "data": data}}


def group_text_update(chat_id: int, text: str) -> Dict[str, Any]:
    update = text_update(chat_id, text)
    update["message"]["chat"] = {"id": chat_id, "title": "Жильцы дома 5", "type": "supergroup"}
    return update
