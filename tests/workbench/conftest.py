"""Fixtures of the workbench tests: a migrated accounts database, accounts
with and without the trainer role, a project copy to edit, and a running
workbench on a free loopback port (a real HTTP server, as a browser sees it).

    def test_x(workbench, signed_in):
        client = signed_in("trainer")      # a TrainerClient with its CSRF token
        assert client.get("/inbox").status_code == 200
"""
from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from hotline.paths import ROOT
from tests.databases import BACKENDS
from tests.handoff.handoff_helpers import AppThread, ConsoleClient, handoff_settings

PASSWORD = "correct-horse-battery"


class TrainerClient(ConsoleClient):
    """A person's browser session against the workbench (cookies, CSRF token)."""

    def login(self, login: str, password: str = PASSWORD) -> requests.Response:
        return super().login(login, password)

    def login_form(self, login: str, password: str = PASSWORD, next_: str = "/") -> requests.Response:
        page = self.http.get(f"{self.base}/login", timeout=30)
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
        return self.http.post(f"{self.base}/login", data={"login": login, "password": password,
                                                          "login_csrf": token, "next": next_}, timeout=30)


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    from hotline.db.engine import dispose_engine, init_db

    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    init_db(url)
    yield url
    dispose_engine(url)


@pytest.fixture
def make_account(db_url) -> Callable:
    """make_account(login, trainer=True, operator=False, admin=False) -> OperatorView."""
    from handoff.admin import add_operator

    def _make(login: str, trainer: bool = True, operator: bool = False, admin: bool = False):
        return add_operator(login, login.capitalize(), PASSWORD, is_admin=admin, is_operator=operator,
                            is_trainer=trainer, via="cli", url=db_url)

    return _make


@pytest.fixture
def project_dir(tmp_path) -> Path:
    """A copy of the project's editable files (data/, domain.yml, config.yml, tests' YAML, .gitignore)."""
    target = tmp_path / "project"
    shutil.copytree(ROOT / "data", target / "data")
    (target / "tests").mkdir()
    for name in ("test_stories.yml", "nlu_heldout.yml"):
        shutil.copy2(ROOT / "tests" / name, target / "tests" / name)
    # .gitignore too: the workbench keeps its own state under the copy's var/, which git must not list.
    for name in ("domain.yml", "config.yml", ".gitignore"):
        shutil.copy2(ROOT / name, target / name)
    return target


@pytest.fixture
def workbench_config(db_url, project_dir, tmp_path):
    from workbench.config import WorkbenchConfig

    return WorkbenchConfig(project_dir=project_dir, database_url=db_url,
                           tracker_url=f"sqlite:///{tmp_path / 'tracker.db'}")


@pytest.fixture
def workbench(workbench_config) -> Iterator[AppThread]:
    from workbench.app import create_app

    thread = AppThread(lambda: create_app(workbench_config, handoff_settings()))
    yield thread
    thread.stop()


@pytest.fixture
def signed_in(workbench, make_account) -> Callable[..., TrainerClient]:
    """signed_in(login, trainer=True, operator=False, admin=False): a new account, signed in."""

    def _client(login: str, **roles: bool) -> TrainerClient:
        make_account(login, **roles)
        client = TrainerClient(workbench.url)
        assert client.login(login).status_code == 200
        return client

    return _client


@pytest.fixture(scope="module", params=BACKENDS)
def seeded_tracker(request, tmp_path_factory):
    """An engine on a tracker DB holding fakes/tracker_seed.py's conversations
    (seeded at SEEDED_AT), on SQLite (make run) and PostgreSQL (production)."""
    from sqlalchemy import create_engine

    from fakes.tracker_seed import SEEDED_AT, seed_tracker

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('tracker') / 'tracker.db'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        name = f"tracker_{uuid.uuid4().hex[:12]}"
        cluster.psql(f"CREATE DATABASE {name}")
        url = cluster.url(name)
    seed_tracker(url, now=SEEDED_AT)
    engine = create_engine(url, future=True)
    yield engine
    engine.dispose()
