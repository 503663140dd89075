"""`python -m handoff.admin` and the delivery registry."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from handoff import delivery
from handoff import repository as repo

ROOT = Path(__file__).resolve().parents[2]


def admin(db_url, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "handoff.admin", *args, "--database-url", db_url], cwd=ROOT,
                          capture_output=True, text=True, input=stdin, timeout=120)


def test_admin_cli_adds_lists_and_disables_operators(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    first = admin(db_url, "ensure-admin", "--password-file", str(tmp_path / "admin.txt"))
    assert first.returncode == 0 and "пароль (показывается один раз)" in first.stdout
    login, password = (tmp_path / "admin.txt").read_text().split()
    assert login == "admin" and oct((tmp_path / "admin.txt").stat().st_mode & 0o777) == "0o600"
    assert "уже есть" in admin(db_url, "ensure-admin").stdout
    added = admin(db_url, "add-operator", "--login", "ivanova", "--name", "Анна Иванова", "--telegram-id", "42",
                  "--password-stdin", stdin="long-enough-pass\n")
    assert added.returncode == 0 and "пароль" not in added.stdout
    assert admin(db_url, "add-operator", "--login", "ivanova", "--name", "X").returncode == 1
    assert admin(db_url, "add-operator", "--login", "Bad Login", "--name", "X").returncode == 1
    assert admin(db_url, "disable-operator", "--login", "ivanova").returncode == 0
    listed = admin(db_url, "list-operators").stdout
    assert "ivanova\tАнна Иванова\t(отключён, telegram 42)" in listed and "admin\tАдминистратор\t(админ)" in listed
    actions = [e.action for e in repo.audit_entries(url=db_url)]
    assert actions.count("admin_add_operator") == 2 and "admin_disable_operator" in actions


def test_delivery_registry_pull_channels_and_missing_senders():
    assert asyncio.run(delivery.deliver("rest", "c", "текст")) == "stored"
    assert asyncio.run(delivery.deliver("voice", "c", "текст")) == "stored"
    with pytest.raises(delivery.NoSender):
        asyncio.run(delivery.deliver("pigeon", "c", "текст"))

    sent = []

    @delivery.register("test-channel")
    async def _send(d):
        sent.append((d.conversation_id, d.text))
        return "pushed"

    assert asyncio.run(delivery.deliver("test-channel", "c1", "привет")) == "pushed" and sent == [("c1", "привет")]
