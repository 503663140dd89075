"""Test helpers of the handoff tests: their settings and Rasa events. The
app thread, the fake Rasa, the console client and wait_until live in the
fakes package (shared with the benchmarks) and are re-exported here."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict

from fakes.app_thread import AppThread
from fakes.console_client import ConsoleClient
from fakes.rasa import FakeRasa
from fakes.waiting import wait_until

__all__ = ["SECRET", "AppThread", "ConsoleClient", "FakeRasa", "handoff_settings", "rasa_user_event", "wait_until"]

SECRET = "test-handoff-secret"


def handoff_settings(**overrides):
    """The handoff settings of the tests: operators round the clock, a quick
    worker, plain HTTP on loopback as in `make run` (no Secure cookies)."""
    from handoff.config import Settings

    base = Settings.load({"HANDOFF_HOURS": "24/7", "HANDOFF_SECRET": SECRET, "HANDOFF_WORKER_INTERVAL": "0.1",
                          "HANDOFF_SECURE_COOKIES": "0"})
    return dataclasses.replace(base, **overrides)


def rasa_user_event(intent: str, text: str = "", entities=None, confidence: float = 0.95) -> Dict[str, Any]:
    """A serialised Rasa user event, as the action server receives it."""
    return {"event": "user", "text": text,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": entities or [],
                           "text": text}}
