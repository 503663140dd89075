"""A fresh deployment: the workbench started before Rasa, so the tracker
database is a missing file or has no ``events`` table yet. Every page
answers with a polite empty state instead of an error, the workbench does
not create Rasa's file, and the conversations show up once Rasa has
written them, without restarting the workbench."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from fakes.tracker_seed import conversations, seed_tracker
from workbench.review import conversation_key

EMPTY_STATE = "Разговоров пока нет:"
ERRORS = ("недоступно", "Traceback", "Internal Server Error")


@pytest.fixture(params=["missing file", "empty database"])
def fresh_tracker(request, workbench_config) -> Path:
    path = Path(make_url(workbench_config.tracker_url).database)
    assert not path.exists()
    if request.param == "empty database":
        sqlite3.connect(path).close()  # a valid SQLite file without Rasa's tables
        assert path.exists()
    return path


def _polite(page, status: int = 200) -> str:
    assert page.status_code == status, page.text[:500]
    for error in ERRORS:
        assert error not in page.text
    return page.text


def test_every_page_is_usable_before_rasa_has_started(fresh_tracker, signed_in):
    existed = fresh_tracker.exists()
    client = signed_in("olga")
    assert EMPTY_STATE in _polite(client.get("/inbox"))
    assert EMPTY_STATE in _polite(client.get("/inbox", params={"since": "", "channel": "vk"}))
    assert EMPTY_STATE in _polite(client.get("/conversations"))
    assert EMPTY_STATE in _polite(client.get("/conversations", params={"fallback": "yes", "page": "3"}))
    assert "Такого разговора нет" in _polite(client.get("/conversations/" + "0" * 24), 404)
    for path in ("/", "/training", "/responses", "/changes"):
        _polite(client.get(path))
    # Saving a story from a conversation that cannot exist yet is refused politely too.
    reply = client.post("/conversations/" + "0" * 24 + "/story", data={"kind": "test", "name": "x"})
    assert "Такого разговора нет" in _polite(reply, 404)
    # Rasa creates the file itself on its first start; the workbench leaves it alone.
    assert fresh_tracker.exists() == existed


def test_conversations_appear_once_rasa_writes_them_without_a_restart(fresh_tracker, workbench_config, signed_in):
    client = signed_in("olga")
    assert EMPTY_STATE in _polite(client.get("/conversations"))
    assert EMPTY_STATE in _polite(client.get("/inbox"))

    seed_tracker(workbench_config.tracker_url)  # Rasa's first start and first citizens

    senders = [c.sender_id for c in conversations()]
    listed = _polite(client.get("/conversations"))
    assert EMPTY_STATE not in listed and f"Найдено разговоров: {len(senders)}" in listed
    transcript = _polite(client.get(f"/conversations/{conversation_key(senders[0])}"))
    assert "уверенность" in transcript
    inbox = _polite(client.get("/inbox", params={"since": ""}))
    assert EMPTY_STATE not in inbox and 'name="group"' in inbox
