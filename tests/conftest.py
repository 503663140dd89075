"""Shared fixtures: the trained model (once per run), a loaded agent, running
servers, and tracker/dispatcher builders for action tests."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from hotline.ops.local_servers import LocalServers

from helpers import ROOT, load_yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def pg_cluster():
    """One throw-away PostgreSQL cluster for the whole session; each test that
    needs PostgreSQL gets its own database in it (tests/databases.py)."""
    from tests.databases import start_cluster

    yield from start_cluster()


@pytest.fixture(scope="session")
def domain_yaml() -> Dict[str, Any]:
    return load_yaml(ROOT / "domain.yml")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """Train once per test session; reuse the model if nothing changed."""
    from hotline.nlu.training import train

    return train()


@pytest.fixture(scope="session")
def agent(trained_model: Path):
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


@pytest.fixture(scope="session")
def parse(agent):
    """Parse a text with the trained NLU (synchronous helper)."""
    loop = asyncio.new_event_loop()

    def _parse(text: str) -> Dict[str, Any]:
        return loop.run_until_complete(agent.parse_message(text))

    yield _parse
    loop.close()


@pytest.fixture(scope="session")
def servers(trained_model: Path, tmp_path_factory) -> Iterator[LocalServers]:
    """Both servers, with a status store of the demo applications."""
    from hotline.status import init_db
    from hotline.status.demo import load_demo

    workdir = tmp_path_factory.mktemp("servers")
    database_url = f"sqlite:///{workdir / 'status.db'}"
    init_db(database_url)
    load_demo(database_url)
    running = LocalServers(workdir, trained_model, extra_env={"DATABASE_URL": database_url})
    yield running
    running.stop()


@pytest.fixture
def browser():
    """Headless Chromium (the Debian package) driven by Playwright: the
    console's, the widget's and the workbench's browser tests."""
    from playwright.sync_api import sync_playwright

    from tests.a11y.axe import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def fake_rasa():
    """A fake Rasa server on a free port, speaking the HTTP API the operators'
    console uses (trackers, events, trigger_intent, deliveries); `.fake` is the fake
    itself, to read what reached it or make a delivery fail."""
    from tests.handoff.handoff_helpers import SECRET, AppThread, FakeRasa

    fake = FakeRasa(SECRET)
    thread = AppThread(fake.app)
    thread.fake = fake  # type: ignore[attr-defined]
    yield thread
    thread.stop()


# --- action test helpers (the rasa-sdk objects the action server builds) ---

@pytest.fixture
def make_tracker():
    from rasa_sdk import Tracker

    def _make(events: List[Dict[str, Any]], slots: Optional[Dict[str, Any]] = None,
              sender_id: str = "test-user") -> Tracker:
        latest = next((e for e in reversed(events) if e["event"] == "user"), {"parse_data": {}})
        return Tracker(sender_id, slots or {}, latest["parse_data"], events, False, None,
                       {"name": None}, "action_listen")

    return _make


@pytest.fixture
def dispatcher():
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()
