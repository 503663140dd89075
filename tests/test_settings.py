"""hotline.settings is the one reader of the environment: every variable is
catalogued (name, type, default, doc), `python -m hotline.settings` lists
them without printing a secret, and a value that does not parse stops the
process naming the variable."""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hotline import settings
from hotline.settings import CATALOGUE, SettingError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("actions", "connectors", "handoff", "hotline", "voice", "workbench")
# Reads of the process environment; building a child's environment
# ({**os.environ, …}), setting a variable or a request's WSGI environ is not.
READ = re.compile(r"os\.getenv\(|os\.environ\.get\(|os\.environ\[[^\]]+\](?!\s*=[^=])|environ\.get\(\s*f?[\"'](?!HTTP_)")
# Variables of Rasa and Sanic themselves, which the production supervisor
# passes on to them with its own defaults: not the project's settings.
FOREIGN = ("TICKET_LOCK_LIFETIME", "SQL_POOL_SIZE", "SQL_MAX_OVERFLOW", "SANIC_REQUEST_MAX_SIZE")


def test_no_module_reads_the_environment_around_the_catalogue():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "hotline" / "settings.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if READ.search(line) and not any(name in line for name in FOREIGN):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_listing_names_every_variable_and_prints_no_secret():
    env = {**os.environ, "TELEGRAM_TOKEN": "123456:listing-test-token-ABCDEFGHIJ", "HANDOFF_SECRET": "s3cr3t-value"}
    listing = subprocess.run([sys.executable, "-m", "hotline.settings"], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True).stdout
    for name in CATALOGUE:
        assert re.search(rf"^{name}\s", listing, re.M), name
    assert "listing-test-token" not in listing and "s3cr3t-value" not in listing
    assert len(CATALOGUE) > 100


def test_a_value_that_does_not_parse_names_the_variable():
    from handoff.config import Settings

    with pytest.raises(SettingError, match="HANDOFF_CONSOLE_PORT"):
        Settings.load({"HANDOFF_CONSOLE_PORT": "50o7"})
    with pytest.raises(SettingError, match="VOICE_MAX_CALLS"):
        settings.get("VOICE_MAX_CALLS", {"VOICE_MAX_CALLS": "four"})
    assert settings.get("HANDOFF_CALLBACKS", {"HANDOFF_CALLBACKS": "да"}) is True


def test_a_poller_with_a_bad_value_stops_at_start_naming_it():
    env = {**os.environ, "MAX_TOKEN": "max-test-token", "MAX_POLL_TIMEOUT": "25s"}
    run = subprocess.run([sys.executable, "-m", "connectors.max.polling"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode != 0 and "MAX_POLL_TIMEOUT" in run.stderr and "max-test-token" not in run.stderr


def test_a_credentials_file_value_wins_over_the_environment():
    from connectors.max.config import MaxSettings
    from connectors.telegram.config import TelegramSettings
    from connectors.vk.channel import VKSettings

    env = {"TELEGRAM_API_URL": "http://env.example", "MAX_SEND_ATTEMPTS": "7", "VK_GROUP_ID": "5", "VK_TOKEN": "t"}
    assert TelegramSettings.load({"api_url": "http://file.example"}, env).api_url == "http://file.example"
    assert TelegramSettings.load({}, env).api_url == "http://env.example"
    assert MaxSettings.load({"max_send_attempts": "3"}, env).max_send_attempts == 3
    assert MaxSettings.load({}, env).max_send_attempts == 7
    assert VKSettings.load({"group_id": 9}, env).group_id == 9
    assert VKSettings.load({}, env).group_id == 5 and VKSettings.load({}, env).token == "t"


def test_settings_classes_default_to_the_catalogue():
    from connectors.max.config import _ENV as MAX_ENV, MaxSettings
    from connectors.telegram.config import _ENV as TELEGRAM_ENV, TelegramSettings
    from handoff.config import Settings

    for cls, names in ((TelegramSettings, TELEGRAM_ENV), (MaxSettings, MAX_ENV)):
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        for field_name, variable in names.items():
            assert CATALOGUE[variable].default == defaults[field_name], variable
    assert dataclasses.asdict(Settings.load({})) == dataclasses.asdict(Settings())
