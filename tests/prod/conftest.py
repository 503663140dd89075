"""The production profile (PostgreSQL, Redis, nginx, two Rasa instances, two
action servers) started once per test module, on free loopback ports in a
throw-away directory."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from hotline.ops.supervisor import ProdConfig, ProdProfile, find_pg_bindir
from tests.prod.support import Citizen

# Limits small enough to test quickly; windows long enough not to roll over mid-test.
TEST_ENV = {
    "RATE_LIMIT_MESSAGES": "10",
    "RATE_LIMIT_WINDOW_SECONDS": "3600",
    "MAX_MESSAGE_CHARS": "1000",
}


def _unavailable(reason: str) -> None:
    # Never a skip, with or without CI: `make test` installs these
    # (scripts/system_packages.sh), and a silent skip hides the whole profile.
    pytest.fail(f"{reason}; run `make test` as root or install the Debian packages "
                "nginx, redis-server and postgresql", pytrace=False)


@pytest.fixture(scope="module")
def prod(trained_model: Path) -> Iterator[ProdProfile]:
    for tool in ("nginx", "redis-server"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            _unavailable(f"{tool} not found")
    if find_pg_bindir() is None:
        _unavailable("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
    base = Path(tempfile.mkdtemp(prefix="prod-"))
    config = ProdConfig.ephemeral(base, model=trained_model, extra_env=TEST_ENV)
    config.rest_ip_rate = 1000
    config.rest_ip_burst = 1000
    config.action_timeout = 5
    profile = ProdProfile(config)
    profile.start(log=lambda _m: None)
    try:
        yield profile
    finally:
        profile.stop()
        if os.environ.get("KEEP_PROD_LOGS"):
            print(f"production profile logs kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def citizen(prod: ProdProfile) -> Citizen:
    return Citizen(prod)
