"""A local HTTP server that speaks VK's API protocol, for the VK channel tests.

* ``POST``/``GET /method/<name>`` with form or query parameters (including
  ``access_token`` and ``v``) answers ``{"response": ...}`` or, exactly like
  VK, HTTP 200 with ``{"error": {"error_code", "error_msg",
  "request_params": [{"key", "value"}, ...]}}``.
* Methods: ``messages.send`` (validates ``random_id``, ``peer_id``, the
  4,096-character limit and the bot keyboard format; drops a repeated
  ``random_id`` the way VK does), ``groups.getLongPollServer``.
* The Bots Long Poll server: ``GET /lp/<group_id>?act=a_check&key=&ts=&wait=``
  holds the request until an event arrives or `wait` passes; answers
  ``{"ts", "updates"}`` or ``{"failed": 1|2|3}``.
* ``fail_next(method, code, times)`` makes the next calls fail with a VK
  error; ``fail_longpoll(1|2|3)`` makes the next a_check fail.
* Every call is recorded (``calls``, ``sent``) with its arrival time.

Also builds events as VK sends them (``message_new``) and posts them to a
Callback API endpoint (``post_callback``).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Deque, Dict, List, Optional
from urllib.parse import parse_qsl, urlsplit

import requests

API_VERSION = "5.199"

ERROR_MESSAGES = {
    3: "Unknown method passed",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    8: "Invalid request: v (version) is required",
    9: "Flood control",
    10: "Internal server error",
    15: "Access denied: no access to this group",
    100: "One of the parameters specified was missing or invalid",
    901: "Can't send messages for users without permission",
    911: "Keyboard format is invalid",
    914: "Message is too long",
}

CLIENT_INFO = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback",
                       "intent_subscribe", "intent_unsubscribe"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}


class VKError(Exception):
    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = ERROR_MESSAGES.get(code, "Unknown error occurred") + (f": {detail}" if detail else "")


@dataclass
class Call:
    method: str
    params: Dict[str, str]  # without access_token
    at: float  # time.perf_counter() on arrival
    token_ok: bool
    error: Optional[int] = None
    response: Any = None


@dataclass
class Sent:
    peer_id: int
    message: str
    keyboard: Optional[Dict[str, Any]]
    random_id: int
    at: float
    params: Dict[str, str] = field(default_factory=dict)


class FakeVK:
    def __init__(self, token: str, group_id: int, host: str = "127.0.0.1", port: int = 0,
                 max_wait: float = 30.0) -> None:
        self.token = token
        self.group_id = group_id
        self.max_wait = max_wait
        self.calls: List[Call] = []
        self.sent: List[Sent] = []
        self._lock = threading.Condition()
        self._failures: Dict[str, Deque[int]] = {}
        self._lp_failures: Deque[int] = deque()
        self._events: List[Dict[str, Any]] = []
        self._ts_base = 100  # ts of self._events[0]
        self._key_serial = itertools.count(1)
        self.lp_key = self._new_key()
        self._message_ids = itertools.count(1)
        self._random_ids: Dict[tuple, int] = {}
        self._event_serial = itertools.count(1)
        self._conversation_ids: Dict[int, itertools.count] = {}
        self._stopping = False
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle --------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """The method base URL for VK_API_URL."""
        return f"{self.url}/method/"

    def start(self) -> "FakeVK":
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-vk", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FakeVK":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- controls ---------------------------------------------------------------

    def fail_next(self, method: str, code: int, times: int = 1) -> None:
        """The next `times` calls of `method` answer VK error `code`."""
        with self._lock:
            self._failures.setdefault(method, deque()).extend([code] * times)

    def fail_longpoll(self, failed: int) -> None:
        """The next (or the waiting) a_check answers {"failed": failed}."""
        with self._lock:
            self._lp_failures.append(failed)
            self._lock.notify_all()

    def push_event(self, event: Dict[str, Any]) -> None:
        """Queue an event for the Bots Long Poll server."""
        with self._lock:
            self._events.append(event)
            self._lock.notify_all()

    def calls_of(self, method: str) -> List[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent_to(self, peer_id: int) -> List[Sent]:
        with self._lock:
            return [s for s in self.sent if s.peer_id == peer_id]

    def wait_for_sent(self, peer_id: int, count: int = 1, timeout: float = 60.0,
                      settle: float = 0.0) -> List[Sent]:
        """Messages delivered to `peer_id` once there are `count` of them; with
        `settle`, also waits until no new one came for that many seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [s for s in self.sent if s.peer_id == peer_id]
                if len(got) >= count:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(got)} of {count} messages to peer {peer_id} in {timeout} s")
                self._lock.wait(left)
        while settle:
            seen = len(self.sent_to(peer_id))
            time.sleep(settle)
            if len(self.sent_to(peer_id)) == seen:
                break
        return self.sent_to(peer_id)

    def wait_for_calls(self, method: str, count: int, timeout: float = 30.0) -> List[Call]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fewer than {count} calls of {method} in {timeout} s")
                self._lock.wait(left)
            return [c for c in self.calls if c.method == method]

    # --- events as VK builds them ------------------------------------------

    def message_new(self, peer_id: int, text: str = "", payload: Optional[Any] = None,
                    attachments: Optional[List[Dict[str, Any]]] = None,
                    geo: Optional[Dict[str, Any]] = None, from_id: Optional[int] = None,
                    client_info: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """A ``message_new`` event (API 5.199 shape), without `secret`."""
        serial = next(self._event_serial)
        conv = self._conversation_ids.setdefault(peer_id, itertools.count(1))
        message: Dict[str, Any] = {
            "date": int(time.time()),
            "from_id": from_id or peer_id,
            "id": serial,
            "version": 10_000_000 + serial,
            "out": 0,
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "attachments": attachments or [],
            "conversation_message_id": next(conv),
            "peer_id": peer_id,
            "random_id": 0,
            "text": text,
        }
        if payload is not None:
            message["payload"] = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        if geo is not None:
            message["geo"] = geo
        return {
            "group_id": self.group_id,
            "type": "message_new",
            "event_id": hashlib.sha1(f"{self.group_id}:{serial}:{time.time()}".encode()).hexdigest(),
            "v": API_VERSION,
            "object": {"message": message, "client_info": dict(client_info or CLIENT_INFO)},
        }

    @staticmethod
    def attachment(kind: str, owner_id: int = 1) -> Dict[str, Any]:
        """An attachment of a message as VK describes it."""
        bodies = {
            "photo": {"album_id": -3, "date": int(time.time()), "id": 457239017, "owner_id": owner_id,
                      "access_key": "c0ffee", "sizes": [{"height": 75, "width": 56, "type": "s",
                                                         "url": "https://sun9-1.userapi.com/s.jpg"}],
                      "text": "", "has_tags": False},
            "sticker": {"product_id": 279, "sticker_id": 9012, "images": [
                {"url": "https://vk.com/sticker/1-9012-128", "width": 128, "height": 128}],
                "inner_type": "base_sticker_new"},
            "audio_message": {"duration": 3, "id": 654321, "owner_id": owner_id, "access_key": "beef",
                              "link_mp3": "https://psv4.userapi.com/a.mp3",
                              "link_ogg": "https://psv4.userapi.com/a.ogg", "waveform": [0, 5, 12, 3]},
            "doc": {"id": 111, "owner_id": owner_id, "title": "заявление.pdf", "size": 12345, "ext": "pdf",
                    "date": int(time.time()), "type": 1, "url": "https://vk.com/doc1_111"},
        }
        return {"type": kind, kind: bodies[kind]}

    @staticmethod
    def geo(latitude: float = 55.7558, longitude: float = 37.6173) -> Dict[str, Any]:
        return {"type": "point", "coordinates": {"latitude": latitude, "longitude": longitude}}

    @staticmethod
    def post_callback(webhook_url: str, event: Dict[str, Any], secret: Optional[str] = None,
                      retry: int = 0, timeout: float = 10.0) -> requests.Response:
        """POST an event as VK's Callback API does."""
        body = dict(event)
        if secret is not None:
            body["secret"] = secret
        headers = {"Content-Type": "application/json", "User-Agent": "VKCallbackAPI"}
        if retry:
            headers["X-Retry-Counter"] = str(retry)
        return requests.post(webhook_url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                             headers=headers, timeout=timeout)

    # --- the API ----------------------------------------------------------------

    def _new_key(self) -> str:
        return hashlib.sha1(f"lp-key-{next(self._key_serial)}".encode()).hexdigest()

    def _api(self, method: str, params: Dict[str, str]) -> Dict[str, Any]:
        now = time.perf_counter()
        token_ok = params.get("access_token") == self.token
        visible = {k: v for k, v in params.items() if k != "access_token"}
        call = Call(method, visible, now, token_ok)
        try:
            with self._lock:
                self.calls.append(call)
                queued = self._failures.get(method)
                if queued:
                    raise VKError(queued.popleft())
            if not token_ok:
                raise VKError(5)
            if not params.get("v"):
                raise VKError(8)
            handler = {"messages.send": self._messages_send,
                       "groups.getLongPollServer": self._get_long_poll_server}.get(method)
            if handler is None:
                raise VKError(3)
            call.response = handler(visible, now)
            return {"response": call.response}
        except VKError as error:
            call.error = error.code
            request_params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
            request_params += [{"key": k, "value": v} for k, v in visible.items()]
            return {"error": {"error_code": error.code, "error_msg": error.message,
                              "request_params": request_params}}
        finally:
            with self._lock:
                self._lock.notify_all()

    def _messages_send(self, params: Dict[str, str], now: float) -> int:
        if "random_id" not in params:
            raise VKError(100, "random_id is a required parameter")
        try:
            random_id = int(params["random_id"])
            peer_id = int(params.get("peer_id") or params.get("user_id") or "")
        except ValueError:
            raise VKError(100, "peer_id is undefined") from None
        message = params.get("message", "")
        if not message and not params.get("attachment"):
            raise VKError(100, "message is empty or invalid")
        if len(message) > 4096:
            raise VKError(914)
        keyboard = self._check_keyboard(params["keyboard"]) if params.get("keyboard") else None
        with self._lock:
            if random_id and (peer_id, random_id) in self._random_ids:
                return self._random_ids[(peer_id, random_id)]  # VK ignores the repeat
            message_id = next(self._message_ids)
            if random_id:
                self._random_ids[(peer_id, random_id)] = message_id
            self.sent.append(Sent(peer_id, message, keyboard, random_id, now, dict(params)))
        return message_id

    @staticmethod
    def _check_keyboard(raw: str) -> Dict[str, Any]:
        try:
            keyboard = json.loads(raw)
        except ValueError:
            raise VKError(911, "keyboard is not a valid JSON") from None
        rows = keyboard.get("buttons") if isinstance(keyboard, dict) else None
        if not isinstance(rows, list):
            raise VKError(911, "buttons must be an array")
        inline = bool(keyboard.get("inline"))
        buttons = [b for row in rows for b in row]
        if len(rows) > (6 if inline else 10) or len(buttons) > (10 if inline else 40):
            raise VKError(911, "too many buttons")
        for row in rows:
            if not isinstance(row, list) or len(row) > 5:
                raise VKError(911, "too many buttons in a row")
            for button in row:
                action = button.get("action") or {}
                if action.get("type") != "text" or not action.get("label"):
                    raise VKError(911, "button action is invalid")
                if len(action["label"]) > 40:
                    raise VKError(911, "label is too long")
                payload = action.get("payload")
                if payload is not None:
                    if len(payload) > 255:
                        raise VKError(911, "payload is too long")
                    json.loads(payload)
        return keyboard

    def _get_long_poll_server(self, params: Dict[str, str], now: float) -> Dict[str, Any]:
        if not params.get("group_id"):
            raise VKError(100, "group_id is undefined")
        if params["group_id"] != str(self.group_id):
            raise VKError(15)
        with self._lock:
            return {"key": self.lp_key, "server": f"{self.url}/lp/{self.group_id}",
                    "ts": str(self._ts_base + len(self._events))}

    def _long_poll(self, path_group: str, params: Dict[str, str]) -> Dict[str, Any]:
        with self._lock:
            self.calls.append(Call("a_check", dict(params), time.perf_counter(), True))
            self._lock.notify_all()
            if params.get("act") != "a_check" or path_group != str(self.group_id):
                return {"failed": 2}
            try:
                ts = int(params.get("ts", ""))
                wait = min(float(params.get("wait", 25)), self.max_wait)
            except ValueError:
                return {"failed": 1, "ts": str(self._ts_base + len(self._events))}
            deadline = time.monotonic() + wait
            while True:
                if self._lp_failures:
                    return self._lp_failure(self._lp_failures.popleft())
                if params.get("key") != self.lp_key:
                    return {"failed": 2}
                current = self._ts_base + len(self._events)
                if ts < self._ts_base:
                    return {"failed": 1, "ts": str(current)}
                if ts < current or self._stopping:
                    return {"ts": str(current), "updates": self._events[ts - self._ts_base:]}
                left = deadline - time.monotonic()
                if left <= 0:
                    return {"ts": str(current), "updates": []}
                self._lock.wait(left)

    def _lp_failure(self, failed: int) -> Dict[str, Any]:
        current = self._ts_base + len(self._events)
        if failed == 1:
            return {"failed": 1, "ts": str(current)}
        self.lp_key = self._new_key()  # 2: the key expired; 3: key and history lost
        return {"failed": failed}

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _params(self) -> Dict[str, str]:
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query, keep_blank_values=True))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    body = self.rfile.read(length).decode("utf-8")
                    params.update(parse_qsl(body, keep_blank_values=True))
                return params

            def _reply(self, status: int, data: Any) -> None:
                body = json.dumps(data, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (a server stopped mid long poll)

            def _route(self) -> None:
                path = urlsplit(self.path).path
                params = self._params()
                if path.startswith("/method/"):
                    self._reply(200, fake._api(path[len("/method/"):], params))
                elif path.startswith("/lp/"):
                    self._reply(200, fake._long_poll(path[len("/lp/"):], params))
                else:
                    self._reply(404, {"error": "not found"})

            do_GET = _route
            do_POST = _route

        return Handler
