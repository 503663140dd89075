"""Fixtures of the handoff tests: a migrated database, operators and a running
console (talking to the fake Rasa of tests/conftest.py)."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from tests.handoff.handoff_helpers import SECRET, AppThread, ConsoleClient, handoff_settings

PASSWORD = "correct-horse-battery"


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    from hotline.db.engine import dispose_engine, init_db

    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    init_db(url)
    yield url
    dispose_engine(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url_each_backend(request, tmp_path) -> Iterator[str]:
    """A migrated database on SQLite and on PostgreSQL (the session's cluster),
    for the repository tests: production keeps the queue in PostgreSQL."""
    from hotline.db.engine import init_db
    from tests.databases import empty_database

    for url in empty_database(request, tmp_path, request.param):
        init_db(url)
        yield url


@pytest.fixture
def make_operator(db_url) -> Callable:
    from handoff.admin import add_operator

    def _make(login: str, name: str = "", admin: bool = False, telegram_id=None):
        return add_operator(login, name or login.capitalize(), PASSWORD, is_admin=admin,
                            telegram_user_id=telegram_id, via="cli", url=db_url)

    return _make


@pytest.fixture
def console_factory(db_url, fake_rasa):
    started = []

    def _start(telegram: bool = False, **overrides) -> AppThread:
        from handoff.console.app import create_app
        from handoff.rasa_client import RasaApiClient

        settings = handoff_settings(rasa_url=fake_rasa.url, **overrides)
        thread = AppThread(lambda: create_app(settings, db_url, rasa=RasaApiClient(settings, secret=SECRET),
                                              telegram=telegram))
        started.append(thread)
        return thread

    yield _start
    for thread in started:
        thread.stop()


@pytest.fixture
def console(console_factory) -> AppThread:
    return console_factory()


@pytest.fixture
def client_for(console) -> Callable[[str], ConsoleClient]:
    def _client(login: str) -> ConsoleClient:
        client = ConsoleClient(console.url)
        assert client.login(login, PASSWORD).status_code == 200
        return client

    return _client
