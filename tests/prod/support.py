"""Helpers of the production-profile tests."""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Dict, List, Optional

import requests

from hotline.ops.supervisor import ProdProfile


class Citizen:
    """Sends messages through nginx like a channel would: a 502/504 (the
    instance died with the request in flight) is sent again, as Telegram
    and VK redeliver an unacknowledged update."""

    def __init__(self, profile: ProdProfile) -> None:
        self.profile = profile
        self._local = threading.local()
        self.retries = 0

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def send(self, sender: str, message: Any, attempts: int = 3) -> List[str]:
        return [m.get("text", "") for m in self.send_raw(sender, message, attempts)]

    def send_raw(self, sender: str, message: Any, attempts: int = 3) -> List[Dict[str, Any]]:
        url = f"{self.profile.public_url}/webhooks/rest/webhook"
        for attempt in range(attempts):
            try:
                reply = self.session.post(url, json={"sender": sender, "message": message}, timeout=60)
            except requests.ConnectionError:
                reply = None
            if reply is not None and reply.status_code not in (502, 503, 504):
                reply.raise_for_status()
                return reply.json()
            self.retries += 1
            time.sleep(0.5)
        raise AssertionError(f"no answer for {sender} after {attempts} attempts")


def user_texts(profile: ProdProfile, sender: str) -> List[str]:
    """The citizen's messages of a REST sender's conversation (rest_<sender>) as stored in PostgreSQL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(profile.tracker_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                                     "ORDER BY id"), {"s": f"rest_{sender}"}).scalars().all()
    finally:
        engine.dispose()
    return [json.loads(r).get("text") for r in rows]


def wait_until(predicate, timeout: float = 30, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def health(url: str) -> Optional[Dict[str, Any]]:
    try:
        return requests.get(f"{url}/ops/health", timeout=10).json()
    except (requests.RequestException, ValueError):
        return None


def bot_texts(profile: ProdProfile, sender: str) -> List[str]:
    """The assistant's messages of a REST sender's conversation (rest_<sender>) as stored in PostgreSQL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(profile.tracker_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'bot' "
                                     "ORDER BY id"), {"s": f"rest_{sender}"}).scalars().all()
    finally:
        engine.dispose()
    return [json.loads(r).get("text") or "" for r in rows]
