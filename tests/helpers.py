"""Helpers shared by test modules (import as `from helpers import …`).

They live apart from tests/conftest.py because several test folders have a
conftest.py of their own, and only one module can be imported as `conftest`.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_yaml(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def user_event(intent: str, text: str = "", entities: Optional[List[Dict[str, Any]]] = None,
               confidence: float = 0.95) -> Dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence},
                       "entities": entities or [], "text": text},
    }


def run_action(action, dispatcher, tracker, domain):
    return asyncio.new_event_loop().run_until_complete(action.run(dispatcher, tracker, domain))
