"""An operator's browser session against the console, through the JSON API
(and the HTML forms where a test needs them)."""
from __future__ import annotations

import re
from typing import Any, Dict, Optional

import requests


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
